"""One function per command: a validated request in, the command's `--json` object out.

Both the JSON API and the pages call these, so a page shows exactly the API's numbers. Models
named in a request must be built in (or an uploaded config.json object) unless the server was
started with `allow_paths`; a scenario's YAML is parsed with `yaml.safe_load`.
"""

from __future__ import annotations

import yaml

from xpuplan import api
from xpuplan.errors import SpecError, close_names
from xpuplan.web.runner import Settings
from xpuplan.web.schemas import (
    MAX_COMPARE_CHIPS,
    CompareRequest,
    InferRequest,
    PlanRequest,
    SearchRequest,
    TrainRequest,
)


def model_source(settings: Settings, name: str,
                 config: dict | None = None) -> api.catalog.ModelSpec | str:
    """What the API should load: the uploaded config, a built-in name, or (only with
    allow_paths) a path or Hugging Face id."""
    if config is not None:
        return api.model_from_config(config, name=name)
    if settings.allow_paths or api.builtin_model(name):
        return name
    known = [e.id for e in api.models()]
    close = close_names(name, known)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise SpecError("model", name, f"not a built-in model ({hint}see /api/models); paths and "
                    "Hugging Face ids are opened only if the server was started with "
                    "--allow-paths; upload a config.json instead")


def train(s: Settings, r: TrainRequest) -> dict:
    """One training prediction as the `train --json` dict."""
    tokens = api.parse_count(r.tokens, "tokens") if r.tokens is not None else None
    return api.train_json(model_source(s, r.model, r.config), chip=r.chip, n_chips=r.n_chips,
                          seq_len=r.seq_len, global_batch=r.global_batch,
                          precision=r.precision.value, tokens=tokens,
                          catalog_files=s.catalog_files, interval=r.interval,
                          remat_policy=r.remat_policy, dense_attention=r.dense_attention,
                          moe_capacity_factor=r.capacity_factor, **r.price(), **r.memory(),
                          **r.fixed())


def search(s: Settings, r: SearchRequest) -> dict:
    """The best training layouts as the `search --json` dict."""
    problem = api.train_problem(model_source(s, r.model, r.config), chip=r.chip,
                                n_chips=r.n_chips, seq_len=r.seq_len, global_batch=r.global_batch,
                                precision=r.precision.value, catalog_files=s.catalog_files,
                                **r.memory())
    return api.search_layouts(problem, top=r.top, **r.fixed()).to_dict()


def infer(s: Settings, r: InferRequest) -> dict:
    """One serving prediction as the `infer --json` dict."""
    return api.infer(model_source(s, r.model, r.config), chip=r.chip, n_chips=r.n_chips,
                     input_len=r.input_len, output_len=r.output_len, batch=r.batch,
                     ttft_s=r.ttft_s, tpot_s=r.tpot_s, weights=r.weights.value,
                     kv=r.kv.value if r.kv else None, disaggregated=r.disaggregated,
                     catalog_files=s.catalog_files, interval=r.interval,
                     activations=r.activations.value if r.activations else None,
                     engine=r.engine, tp=r.tp, pp=r.pp, ep=r.ep, **r.price(),
                     **r.run_settings()).to_dict()


def compare(s: Settings, r: CompareRequest) -> dict:
    """A training or serving comparison across chips as the `compare --json` dict."""
    names = r.chip_names()
    if not names or len(names) > MAX_COMPARE_CHIPS:
        raise SpecError("chip", r.chip, f"give 1 to {MAX_COMPARE_CHIPS} comma-separated chips")
    for name in names:  # unknown names fail before any search
        api.chip(name, catalog_files=s.catalog_files)
    model = model_source(s, r.model, r.config)
    if r.serve:
        models, names, n_chips = api.compare_serving_defaults(model, chips=names,
                                                              n_chips=r.n_chips)
        return api.compare_serving(models, chips=names, input_len=r.input_len,
                                   output_len=r.output_len, n_chips=n_chips,
                                   catalog_files=s.catalog_files, engine=r.engine,
                                   **r.price()).to_dict()
    if r.engine is not None:
        raise SpecError("engine", r.engine, "only with serve (training runs no serving engine)")
    return api.compare(model, chips=names, n_chips=r.n_chips,
                       tokens=api.parse_count(r.tokens, "tokens"), seq_len=r.seq_len,
                       global_batch=r.global_batch, precision=r.precision.value,
                       catalog_files=s.catalog_files, **r.price()).to_dict()


def plan_result(s: Settings, r: PlanRequest) -> api.PlanResult:
    """The PlanResult of a built-in example or of a scenario (object or YAML text)."""
    if (r.example is None) == (r.scenario is None):
        raise SpecError("scenario", r.example or r.scenario,
                        "give either example (a built-in name) or scenario")
    if r.example is not None:
        return api.plan(example=r.example, catalog_files=s.catalog_files)
    data = parse_yaml(r.scenario) if isinstance(r.scenario, str) else r.scenario
    if not isinstance(data, dict):
        raise SpecError("scenario", type(data).__name__, "must be a mapping of keys (YAML)")
    if not s.allow_paths:
        for name in _model_names(data):
            model_source(s, name)
    return api.plan(scenario=data, catalog_files=s.catalog_files)


def plan(s: Settings, r: PlanRequest) -> dict:
    """The plan of a request as the `plan --json` dict."""
    return plan_result(s, r).to_dict()


def parse_yaml(text: str) -> object:
    """YAML text to data with `yaml.safe_load`; a syntax error names its line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError("scenario", "YAML", f"{where}{problem}") from None


def _model_names(data) -> list[str]:
    """Every `model: NAME` string anywhere in a parsed scenario."""
    if isinstance(data, dict):
        own = [v for k, v in data.items() if k == "model" and isinstance(v, str)]
        return own + [n for v in data.values() for n in _model_names(v)]
    if isinstance(data, list):
        return [n for v in data for n in _model_names(v)]
    return []


def model(s: Settings, name: str, seq_len: int) -> dict:
    """One model's size and shape at `seq_len` as the `model --json` dict."""
    return api.model_summary(model_source(s, name), seq_len=seq_len).to_dict()


# validate has no inputs, so its size is fixed: it may run past the per-request limit (about
# a minute cold), and api.validate keeps the first report for the process.
VALIDATE_TIME_LIMIT_S = 600.0


def validate() -> dict:
    """`xpuplan validate --json` (api.validate computes it once per process)."""
    return api.validate().to_dict()
