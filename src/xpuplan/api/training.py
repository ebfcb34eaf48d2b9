"""API: training predictions, layout search, interval and the cross-chip comparison."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from xpuplan.api.deprecation import legacy_call
from xpuplan.api.rows import RowsResult
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.economics.run_cost import training_run_cost
from xpuplan.errors import InfeasibleError, SpecError, XpuplanError
from xpuplan.hardware.efficiency import chip_efficiency, reserved_fraction
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.bounds import bound_for, check, check_all
from xpuplan.specs.layouts import RECOMPUTE, Layouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision, parse_precision
from xpuplan.specs.samples import Samples
from xpuplan.train.evaluate import TrainProblem, TrainReason, evaluate
from xpuplan.train.result import TrainResult, train_result
from xpuplan.train.search import SearchResult, search
from xpuplan.workload.layer import layer_shape
from xpuplan.workload.remat import recompute_fraction

TRAIN_KNOBS = ("tp", "pp", "dp", "cp", "ep", "vpp", "micro_batch", "zero", "recompute", "sp")
# `recompute` takes a name (RECOMPUTE) or a share of the forward in [0, 1] (_recompute_knob)
# Llama 3 405B ended pre-training at 16M tokens per step (Llama 3 paper, sec. 3.4.1).
DEFAULT_GLOBAL_BATCH_TOKENS = 16 * 1024 * 1024
# Llama 3 pre-trains at 8K tokens per sequence before long-context training (same section).
DEFAULT_TRAIN_SEQ_LEN = 8192


@legacy_call("chip_name", "n_chips", "seq_len", "global_batch", "precision", "catalog_files",
             renamed={"chip_name": "chip"})
def train_problem(model: str | os.PathLike | ModelSpec, *, chip: str, n_chips: int,
                  seq_len: int | None = None, global_batch: int | None = None,
                  precision: str = "bf16", catalog_files: list[str] | None = None,
                  dense_attention: bool = False, moe_capacity_factor: float | None = None
                  ) -> TrainProblem:
    """Validate the inputs of a training prediction and gather what it needs.

    `seq_len` defaults to 8192, or to the model's learned position table if shorter (GPT-2).
    `dense_attention`: the run's attention materialises the S×S scores (no flash kernel);
    `moe_capacity_factor`: a token-dropping MoE's expert capacity (None: dropless); both as
    TrainProblem documents them (train/evaluate.py).
    """
    check_all(chips=n_chips, seq_len=seq_len, global_batch=global_batch,
              moe_capacity_factor=moe_capacity_factor)
    if not isinstance(dense_attention, bool):
        raise SpecError("dense_attention", dense_attention, "must be true or false")
    if n_chips is None:
        raise SpecError("chips", n_chips, "must be given")
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    positions = m.learned_positions or None
    if seq_len is None:
        seq_len = min(DEFAULT_TRAIN_SEQ_LEN, positions or DEFAULT_TRAIN_SEQ_LEN)
    if positions and seq_len > positions:
        raise SpecError("seq_len", seq_len, f"{m.name} has a learned position table of "
                        f"{positions} rows, so at most {positions} tokens per sequence")
    if global_batch is None:
        global_batch = max(1, DEFAULT_GLOBAL_BATCH_TOKENS // seq_len)
    check("tokens_per_step", global_batch * seq_len)
    cat = hardware_catalog(catalog_files)
    c = cat.chip(chip)
    p = parse_precision(precision)
    c.dense_flops(p)  # raises a SpecError when the chip has no such rate
    c.dense_flops(Precision.bf16)  # attention runs at bf16 under every GEMM recipe
    if c.hbm_bw is None:
        raise SpecError("chip", c.id, "has no HBM bandwidth in the catalog; add one with "
                        "--catalog (hbm_tb_per_s) to predict its step time")
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    return TrainProblem(model=m, chip=c, efficiency=chip_efficiency(c, vendor_of, precision=p),
                        n_chips=n_chips, seq_len=seq_len, global_batch=global_batch,
                        precision=p, reserved_bytes=reserved_fraction() * c.hbm_bytes,
                        dense_attention=dense_attention,
                        moe_capacity_factor=None if moe_capacity_factor is None
                        else float(moe_capacity_factor))


@dataclass
class LayoutSearch:
    """The best fitting layouts of one search and its size; unpacks as `(best, found)`."""

    best: list[TrainResult]
    found: SearchResult

    def __iter__(self):
        return iter((self.best, self.found))

    def to_dict(self) -> dict:
        """What `xpuplan search --json` prints."""
        return {"configs_evaluated": self.found.configs_evaluated,
                "search_time_s": self.found.search_time_s,
                "configs_fitting": int(len(self.found.order)),
                "top": [b.to_dict() for b in self.best]}


@legacy_call("top")
def search_layouts(problem: TrainProblem, *, top: int = 5, **fixed) -> LayoutSearch:
    """The best `top` fitting layouts (fixed knobs pinned); InfeasibleError if none fits."""
    check("top", top)
    fixed = _check_fixed(fixed)
    result = search(problem, fixed)
    if len(result.order) == 0:
        raise _why_nothing(problem, result, fixed)
    best = [train_result(problem, result.evaluated, int(i)) for i in result.order[:top]]
    for b in best:
        b.confidence = confidence_for("train", problem.chip, problem.precision).to_dict()
    return LayoutSearch(best=best, found=result)


@legacy_call("chip", "chips", "seq_len", "global_batch", "precision", "tokens",
             "catalog_files", "price_term", "usd_per_chip_hour", "price_fallback",
             renamed={"chips": "n_chips"})
def train(model: str | os.PathLike | ModelSpec, *, chip: str, n_chips: int,
          seq_len: int | None = None,
          global_batch: int | None = None, precision: str = "bf16", tokens: float | None = None,
          catalog_files: list[str] | None = None, price_term: str = "on_demand",
          usd_per_chip_hour: float | None = None, price_fallback: bool = True,
          dense_attention: bool = False, moe_capacity_factor: float | None = None,
          remat_policy: str | None = None, **fixed) -> TrainResult:
    """Predict training on `n_chips` chips; the knobs given are fixed, the rest are searched
    for the fastest layout that fits. The run is priced at `usd_per_chip_hour` when given,
    else at the cheapest catalog price under `price_term` (then the next priced term, unless
    `price_fallback` is False).

    The step time is `train/step.py: step_time` (its docstring states the formula), summed
    and checked for memory in `train/evaluate.py: evaluate`, searched in `train/search.py`.

    A given layout that breaks a rule raises a SpecError naming the constraint and by how
    much. A stated layout (tp and pp given) whose only fault is that the memory estimate
    exceeds HBM is predicted as stated, for the leanest setting of the free knobs, with
    `fits` False and the takeaway saying so (published runs do run such layouts); with tp or
    pp left free, a layout that fits nowhere raises, naming the bytes needed vs available.

    `dense_attention` and `moe_capacity_factor` as in `train_problem`; `remat_policy` a
    MaxText remat policy (a preset or custom:name=device|offload|remat;...), recomputing the
    share of each layer's forward that policy does (workload/remat.py), in place of
    `recompute`.
    """
    check("tokens", tokens)
    problem = train_problem(model, chip=chip, n_chips=n_chips, seq_len=seq_len,
                            global_batch=global_batch, precision=precision,
                            catalog_files=catalog_files, dense_attention=dense_attention,
                            moe_capacity_factor=moe_capacity_factor)
    fixed = _check_fixed(_with_remat_policy(problem, remat_policy, fixed))
    result = search(problem, fixed)
    chosen = result.order[0] if len(result.order) else _leanest_over_memory(result, fixed)
    if chosen is None:
        raise _why_nothing(problem, result, fixed)
    best = train_result(problem, result.evaluated, int(chosen))
    best.confidence = confidence_for("train", problem.chip, problem.precision).to_dict()
    if tokens is not None:
        cat = hardware_catalog(catalog_files)
        if usd_per_chip_hour is not None and usd_per_chip_hour <= 0:
            raise SpecError("usd_per_chip_hour", usd_per_chip_hour, "must be > 0")
        best.run = training_run_cost(tokens, best.tokens_per_s, n_chips, problem.chip, cat,
                                     price_term, usd_per_chip_hour, price_fallback)
    return best


@legacy_call("chip", "chips", "seq_len", "global_batch", "precision", "tokens",
             "catalog_files", "interval", renamed={"chips": "n_chips"})
def train_json(model: str | os.PathLike | ModelSpec, *, chip: str, n_chips: int,
               seq_len: int | None = None, global_batch: int | None = None,
               precision: str = "bf16", tokens: float | None = None,
               catalog_files: list[str] | None = None, interval: bool = False,
               price_term: str = "on_demand", usd_per_chip_hour: float | None = None,
               dense_attention: bool = False, moe_capacity_factor: float | None = None,
               remat_policy: str | None = None, **fixed) -> dict:
    """What `xpuplan train --json` prints: `train(...).to_dict()`, plus with `interval` the
    P10-P90 of `step_time_interval` under "interval"."""
    problem = train_problem(model, chip=chip, n_chips=n_chips, seq_len=seq_len,
                            global_batch=global_batch, precision=precision,
                            catalog_files=catalog_files, dense_attention=dense_attention,
                            moe_capacity_factor=moe_capacity_factor)
    result = train(problem.model, chip=chip, n_chips=n_chips, seq_len=problem.seq_len,
                   global_batch=problem.global_batch, precision=precision, tokens=tokens,
                   catalog_files=catalog_files, price_term=price_term,
                   usd_per_chip_hour=usd_per_chip_hour, dense_attention=dense_attention,
                   moe_capacity_factor=moe_capacity_factor, remat_policy=remat_policy,
                   **fixed)
    data = result.to_dict()
    if interval:
        data["interval"] = step_time_interval(problem, result=result)
    return data


def _with_remat_policy(p: TrainProblem, policy: str | None, fixed: dict) -> dict:
    """`fixed` with a MaxText remat policy as the recompute share f it implies (the layer's
    forward FLOPs it recomputes, workload.remat.recompute_fraction); None: unchanged."""
    if policy is None:
        return fixed
    if fixed.get("recompute") is not None:
        raise SpecError("remat_policy", policy, f"give it or recompute = "
                        f"{fixed['recompute']!r}, not both")
    if not isinstance(policy, str):
        raise SpecError("remat_policy", policy, "a MaxText policy name or custom:...")
    share = recompute_fraction(layer_shape(p.model), p.seq_len, policy)
    return {**fixed, "recompute": float(share)}


def _check_fixed(fixed: dict) -> dict:
    unknown = set(fixed) - set(TRAIN_KNOBS)
    if unknown:
        raise SpecError("layout", sorted(unknown)[0], f"allowed knobs: {', '.join(TRAIN_KNOBS)}")
    out = {k: v for k, v in fixed.items() if v is not None}
    if "recompute" in out:
        out.update(_recompute_knob(out["recompute"]))
    for k, v in out.items():
        if k == "sp":
            if not isinstance(v, bool):
                raise SpecError(k, v, "must be true or false")
            continue
        if k not in ("recompute", "recompute_fraction"):
            check(k, v)
    return out


RECOMPUTE_ALLOWED = (f"{', '.join(RECOMPUTE)}, or the share of each layer's forward "
                     "recomputed, a number in [0, 1] (1 = full)")


def _recompute_knob(value) -> dict:
    """The layout columns of a `recompute` knob: a name or code (none, selective, full), or a
    share f in [0, 1] of the forward recomputed (layer checkpointing, specs.layouts)."""
    if isinstance(value, str) and value in RECOMPUTE:
        return {"recompute": RECOMPUTE.index(value)}
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= value < len(RECOMPUTE):
            return {"recompute": int(value)}
        raise SpecError("recompute", value, f"allowed: {RECOMPUTE_ALLOWED}")
    try:
        f = float(value) if isinstance(value, (str, float)) else math.nan
    except ValueError:
        f = math.nan
    if not 0.0 <= f <= 1.0:  # NaN fails too
        raise SpecError("recompute", value, f"allowed: {RECOMPUTE_ALLOWED}")
    return {"recompute": 2, "recompute_fraction": f}


def _leanest_over_memory(result: SearchResult, fixed: dict) -> int | None:
    """A stated layout (tp and pp given) that breaks no rule but exceeds HBM by the memory
    estimate: its leanest candidate, to be returned with `fits` False rather than refused.
    Published runs do run such layouts (activation offload, recompute or allocator settings
    the estimate does not see), and `validate` predicts them the same way; a free search
    still only picks layouts that fit."""
    ev = result.evaluated
    if not all(k in fixed for k in ("tp", "pp")):
        return None
    over = np.flatnonzero((ev.reason == TrainReason.MEMORY) & ev.finite)
    return int(over[np.argmin(ev.memory_per_chip_bytes[over])]) if len(over) else None


def _why_nothing(p: TrainProblem, result: SearchResult, fixed: dict) -> XpuplanError:
    """The error for a search with no fitting layout: the broken rule of the user's layout
    (SpecError), or, for a free search, the smallest chip count that fits (InfeasibleError)."""
    ev = result.evaluated
    if len(ev.layouts) == 0:  # the fixed knobs leave no candidate: check them as written
        tp, pp, cp = fixed.get("tp", 1), fixed.get("pp", 1), fixed.get("cp", 1)
        literal = {"tp": tp, "pp": pp, "cp": cp, "dp": max(1, p.n_chips // (tp * pp * cp)),
                   **fixed}
        _raise_if_illegal(p, evaluate(p, Layouts.build(**literal)))
    elif not ev.legal.any():
        if fixed and not (ev.reason == TrainReason.NO_FABRIC).any():  # the given knobs break a rule
            _raise_if_illegal(p, evaluate(p, ev.layouts.take([0])))
    return _nothing_fits(p, result, fixed)


def _raise_if_illegal(p: TrainProblem, ev) -> None:
    reason = TrainReason(int(ev.reason[0]))
    lay = ev.layouts.row(0)
    m = p.model
    if reason == TrainReason.OK:
        return
    if reason == TrainReason.MEMORY:
        need, have = float(ev.memory_per_chip_bytes[0]), p.chip.hbm_bytes
        raise SpecError("layout", _layout_text(lay),
                        f"needs {need / 1e9:.1f} GB per chip, {p.chip.name} has "
                        f"{have / 1e9:.0f} GB ({(need - have) / 1e9:.1f} GB short; reserve "
                        f"{p.reserved_bytes / 1e9:.1f} GB included)")
    if reason == TrainReason.NO_FABRIC:
        raise SpecError("chip", p.chip.id, TrainReason.NO_FABRIC.message)
    detail = {
        TrainReason.CHIPS: f"tp·pp·dp·cp = {lay['tp'] * lay['pp'] * lay['dp'] * lay['cp']}, "
                           f"chips = {p.n_chips}",
        TrainReason.HEADS: _heads_detail(p, lay['tp']),
        TrainReason.LAYERS: f"pp = {lay['pp']}, vpp = {lay['vpp']}, layers = {m.n_layers}",
        TrainReason.EXPERTS: f"ep = {lay['ep']}, experts = "
                             f"{m.moe.n_routed_experts if m.moe else 'none (dense)'}",
        TrainReason.BATCH: f"dp·micro_batch = {lay['dp'] * lay['micro_batch']}, global batch = "
           f"{p.global_batch}",
        TrainReason.SEQUENCE: f"cp = {lay['cp']}, sequence length = {p.seq_len}",
        TrainReason.INTERLEAVE: f"vpp = {lay['vpp']}, pp = {lay['pp']}",
    }[reason]
    raise SpecError("layout", _layout_text(lay), f"{reason.message} ({detail})")


def _heads_detail(p: TrainProblem, tp: int) -> str:
    """The stack, its rule and the numbers for a refused TP degree."""
    rules = stack_rules(p.chip.vendor, "train")
    ranks = tp * rules.ranks_per_chip(p.chip)
    return (f"{rules.name} on {p.chip.vendor}: rule '{rules.heads}', tp = {tp} "
            f"({ranks} ranks), attention heads = {p.model.n_heads}, "
            f"KV heads = {p.model.n_kv_heads}")


def _layout_text(lay: dict) -> str:
    f = lay.get("recompute_fraction", 1.0)
    partial = {"recompute": f"{f:g}"} if lay["recompute"] == "full" and f < 1 else {}
    lay = {**lay, **partial}
    return " ".join(f"{k}={lay[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                               "micro_batch", "zero", "recompute"))


def _nothing_fits(p: TrainProblem, result: SearchResult, fixed: dict) -> InfeasibleError:
    """Say why nothing fits, and the smallest chip count (doubling) at which something does."""
    legal = result.evaluated.legal
    if not legal.any() and (result.evaluated.reason == TrainReason.NO_FABRIC).any():
        return InfeasibleError(f"{p.chip.name}: {TrainReason.NO_FABRIC.message}")
    if not legal.any():
        return InfeasibleError(f"no legal layout of {p.model.name} on {p.n_chips} chips with "
                               f"the fixed knobs {fixed or '{}'} and global batch "
                               f"{p.global_batch}")
    need = float(result.evaluated.memory_per_chip_bytes[legal].min())
    n = p.n_chips
    for _ in range(16):
        n *= 2
        if n > bound_for("chips").hi:
            break
        bigger = replace(p, n_chips=n, global_batch=max(p.global_batch, n))
        if len(search(bigger, fixed).order):
            return InfeasibleError(
                f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout needs "
                f"{need / 1e9:.1f} GB per chip, {p.chip.hbm_bytes / 1e9:.0f} GB available; "
                f"{n} chips would fit", needed=need, available=p.chip.hbm_bytes)
    return InfeasibleError(f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout "
                           f"needs {need / 1e9:.1f} GB per chip", needed=need,
                           available=p.chip.hbm_bytes)


@legacy_call("result", "samples", "seed")
def step_time_interval(problem: TrainProblem, *, result: TrainResult | None = None,
                       layouts: Layouts | None = None, samples: int = 2000,
                       seed: int = 0) -> dict:
    """P10/P50/P90 of step time, tokens/s and (if priced) cost for one layout (`result`), or
    of step time and tokens/s for each of several `layouts` (a list of [P10, P50, P90] per
    layout, in their order, under "layouts" their knobs).

    The stack's fitted compute scale is sampled log-normally with the prediction's
    confidence spread (calibrate.confidence: at least the group's leave-one-source-out spread,
    wider for a chip without validation rows); everything else held at its point value.
    Vectorised: one evaluate call over (layouts, samples) (specs.samples); every layout sees
    the same draws.
    """
    if result is not None and layouts is None:
        lay = Layouts.build(**{k: v if k != "recompute" else RECOMPUTE.index(v)
                               for k, v in result.parallelism.items()})
    elif result is None and layouts is not None:
        lay = layouts
    else:
        raise SpecError("layouts", None if layouts is None else len(layouts),
                        "give either result (one layout) or layouts (several)")
    sd = confidence_for("train", problem.chip, problem.precision).interval_log_sd
    draws = np.exp(np.random.default_rng(seed).normal(0.0, sd, samples))
    c = problem.efficiency.stack.compute_scale
    ev = evaluate(problem, lay, Samples(compute_scale=c * draws))  # (L, S)
    q = (10, 50, 90)
    step, tokens = (np.percentile(x, q, axis=1).T for x in (ev.step_time_s, ev.tokens_per_s))
    out = {"quantiles": list(q), "log_sd": sd}
    if result is None:
        return {**out, "layouts": [lay.row(i) for i in range(len(lay))],
                "step_time_s": step.tolist(), "tokens_per_s": tokens.tolist()}
    out |= {"step_time_s": step[0].tolist(), "tokens_per_s": tokens[0].tolist()}
    if result.run and result.run.cost_usd is not None:
        scale = ev.step_time_s[0] / result.step_time_s
        out["time_to_train_s"] = np.percentile(result.run.time_to_train_s * scale, q).tolist()
        out["cost_usd"] = np.percentile(result.run.cost_usd * scale, q).tolist()
    return out


DEFAULT_COMPARE_MODEL = "llama-3.1-70b"
DEFAULT_COMPARE_CHIPS = ("h100-sxm", "h200", "b200", "gb200", "trn2", "tpu-v5p", "tpu-v6e",
                         "mi300x")
DEFAULT_COMPARE_CHIP_COUNT = 4096
DEFAULT_COMPARE_TOKENS = 15e12  # Llama 3 was pre-trained on about 15T tokens (Meta, 2024)


@dataclass
class CompareRow:
    """One chip of a training comparison: its best result, or why it has none."""
    chip: str
    result: TrainResult | None
    error: str | None

    def to_dict(self) -> dict:
        return {"chip": self.chip, "error": self.error,
                **(self.result.to_dict() if self.result else {})}


@dataclass
class Comparison(RowsResult):
    """Rows of `compare`, one per chip; iterates, indexes and counts like its list of rows."""

    model: str
    n_chips: int
    tokens: float
    rows: list[CompareRow]
    price_term: str = "on_demand"  # one basis for every chip
    usd_per_chip_hour: float | None = None  # or one given price

    def to_dict(self) -> dict:
        """What `xpuplan compare --json` prints."""
        return {"model": self.model, "n_chips": self.n_chips, "tokens": self.tokens,
                "price_basis": self.price_basis, "rows": [r.to_dict() for r in self.rows]}

    @property
    def price_basis(self) -> str:
        """The one price basis every row's cost uses, in words."""
        if self.usd_per_chip_hour is not None:
            return f"given ${self.usd_per_chip_hour:g}/chip-h for every chip"
        return (f"cheapest {self.price_term.replace('_', '-')} catalog price of each chip; "
                "no cost where a chip has no price under that term")


