"""xpuplan: plan AI training and serving across accelerators, from first principles.

Layers (DESIGN.md sec. 1), each importing only from those above it:
catalog (data files) -> specs (pydantic) -> workload (params, FLOPs, bytes) -> hardware
(efficiencies) and collectives (alpha-beta) -> train (vectorised step time and memory) ->
search -> cost -> validation -> api -> cli.
"""

from xpuplan.api import (
    Comparison,
    LayoutSearch,
    PlanResult,
    ServeComparison,
    ServeResult,
    TrainResult,
    ValidationReport,
    chip,
    chips,
    compare,
    compare_serving,
    infer,
    instance,
    instances,
    load_model,
    model_summary,
    models,
    plan,
    search_layouts,
    train,
    train_problem,
    validate,
)
from xpuplan.errors import (
    CatalogError,
    InfeasibleError,
    SolverError,
    SpecError,
    UnknownNameError,
    XpuplanError,
)

__all__ = [
    "Comparison",
    "LayoutSearch",
    "PlanResult",
    "ServeComparison",
    "ServeResult",
    "TrainResult",
    "ValidationReport",
    "CatalogError",
    "InfeasibleError",
    "SolverError",
    "SpecError",
    "UnknownNameError",
    "XpuplanError",
    "chip",
    "chips",
    "compare",
    "compare_serving",
    "instance",
    "infer",
    "instances",
    "load_model",
    "model_summary",
    "models",
    "plan",
    "search_layouts",
    "train",
    "train_problem",
    "validate",
]
__version__ = "0.1.0"
