"""The Python API: every number the CLI (and later the web page) shows comes from here.

Functions take plain names (chip, model, instance) and return typed objects that export with
`.model_dump()` (specs) or `.to_dict()` (results). `catalog_files` adds the user's own chip
and instance records on top of the built-in catalog (as `--catalog` does on the CLI).
"""


from xpuplan.api.catalog import (
    DEFAULT_SEQ_LEN,
    catalog_paths,
    chip,
    chip_figures,
    chips,
    instance,
    instances,
    load_model,
    model_summary,
    models,
)
from xpuplan.api.planning import plan, plan_context, plan_examples
from xpuplan.api.serving import (
    DEFAULT_SERVE_CHIPS,
    DEFAULT_SERVE_MODELS,
    KV_CHOICES,
    MODEL_FILL_TARGET,
    SERVE_KNOBS,
    WEIGHT_CHOICES,
    ServeCompareRow,
    ServeComparison,
    compare_serving,
    infer,
    serve_problem,
    serving_interval,
)
from xpuplan.api.training import (
    DEFAULT_COMPARE_CHIP_COUNT,
    DEFAULT_COMPARE_CHIPS,
    DEFAULT_COMPARE_MODEL,
    DEFAULT_COMPARE_TOKENS,
    DEFAULT_GLOBAL_BATCH_TOKENS,
    TRAIN_KNOBS,
    CompareRow,
    Comparison,
    LayoutSearch,
    compare,
    search_layouts,
    step_time_interval,
    train,
    train_problem,
)
from xpuplan.api.validation import validate
from xpuplan.calibrate.report import ValidationReport
from xpuplan.economics.run import PlanResult
from xpuplan.serve.result import InferResult, ServeResult
from xpuplan.train.result import TrainResult

__all__ = [
    "CompareRow", "Comparison", "DEFAULT_COMPARE_CHIPS", "DEFAULT_COMPARE_CHIP_COUNT",
    "DEFAULT_COMPARE_MODEL", "DEFAULT_COMPARE_TOKENS", "DEFAULT_GLOBAL_BATCH_TOKENS",
    "DEFAULT_SEQ_LEN", "DEFAULT_SERVE_CHIPS", "DEFAULT_SERVE_MODELS", "InferResult",
    "KV_CHOICES", "LayoutSearch", "MODEL_FILL_TARGET", "PlanResult", "SERVE_KNOBS",
    "ServeCompareRow", "ServeComparison", "ServeResult", "TRAIN_KNOBS", "TrainResult",
    "ValidationReport", "WEIGHT_CHOICES", "catalog_paths", "chip", "chip_figures", "chips",
    "compare",
    "compare_serving", "infer", "instance", "instances", "load_model", "model_summary",
    "models", "plan", "plan_context", "plan_examples", "search_layouts", "serve_problem",
    "serving_interval", "step_time_interval", "train", "train_problem", "validate",
]