@legacy_call("chips", "n_chips", "tokens", "seq_len", "global_batch", "precision",
             "catalog_files", "progress")
def compare(model: str | os.PathLike | ModelSpec = DEFAULT_COMPARE_MODEL, *,
            chips: tuple[str, ...] | list[str] = DEFAULT_COMPARE_CHIPS,
            n_chips: int = DEFAULT_COMPARE_CHIP_COUNT, tokens: float = DEFAULT_COMPARE_TOKENS,
            seq_len: int | None = None, global_batch: int | None = None, precision: str = "bf16",
            catalog_files: list[str] | None = None, progress=None,
            price_term: str = "on_demand", usd_per_chip_hour: float | None = None,
            ) -> Comparison:
    """Best layout, time, cost and MFU of training `model` on `n_chips` of each chip, every
    cost on one basis: `usd_per_chip_hour` if given, else each chip's cheapest price under
    `price_term` (no fallback to another term).

    A chip that cannot run the job (precision missing, nothing fits) gets its reason instead
    of a result; an unknown chip name is still an error.
    """
    check_all(n_chips=n_chips, tokens=tokens, compare_chips=len(chips))
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    rows = []
    for name in chips:
        hardware_catalog(catalog_files).chip(name)  # unknown names fail loudly
        try:
            r = train(m, chip=name, n_chips=n_chips, seq_len=seq_len,
                      global_batch=global_batch, precision=precision, tokens=tokens,
                      catalog_files=catalog_files, price_term=price_term,
                      usd_per_chip_hour=usd_per_chip_hour, price_fallback=False)
            rows.append(CompareRow(chip=name, result=r, error=None))
        except (InfeasibleError, SpecError) as exc:
            rows.append(CompareRow(chip=name, result=None, error=str(exc)))
        if progress is not None:
            progress(name)
    return Comparison(model=m.name if isinstance(model, ModelSpec) else str(model),
                      n_chips=n_chips, tokens=tokens, rows=rows,
                      price_term=price_term, usd_per_chip_hour=usd_per_chip_hour)
