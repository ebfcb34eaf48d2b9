"""The Python API: every number the CLI (and later the web page) shows comes from here.

Functions take plain names (chip, model, instance) and return typed objects that export with
`.model_dump()` (specs) or `.to_dict()` (results, SI units with the unit in every key). Each
takes its subject positionally and the rest by keyword (`train(model, *, chip, n_chips)`);
deprecation.py keeps the old positional forms and names working with a DeprecationWarning.
`catalog_files` adds the user's own chip and instance records on top of the built-in catalog
(as `--catalog` does on the CLI).

Files by topic: deprecation.py, rows.py, catalog.py, training.py, train_refusals.py (why no
layout fits), serve_run.py, serving.py, compare.py (the cross-chip comparisons), planning.py,
validation.py, audit.py. The API may import every layer; the CLI, views and the web app import
only this package (and errors, units), as the import-linter contract in pyproject.toml
enforces.
"""

from xpuplan.api.audit import AUDIT_TARGETS, AuditResult, audit
from xpuplan.api.catalog import (
    DEFAULT_SEQ_LEN,
    builtin_model,
    catalog_paths,
    chip,
    chip_figures,
    chips,
    chips_json,
    engines,
    instance,
    instances,
    instances_json,
    load_model,
    model_from_config,
    model_summary,
    models,
    models_json,
    system,
    system_figures,
    systems,
)
from xpuplan.api.compare import (
    DEFAULT_COMPARE_CHIP_COUNT,
    DEFAULT_COMPARE_CHIPS,
    DEFAULT_COMPARE_MODEL,
    DEFAULT_COMPARE_TOKENS,
    DEFAULT_SERVE_CHIPS,
    DEFAULT_SERVE_MODELS,
    CompareRow,
    Comparison,
    ServeCompareRow,
    ServeComparison,
    compare,
    compare_serving,
    compare_serving_defaults,
)
from xpuplan.api.planning import (
    deals,
    plan,
    plan_context,
    plan_example_text,
    plan_examples,
    plan_template,
    scenario_inputs,
)
from xpuplan.api.serve_run import parse_buckets
from xpuplan.api.serving import (
    KV_CHOICES,
    MODEL_FILL_TARGET,
    SERVE_KNOBS,
    WEIGHT_CHOICES,
    Kv,
    Weights,
    infer,
    serve_problem,
    serving_interval,
    slo_seconds,
)
from xpuplan.api.training import (
    DEFAULT_GLOBAL_BATCH_TOKENS,
    TRAIN_KNOBS,
    LayoutSearch,
    search_layouts,
    step_time_interval,
    train,
    train_json,
    train_problem,
)
from xpuplan.api.validation import validate
from xpuplan.calibrate.report import ValidationReport
from xpuplan.catalog.registry import PRICE_TERMS, PriceTerm
from xpuplan.economics.run import PlanResult
from xpuplan.limits import file_limit
from xpuplan.serve.result import InferResult, ServeResult
from xpuplan.specs.layouts import RECOMPUTE as RECOMPUTE_CHOICES
from xpuplan.specs.layouts import Recompute
from xpuplan.specs.precision import Precision
from xpuplan.train.result import TrainResult
from xpuplan.units import parse_count

PRECISIONS = tuple(p.value for p in Precision)  # GEMM precisions a training run may ask for

__all__ = [
    "AUDIT_TARGETS", "AuditResult", "CompareRow", "Comparison", "DEFAULT_COMPARE_CHIPS",
    "DEFAULT_COMPARE_CHIP_COUNT", "DEFAULT_COMPARE_MODEL", "DEFAULT_COMPARE_TOKENS",
    "DEFAULT_GLOBAL_BATCH_TOKENS", "DEFAULT_SEQ_LEN", "DEFAULT_SERVE_CHIPS",
    "DEFAULT_SERVE_MODELS", "InferResult", "KV_CHOICES", "Kv", "LayoutSearch",
    "MODEL_FILL_TARGET", "PRECISIONS", "PRICE_TERMS", "PlanResult", "Precision", "PriceTerm",
    "RECOMPUTE_CHOICES", "Recompute", "SERVE_KNOBS", "ServeCompareRow", "ServeComparison",
    "ServeResult", "TRAIN_KNOBS", "TrainResult", "ValidationReport", "WEIGHT_CHOICES", "Weights",
    "audit", "builtin_model", "catalog_paths", "chip",
    "chip_figures", "chips", "chips_json", "compare", "compare_serving",
    "compare_serving_defaults", "deals", "engines", "file_limit", "infer", "instance", "instances",
    "instances_json", "load_model", "model_from_config", "model_summary", "models",
    "models_json", "parse_buckets", "parse_count", "plan", "plan_context", "plan_example_text",
    "plan_examples", "plan_template", "scenario_inputs", "search_layouts", "serve_problem",
    "serving_interval", "slo_seconds", "step_time_interval", "system", "system_figures",
    "systems", "train", "train_json", "train_problem", "validate",
]
