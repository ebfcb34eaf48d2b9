"""The Python API: every number the CLI (and later the web page) shows comes from here.

Functions take plain names (chip, model, instance) and return typed objects that export with
`.model_dump()` (specs) or `.to_dict()` (results). `catalog_files` adds the user's own chip
and instance records on top of the built-in catalog (as `--catalog` does on the CLI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from xpuplan.catalog.models import ModelEntry, model_entries
from xpuplan.cost.training import training_run_cost
from xpuplan.errors import InfeasibleError, SpecError, XpuplanError
from xpuplan.infer.layout import ServeProblem
from xpuplan.infer.result import InferResult, infer_result
from xpuplan.plan.context import PlanContext
from xpuplan.plan.run import PlanResult, examples, load_example, run_scenario
from xpuplan.plan.scenario import ServingJob, TrainingJob, load_scenario
from xpuplan.search.serve_search import ServeSearch, search_serving
from xpuplan.search.train_search import SearchResult, search
from xpuplan.specs.hardware import ChipSpec, InstanceSpec
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.model_loader import load_model as _load_model
from xpuplan.specs.precision import Precision, parse_precision
from xpuplan.specs.registry import hardware_catalog
from xpuplan.train.evaluate import REASONS, TrainProblem, evaluate
from xpuplan.train.layout import RECOMPUTE, Layouts
from xpuplan.train.result import TrainResult, train_result
from xpuplan.validation.report import ValidationReport, validation_report
from xpuplan.workload.summary import ModelSummary, summarize

DEFAULT_SEQ_LEN = 4096  # sequence length for per-token FLOPs when none is given


def chips(catalog_files: list[str] | None = None) -> list[ChipSpec]:
    """Every chip in the catalog, in catalog order."""
    return list(hardware_catalog(catalog_files).chips.values())


def chip(name: str, catalog_files: list[str] | None = None) -> ChipSpec:
    """One chip by id or alias ('h100', 'trainium2', 'trillium', 'ironwood')."""
    return hardware_catalog(catalog_files).chip(name)


def instances(catalog_files: list[str] | None = None) -> list[InstanceSpec]:
    return list(hardware_catalog(catalog_files).instances.values())


def instance(name: str, catalog_files: list[str] | None = None) -> InstanceSpec:
    return hardware_catalog(catalog_files).instance(name)


def models() -> list[ModelEntry]:
    """The built-in models with their published sizes and sources."""
    return list(model_entries().values())


def load_model(source: str | os.PathLike) -> ModelSpec:
    """A model from a built-in name, a config.json path or folder, or a Hugging Face id."""
    return _load_model(source)


def model_summary(source: str | os.PathLike | ModelSpec,
                  seq_len: int = DEFAULT_SEQ_LEN) -> ModelSummary:
    """Parameters, FLOPs per token and weight bytes of a model."""
    if seq_len <= 0:
        raise SpecError("seq_len", seq_len, "must be a positive number of tokens")
    m = source if isinstance(source, ModelSpec) else _load_model(source)
    return summarize(m, seq_len)


def chip_figures(c: ChipSpec) -> dict:
    """A chip as JSON: id, facts, and each figure as {value, unit, source}."""
    units = {"bf16_dense_flops": "FLOP/s", "fp8_dense_flops": "FLOP/s",
             "fp4_dense_flops": "FLOP/s", "int8_dense_ops": "OP/s", "hbm_bytes": "B",
             "hbm_bw": "B/s", "scaleup_bw_unidir": "B/s", "scaleout_bw_unidir": "B/s",
             "tdp_w": "W"}
    figures = {f: {"value": getattr(c, f), "unit": u, "source": c.sources.get(f, c.source)}
               for f, u in units.items() if getattr(c, f) is not None}
    facts = c.model_dump(exclude=set(units) | {"sources"})
    return {**facts, "figures": figures}


# ---------------------------------------------------------------------------- training

TRAIN_KNOBS = ("tp", "pp", "dp", "cp", "ep", "vpp", "micro_batch", "zero", "recompute", "sp")
# Llama 3 405B ended pre-training at 16M tokens per step (Llama 3 paper, sec. 3.4.1).
DEFAULT_GLOBAL_BATCH_TOKENS = 16 * 1024 * 1024


def train_problem(model: str | os.PathLike | ModelSpec, chip_name: str, n_chips: int,
                  seq_len: int = 8192, global_batch: int | None = None,
                  precision: str = "bf16", catalog_files: list[str] | None = None
                  ) -> TrainProblem:
    """Validate the inputs of a training prediction and gather what it needs."""
    from xpuplan.hardware.efficiency import chip_efficiency, reserved_fraction

    for name, value in (("chips", n_chips), ("seq_len", seq_len)):
        if not isinstance(value, int) or value <= 0:
            raise SpecError(name, value, "must be a positive integer")
    if global_batch is None:
        global_batch = max(1, DEFAULT_GLOBAL_BATCH_TOKENS // seq_len)
    if global_batch <= 0:
        raise SpecError("global_batch", global_batch, "must be a positive number of sequences")
    cat = hardware_catalog(catalog_files)
    c = cat.chip(chip_name)
    p = parse_precision(precision)
    c.dense_flops(p)  # raises a SpecError when the chip has no such rate
    if c.hbm_bw is None:
        raise SpecError("chip", c.id, "has no HBM bandwidth in the catalog; add one with "
                        "--catalog (hbm_tb_per_s) to predict its step time")
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    return TrainProblem(model=m, chip=c, efficiency=chip_efficiency(c, vendor_of),
                        n_chips=n_chips, seq_len=seq_len, global_batch=global_batch,
                        precision=p, reserved_bytes=reserved_fraction() * c.hbm_bytes)


def search_layouts(problem: TrainProblem, top: int = 5, **fixed) -> tuple[list[TrainResult],
                                                                            SearchResult]:
    """The best `top` fitting layouts (fixed knobs pinned); InfeasibleError if none fits."""
    fixed = _check_fixed(fixed)
    result = search(problem, fixed)
    if len(result.order) == 0:
        raise _nothing_fits(problem, result, fixed)
    best = [train_result(problem, result.evaluated, int(i)) for i in result.order[:top]]
    return best, result


def train(model: str | os.PathLike | ModelSpec, chip: str, chips: int, seq_len: int = 8192,
          global_batch: int | None = None, precision: str = "bf16", tokens: float | None = None,
          catalog_files: list[str] | None = None, price_term: str = "on_demand",
          **fixed) -> TrainResult:
    """Predict training on `chips` chips; unset layout knobs are searched for the fastest.

    With every knob given this evaluates exactly that layout and raises a SpecError naming
    the constraint it breaks (e.g. memory: needed vs available bytes).
    """
    problem = train_problem(model, chip, chips, seq_len, global_batch, precision,
                            catalog_files)
    fixed = _check_fixed(fixed)
    if all(fixed.get(k) is not None for k in ("tp", "pp", "dp")):
        result = evaluate(problem, Layouts.build(**{k: v for k, v in fixed.items()
                                                    if v is not None}))
        _raise_if_illegal(problem, result)
        best = train_result(problem, result, 0)
    else:
        best = search_layouts(problem, top=1, **fixed)[0][0]
    if tokens is not None:
        cat = hardware_catalog(catalog_files)
        best.run = training_run_cost(tokens, best.tokens_per_s, chips, problem.chip, cat,
                                     price_term)
    return best


def _check_fixed(fixed: dict) -> dict:
    unknown = set(fixed) - set(TRAIN_KNOBS)
    if unknown:
        raise SpecError("layout", sorted(unknown)[0], f"allowed knobs: {', '.join(TRAIN_KNOBS)}")
    out = {k: v for k, v in fixed.items() if v is not None}
    if isinstance(out.get("recompute"), str):
        if out["recompute"] not in RECOMPUTE:
            raise SpecError("recompute", out["recompute"], f"allowed: {', '.join(RECOMPUTE)}")
        out["recompute"] = RECOMPUTE.index(out["recompute"])
    for k, v in out.items():
        if k == "sp":
            continue
        low = 0 if k in ("zero", "recompute") else 1
        if not isinstance(v, int) or v < low or (k == "zero" and v > 3):
            allowed = "0-3" if k == "zero" else f"an integer >= {low}"
            raise SpecError(k, v, f"must be {allowed}")
    return out


def _raise_if_illegal(p: TrainProblem, ev) -> None:
    reason = int(ev.reason[0])
    lay = ev.layouts.row(0)
    m = p.model
    if reason == 0:
        return
    if reason == 8:
        need, have = float(ev.memory_per_chip_bytes[0]), p.chip.hbm_bytes
        raise SpecError("layout", _layout_text(lay),
                        f"needs {need / 1e9:.1f} GB per chip, {p.chip.name} has "
                        f"{have / 1e9:.0f} GB ({(need - have) / 1e9:.1f} GB short; reserve "
                        f"{p.reserved_bytes / 1e9:.1f} GB included)")
    detail = {
        1: f"tp·pp·dp·cp = {lay['tp'] * lay['pp'] * lay['dp'] * lay['cp']}, chips = {p.n_chips}",
        2: f"tp = {lay['tp']}, attention heads = {m.n_heads}, KV heads = {m.n_kv_heads}",
        3: f"pp = {lay['pp']}, vpp = {lay['vpp']}, layers = {m.n_layers}",
        4: f"ep = {lay['ep']}, experts = {m.moe.n_routed_experts if m.moe else 'none (dense)'}",
        5: f"dp·micro_batch = {lay['dp'] * lay['micro_batch']}, global batch = "
           f"{p.global_batch}",
        6: f"cp = {lay['cp']}, sequence length = {p.seq_len}",
        7: f"vpp = {lay['vpp']}, pp = {lay['pp']}",
    }[reason]
    raise SpecError("layout", _layout_text(lay), f"{REASONS[reason]} ({detail})")


def _layout_text(lay: dict) -> str:
    return " ".join(f"{k}={lay[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                               "micro_batch", "zero", "recompute"))


def _nothing_fits(p: TrainProblem, result: SearchResult, fixed: dict) -> InfeasibleError:
    """Say why nothing fits, and the smallest chip count (doubling) at which something does."""
    legal = result.evaluated.legal
    if not legal.any():
        return InfeasibleError(f"no legal layout of {p.model.name} on {p.n_chips} chips with "
                               f"the fixed knobs {fixed or '{}'} and global batch "
                               f"{p.global_batch}")
    need = float(result.evaluated.memory_per_chip_bytes[legal].min())
    n = p.n_chips
    for _ in range(16):
        n *= 2
        bigger = replace(p, n_chips=n, global_batch=max(p.global_batch, n))
        if len(search(bigger, fixed).order):
            return InfeasibleError(
                f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout needs "
                f"{need / 1e9:.1f} GB per chip, {p.chip.hbm_bytes / 1e9:.0f} GB available; "
                f"{n} chips would fit", needed=need, available=p.chip.hbm_bytes)
    return InfeasibleError(f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout "
                           f"needs {need / 1e9:.1f} GB per chip", needed=need,
                           available=p.chip.hbm_bytes)


def step_time_interval(problem: TrainProblem, result: TrainResult, samples: int = 2000,
                       seed: int = 0) -> dict:
    """P10/P50/P90 of step time, tokens/s and (if priced) cost for one layout.

    The stack's fitted compute scale is sampled log-normally with its calibration spread
    (compute_scale_sd); everything else held at its point value. Vectorised: one evaluate call.
    """
    sd = problem.efficiency.stack.compute_scale_sd
    draws = np.exp(np.random.default_rng(seed).normal(0.0, sd, samples))
    lay = Layouts.build(**{k: v if k != "recompute" else RECOMPUTE.index(v)
                           for k, v in result.parallelism.items()})
    ev = evaluate(problem, lay, compute_scale=draws)
    q = (10, 50, 90)
    out = {"quantiles": list(q), "compute_scale_sd": sd,
           "step_time_s": np.percentile(ev.step_time_s, q).tolist(),
           "tokens_per_s": np.percentile(ev.tokens_per_s, q).tolist()}
    if result.run and result.run.get("cost_usd") is not None:
        scale = ev.step_time_s / result.step_time_s
        out["time_to_train_s"] = np.percentile(result.run["time_to_train_s"] * scale, q).tolist()
        out["cost_usd"] = np.percentile(result.run["cost_usd"] * scale, q).tolist()
    return out


# ---------------------------------------------------------------------------- compare

DEFAULT_COMPARE_MODEL = "llama-3.1-70b"
DEFAULT_COMPARE_CHIPS = ("h100-sxm", "h200", "b200", "gb200", "trn2", "tpu-v5p", "tpu-v6e",
                         "mi300x")
DEFAULT_COMPARE_CHIP_COUNT = 4096
DEFAULT_COMPARE_TOKENS = 15e12  # Llama 3 was pre-trained on about 15T tokens (Meta, 2024)


@dataclass
class CompareRow:
    chip: str
    result: TrainResult | None
    error: str | None

    def to_dict(self) -> dict:
        return {"chip": self.chip, "error": self.error,
                **(self.result.to_dict() if self.result else {})}


def compare(model: str | os.PathLike = DEFAULT_COMPARE_MODEL,
            chips: tuple[str, ...] | list[str] = DEFAULT_COMPARE_CHIPS,
            n_chips: int = DEFAULT_COMPARE_CHIP_COUNT, tokens: float = DEFAULT_COMPARE_TOKENS,
            seq_len: int = 8192, global_batch: int | None = None, precision: str = "bf16",
            catalog_files: list[str] | None = None, progress=None) -> list[CompareRow]:
    """Best layout, time, cost and MFU of training `model` on `n_chips` of each chip.

    A chip that cannot run the job (precision missing, nothing fits) gets its reason instead
    of a result; an unknown chip name is still an error.
    """
    m = _load_model(model)
    rows = []
    for name in chips:
        hardware_catalog(catalog_files).chip(name)  # unknown names fail loudly
        try:
            r = train(m, name, n_chips, seq_len, global_batch, precision, tokens, catalog_files)
            rows.append(CompareRow(chip=name, result=r, error=None))
        except (InfeasibleError, SpecError) as exc:
            rows.append(CompareRow(chip=name, result=None, error=str(exc)))
        if progress is not None:
            progress(name)
    return rows


def validate() -> ValidationReport:
    """Every usable published run predicted in-sample and leave-one-source-out."""
    return validation_report()


# ---------------------------------------------------------------------------- inference

SERVE_KNOBS = ("tp", "pp", "ep", "batch")
WEIGHT_CHOICES = ("bf16", "fp8", "int8", "fp4")
KV_CHOICES = ("bf16", "fp8")
MODEL_FILL_TARGET = 0.7  # default chip count: weights use at most 70 % of usable HBM


def serve_problem(model: str | os.PathLike | ModelSpec, chip_name: str,
                  chips: int | None = None, input_len: int = 1024, output_len: int = 1024,
                  weights: str = "bf16", kv: str | None = None, disaggregated: bool = False,
                  catalog_files: list[str] | None = None, price_term: str = "on_demand"
                  ) -> tuple[ServeProblem, str | None]:
    """Validate a serving question; default chips = the smallest power of two whose usable
    HBM holds the weights at MODEL_FILL_TARGET. Returns the problem and the priced instance."""
    from xpuplan.hardware.efficiency import (
        chip_efficiency,
        reserved_fraction,
        serve_calibration_for,
    )

    for name, value in (("input_len", input_len), ("output_len", output_len)):
        if not isinstance(value, int) or value <= 0:
            raise SpecError(name, value, "must be a positive number of tokens")
    if chips is not None and (not isinstance(chips, int) or chips <= 0):
        raise SpecError("chips", chips, "must be a positive integer")
    cat = hardware_catalog(catalog_files)
    c = cat.chip(chip_name)
    w = _serving_precision(c, weights, "weights", WEIGHT_CHOICES)
    k = _serving_precision(c, kv or ("fp8" if w in (Precision.fp8, Precision.fp4)
                                     and c.supports("fp8") else "bf16"), "kv", KV_CHOICES)
    if c.hbm_bw is None:
        raise SpecError("chip", c.id, "has no HBM bandwidth in the catalog")
    compute = w if w in (Precision.fp8, Precision.fp4, Precision.int8) else Precision.bf16
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    reserve = reserved_fraction() * c.hbm_bytes
    if chips is None:
        need = summarize(m, 1).weight_bytes[w.value]
        chips = 1
        while need > MODEL_FILL_TARGET * chips * (c.hbm_bytes - reserve) and chips < 2**20:
            chips *= 2
    found = cat.price_for(c.id, price_term)
    vendor_of = {key: v.vendor for key, v in cat.chips.items()}
    return ServeProblem(model=m, chip=c, efficiency=chip_efficiency(c, vendor_of),
                        calibration=serve_calibration_for(c), n_chips=chips,
                        input_len=input_len, output_len=output_len, weights=w, kv=k,
                        compute=compute, reserved_bytes=reserve,
                        usd_per_chip_s=found[0].usd_per_chip_s(found[1]) if found else None,
                        disaggregated=disaggregated), (found[0].id if found else None)


def _serving_precision(c: ChipSpec, value: str, field: str, allowed: tuple) -> Precision:
    if value not in allowed:
        raise SpecError(field, value, f"allowed: {', '.join(allowed)}")
    p = Precision(value)
    if p != Precision.bf16 and not c.supports(p):
        have = [q for q in allowed if q == "bf16" or c.supports(q)]
        raise SpecError(field, value, f"{c.name} has no native {value} support in the catalog "
                        f"(it supports: {', '.join(have)})")
    return p


def infer(model: str | os.PathLike | ModelSpec, chip: str, chips: int | None = None,
          input_len: int = 1024, output_len: int = 1024, batch: int | None = None,
          ttft_ms: float | None = None, tpot_ms: float | None = None, weights: str = "bf16",
          kv: str | None = None, disaggregated: bool = False,
          catalog_files: list[str] | None = None, **fixed) -> InferResult:
    """Serve `model` on `chips` chips: the layout and batch that maximise output tokens/s per
    chip (per dollar at one price) within memory and the SLO; with `batch` fixed, that batch.
    """
    unknown = set(fixed) - set(SERVE_KNOBS)
    if unknown:
        raise SpecError("layout", sorted(unknown)[0], f"allowed: {', '.join(SERVE_KNOBS)}")
    fixed = {k: v for k, v in fixed.items() if v is not None}
    if batch is not None:
        fixed["batch"] = batch
    for k, v in fixed.items():
        if not isinstance(v, int) or v <= 0:
            raise SpecError(k, v, "must be a positive integer")
    for name, v in (("ttft_ms", ttft_ms), ("tpot_ms", tpot_ms)):
        if v is not None and v <= 0:
            raise SpecError(name, v, "must be > 0 ms")
    problem, instance = serve_problem(model, chip, chips, input_len, output_len, weights, kv,
                                      disaggregated, catalog_files)
    found = search_serving(problem, fixed, None if ttft_ms is None else ttft_ms / 1e3,
                           None if tpot_ms is None else tpot_ms / 1e3)
    ev = found.evaluated
    if found.best is None:
        raise _serving_infeasible(problem, found, ttft_ms, tpot_ms)
    mode = "slo" if (ttft_ms or tpot_ms) else ("fixed_batch" if batch else "offline")
    result = infer_result(problem, ev, found.best, mode, instance)
    result.pareto = [{"tpot_ms": float(ev.tpot_s[i]) * 1e3, "ttft_ms": float(ev.ttft_s[i]) * 1e3,
                      "output_tokens_per_s_per_chip": float(ev.output_tokens_per_s_per_chip[i]),
                      **ev.layouts.row(int(i))} for i in found.pareto]
    return result


def _serving_infeasible(p: ServeProblem, found: ServeSearch, ttft_ms, tpot_ms) -> XpuplanError:
    ev = found.evaluated
    if not ev.fits.any():
        weights = summarize(p.model, 1).weight_bytes[p.weights.value]
        usable = p.n_chips * (p.chip.hbm_bytes - p.reserved_bytes)
        short = weights - usable
        need = 1
        while summarize(p.model, 1).weight_bytes[p.weights.value] > need * (
                p.chip.hbm_bytes - p.reserved_bytes) * MODEL_FILL_TARGET and need < 2**20:
            need *= 2
        what = (f"{short / 1e9:.1f} GB missing" if short > 0 else
                "no room left for the KV cache of one sequence")
        return SpecError("chips", p.n_chips,
                         f"{p.model.name} weights ({weights / 1e9:.1f} GB {p.weights.value}) do "
                         f"not fit with a KV cache on {p.n_chips} x {p.chip.name} ({what}); "
                         f"{need} chips would")
    fit = np.flatnonzero(ev.fits)
    return InfeasibleError(
        f"no layout meets TTFT <= {ttft_ms} ms and TPOT <= {tpot_ms} ms on {p.n_chips} x "
        f"{p.chip.name}; best reachable: TTFT {ev.ttft_s[fit].min() * 1e3:.1f} ms, "
        f"TPOT {ev.tpot_s[fit].min() * 1e3:.2f} ms")


DEFAULT_SERVE_MODELS = ("llama-3.1-70b", "deepseek-v3")  # a 70B-class dense model, a large MoE
DEFAULT_SERVE_CHIPS = ("h200", "b200", "gb200", "mi300x", "mi355x", "trn2", "tpu-v6e")


@dataclass
class ServeCompareRow:
    model: str
    chip: str
    result: InferResult | None
    error: str | None

    def to_dict(self) -> dict:
        out = self.result.to_dict() if self.result else {}
        out.pop("pareto", None)
        return {"model": self.model, "chip": self.chip, "error": self.error, **out}


def compare_serving(models: tuple[str, ...] | list[str] = DEFAULT_SERVE_MODELS,
                    chips: tuple[str, ...] | list[str] = DEFAULT_SERVE_CHIPS,
                    input_len: int = 1024, output_len: int = 1024, weights: str = "auto",
                    ttft_ms: float | None = None, tpot_ms: float | None = None,
                    n_chips: int | None = None, catalog_files: list[str] | None = None,
                    progress=None) -> list[ServeCompareRow]:
    """Each model served on each chip (weights 'auto' = fp8 where the chip has it, else bf16)."""
    rows = []
    for model in models:
        m = _load_model(model)
        for name in chips:
            c = hardware_catalog(catalog_files).chip(name)
            w = ("fp8" if c.supports("fp8") else "bf16") if weights == "auto" else weights
            try:
                r = infer(m, name, n_chips, input_len, output_len, None, ttft_ms, tpot_ms, w,
                          catalog_files=catalog_files)
                rows.append(ServeCompareRow(model=m.name, chip=c.id, result=r, error=None))
            except (InfeasibleError, SpecError) as exc:
                rows.append(ServeCompareRow(model=m.name, chip=c.id, result=None,
                                            error=str(exc)))
            if progress is not None:
                progress(name)
    return rows


# ---------------------------------------------------------------------------- planning


def plan_context(catalog_files: list[str] | None = None, seed: int = 0) -> PlanContext:
    """Bind the planning layer to the training and inference models and the catalog."""
    from xpuplan.hardware.efficiency import calibration_for

    cat = hardware_catalog(catalog_files)

    def run_training(job: TrainingJob, chip_name: str, n_chips: int) -> TrainResult:
        return train(job.model, chip_name, n_chips, job.seq_len, None, job.precision,
                     job.tokens, catalog_files)

    def run_serving(job: ServingJob, chip_name: str) -> InferResult:
        c = cat.chip(chip_name)
        weights = job.weights
        if weights == "auto":
            weights = "fp8" if c.supports("fp8") else "bf16"
        return infer(job.model, chip_name, None, job.input_len, job.output_len, None,
                     job.ttft_ms, job.tpot_ms, weights, catalog_files=catalog_files)

    return PlanContext(catalog=cat, train=run_training, serve=run_serving,
                       efficiency_sd=lambda chip: calibration_for(
                           cat.chip(chip)).compute_scale_sd, seed=seed)


def plan(scenario: str | os.PathLike | None = None, example: str | None = None,
         catalog_files: list[str] | None = None) -> PlanResult:
    """Run a scenario file, or a built-in example by name (`plan_examples()`)."""
    if (scenario is None) == (example is None):
        raise SpecError("scenario", scenario or example, "give a scenario file or an example")
    s = load_example(example) if example else load_scenario(scenario)
    return run_scenario(plan_context(catalog_files), s)


def plan_examples() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    return {name: load_example(name).description for name in examples()}
