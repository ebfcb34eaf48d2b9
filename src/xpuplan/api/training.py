"""API: training predictions, layout search and the step-time interval.

The cross-chip comparison built on `train` is in compare.py; the errors that say why nothing
fits are in train_refusals.py.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from xpuplan.api.deprecation import legacy_call
from xpuplan.api.train_refusals import why_nothing
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.economics.run_cost import training_run_cost
from xpuplan.errors import SpecError
from xpuplan.hardware.efficiency import chip_efficiency, reserved_fraction
from xpuplan.specs.bounds import check, check_all
from xpuplan.specs.layouts import RECOMPUTE, Layouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision, parse_precision
from xpuplan.specs.samples import Samples
from xpuplan.train.evaluate import TrainProblem, TrainReason, evaluate
from xpuplan.train.memory import SAVED_INPUT_BYTES, state_bytes
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
                  dense_attention: bool = False, moe_capacity_factor: float | None = None,
                  state_format: str = "megatron", cpu_offload_layers: int = 0,
                  saved_input_format: str = "bf16") -> TrainProblem:
    """Validate the inputs of a training prediction and gather what it needs.

    `seq_len` defaults to 8192, or to the model's learned position table if shorter (GPT-2).
    `dense_attention`: the run's attention materialises the S×S scores (no flash kernel);
    `moe_capacity_factor`: a token-dropping MoE's expert capacity (None: dropless); both as
    TrainProblem documents them (train/evaluate.py). Memory only (train/memory.py):
    `state_format` the model state's bytes per parameter (megatron: 2 + 4 + 12 B;
    megatron-bf16-grads: 2 + 2 + 16 B; maxtext-W-G-M: MaxText's weight, gradient and moment
    dtypes, each fp32 or bf16), `cpu_offload_layers` the layers whose activations go to host
    memory (Megatron cpu_offloading_num_layers, 0 to layers − 1), `saved_input_format` the
    GEMM inputs kept for the weight gradients (bf16, or fp8 / mxfp8 under an fp8 recipe).
    The defaults are the estimate without them.
    """
    check_all(chips=n_chips, seq_len=seq_len, global_batch=global_batch,
              moe_capacity_factor=moe_capacity_factor, cpu_offload_layers=cpu_offload_layers)
    if not isinstance(dense_attention, bool):
        raise SpecError("dense_attention", dense_attention, "must be true or false")
    if n_chips is None:
        raise SpecError("chips", n_chips, "must be given")
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    p = parse_precision(precision)
    _check_memory_knobs(m, p, state_format, cpu_offload_layers, saved_input_format)
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
                        else float(moe_capacity_factor), state_format=state_format,
                        activation_offload_layers=int(cpu_offload_layers),
                        saved_input_format=saved_input_format)


def _check_memory_knobs(m: ModelSpec, p: Precision, state_format: object,
                        cpu_offload_layers: int, saved_input_format: object) -> None:
    """SpecError unless the memory settings are ones train/memory.py knows: a state format
    (state_bytes), 0 ≤ cpu_offload_layers < layers (Megatron-core TransformerConfig: "CPU
    offloading can be done only for layers less than num_layers"), a SAVED_INPUT_BYTES key,
    quantized (fp8, mxfp8) only under an fp8 GEMM recipe (Transformer Engine keeps quantized
    inputs only when it quantizes them)."""
    if not isinstance(state_format, str):
        raise SpecError("state_format", state_format, "megatron, megatron-bf16-grads or "
                        "maxtext-W-G-M, each of W, G, M fp32 or bf16")
    state_bytes(state_format)  # SpecError naming the formats allowed
    if cpu_offload_layers is None:
        raise SpecError("cpu_offload_layers", None, "an integer, 0 for none")
    if cpu_offload_layers >= m.n_layers:
        raise SpecError("cpu_offload_layers", cpu_offload_layers,
                        f"at most {m.n_layers - 1}: {m.name} has {m.n_layers} layers and "
                        "one must stay in HBM")
    if saved_input_format not in SAVED_INPUT_BYTES:
        raise SpecError("saved_input_format", saved_input_format,
                        f"allowed: {', '.join(SAVED_INPUT_BYTES)}")
    if saved_input_format != "bf16" and p != Precision.fp8:
        raise SpecError("saved_input_format", saved_input_format,
                        f"quantized GEMM inputs need precision fp8, not {p.value}")


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
        raise why_nothing(problem, result, fixed)
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
          remat_policy: str | None = None, state_format: str = "megatron",
          cpu_offload_layers: int = 0, saved_input_format: str = "bf16",
          **fixed) -> TrainResult:
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

    `dense_attention`, `moe_capacity_factor`, `state_format`, `cpu_offload_layers` and
    `saved_input_format` as in `train_problem`; `remat_policy` a
    MaxText remat policy (a preset or custom:name=device|offload|remat;...), recomputing the
    share of each layer's forward that policy does (workload/remat.py), in place of
    `recompute`.
    """
    check("tokens", tokens)
    problem = train_problem(model, chip=chip, n_chips=n_chips, seq_len=seq_len,
                            global_batch=global_batch, precision=precision,
                            catalog_files=catalog_files, dense_attention=dense_attention,
                            moe_capacity_factor=moe_capacity_factor, state_format=state_format,
                            cpu_offload_layers=cpu_offload_layers,
                            saved_input_format=saved_input_format)
    fixed = _check_fixed(_with_remat_policy(problem, remat_policy, fixed))
    if remat_policy is not None:  # where the policy keeps its tensors (train/memory.py)
        problem = replace(problem, remat_policy=remat_policy)
    result = search(problem, fixed)
    chosen = result.order[0] if len(result.order) else _leanest_over_memory(result, fixed)
    if chosen is None:
        raise why_nothing(problem, result, fixed)
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
               remat_policy: str | None = None, state_format: str = "megatron",
               cpu_offload_layers: int = 0, saved_input_format: str = "bf16",
               **fixed) -> dict:
    """What `xpuplan train --json` prints: `train(...).to_dict()`, plus with `interval` the
    P10-P90 of `step_time_interval` under "interval"."""
    memory: dict[str, Any] = {"state_format": state_format,
                              "cpu_offload_layers": cpu_offload_layers,
                              "saved_input_format": saved_input_format}
    problem = train_problem(model, chip=chip, n_chips=n_chips, seq_len=seq_len,
                            global_batch=global_batch, precision=precision,
                            catalog_files=catalog_files, dense_attention=dense_attention,
                            moe_capacity_factor=moe_capacity_factor, **memory)
    result = train(problem.model, chip=chip, n_chips=n_chips, seq_len=problem.seq_len,
                   global_batch=problem.global_batch, precision=precision, tokens=tokens,
                   catalog_files=catalog_files, price_term=price_term,
                   usd_per_chip_hour=usd_per_chip_hour, dense_attention=dense_attention,
                   moe_capacity_factor=moe_capacity_factor, remat_policy=remat_policy,
                   **memory, **fixed)
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
