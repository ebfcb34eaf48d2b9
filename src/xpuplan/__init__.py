"""xpuplan: plan AI training and serving across accelerators, from first principles.

Layers (DESIGN.md sec. 1), each importing only from those below it in this list, checked by
the import-linter contracts in pyproject.toml:

  cli.py       thin typer commands; formats what the API returns
  views/       tables, charts, HTML reports built from API results
  api/         the public surface: every number the CLI, web page and sweeps show
  calibrate/   published runs, fitted stack parameters, `validate`  |  economics/  costs, plans
  train/       training step time, memory, search                   |  serve/      serving
  hardware/    efficiencies, roofline, collectives                  |  workload/   params, FLOPs
  catalog/     data files to validated specs (one loader path)
  specs/       types only: chips, models, precisions, layouts, rejection reasons
  units.py, deadline.py (a web request's time limit), errors.py, limits.py

An hour's reading: specs/ -> workload/flops.py -> hardware/roofline.py and collectives.py ->
train/step.py and memory.py -> train/evaluate.py -> serve/evaluate.py -> api/training.py;
docs/model.md states every formula with its file.
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
