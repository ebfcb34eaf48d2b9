"""API: serving predictions, serving-layout search and the serving interval.

The cross-chip serving comparison built on `infer` is in compare.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from xpuplan.api.deprecation import legacy_call
from xpuplan.api.serve_run import engine_run_fields
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.registry import HardwareCatalog, hardware_catalog
from xpuplan.errors import InfeasibleError, SpecError, XpuplanError
from xpuplan.hardware.efficiency import chip_efficiency, reserved_fraction, serve_calibration_for
from xpuplan.hardware.stacks import (
    gemm_precision,
    serving_engines,
    stack_rules,
    unknown_engine,
)
from xpuplan.serve.evaluate import ServeReason, evaluate_serving, serve_rules
from xpuplan.serve.problem import ServeProblem
from xpuplan.serve.result import ServeResult, serve_result
from xpuplan.serve.search import ServeSearch, search_serving
from xpuplan.specs.bounds import check, check_all
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import BYTES_PER_ELEMENT, Precision
from xpuplan.specs.samples import Samples
from xpuplan.workload.summary import summarize

SERVE_KNOBS = ("tp", "pp", "ep", "batch")


class Weights(StrEnum):
    """Storage format of served weights (and, by default, of the GEMMs)."""
    bf16 = "bf16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"


class Kv(StrEnum):
    """Storage format of the KV cache (int8: e.g. JetStream's quantized cache on TPU)."""
    bf16 = "bf16"
    fp8 = "fp8"
    int8 = "int8"


WEIGHT_CHOICES = tuple(w.value for w in Weights)
KV_CHOICES = tuple(k.value for k in Kv)
MODEL_FILL_TARGET = 0.7  # default chip count: weights use at most 70 % of usable HBM
MS_PER_S = 1e3
SLO_IN_MS = {"ttft_ms": ("ttft_s", MS_PER_S), "tpot_ms": ("tpot_s", MS_PER_S)}  # old keywords


def slo_seconds(value_ms: float | None, *, field: str) -> float | None:
    """A latency target given in ms at a unit edge (the CLI's `--ttft-ms`), in s; checked
    against the `latency_ms` bound first so that the error names the field and value the
    user typed. None passes.

    >>> slo_seconds(250.0, field="--ttft-ms")
    0.25
    """
    if value_ms is None:
        return None
    return check(field, value_ms, "latency_ms") / MS_PER_S


@legacy_call("chip_name", "chips", "input_len", "output_len", "weights", "kv",
             "disaggregated", "catalog_files", "price_term", "activations",
             "usd_per_chip_hour", "price_fallback",
             renamed={"chip_name": "chip", "chips": "n_chips"})
def serve_problem(model: str | os.PathLike | ModelSpec, *, chip: str,
                  n_chips: int | None = None, input_len: int = 1024, output_len: int = 1024,
                  weights: str = "bf16", kv: str | None = None, disaggregated: bool = False,
                  catalog_files: list[str] | None = None, price_term: str = "on_demand",
                  activations: str | None = None, usd_per_chip_hour: float | None = None,
                  price_fallback: bool = True, engine: str | None = None,
                  max_running_batch: int | None = None, scheduler_steps: int | None = None,
                  cuda_graphs: bool = True, async_scheduling: bool = False,
                  context_buckets: Sequence[int] | None = None,
                  static_kv_tokens: int | None = None, compiled_batch: int | None = None,
                  compiled_seq_len: int | None = None
                  ) -> tuple[ServeProblem, str | None]:
    """Validate a serving question; default n_chips = the smallest power of two whose usable
    HBM holds the weights at MODEL_FILL_TARGET. Returns the problem and the priced instance.

    `engine` names the serving engine (tensorrt-llm, vllm, sglang, ...: the chip vendor's
    records in data/stacks.toml), whose KV admission rule and default batch caps apply;
    None: the vendor's default (TensorRT-LLM on NVIDIA, vLLM on AMD, JetStream on TPU, NxD
    Inference on Trainium).

    `weights` sets the bytes stored and read; `activations` the precision the GEMMs run at
    (default: the weights'). Weight-only quantization, e.g. MXFP4 weights with bf16
    activations (GPT-OSS on Hopper), stores 4-bit weights on a chip with no FP4 rate.

    The engine's run settings (`max_running_batch` ... `compiled_seq_len`: a published run's
    batch cap, eager launches, scheduler steps, async scheduling, context buckets and static
    shapes) are checked by api/serve_run.py `engine_run_fields`; None keeps the engine's default.
    """
    check_all(input_len=input_len, output_len=output_len, chips=n_chips)
    run = engine_run_fields(input_len=input_len, max_running_batch=max_running_batch,
                            scheduler_steps=scheduler_steps, cuda_graphs=cuda_graphs,
                            async_scheduling=async_scheduling, context_buckets=context_buckets,
                            static_kv_tokens=static_kv_tokens, compiled_batch=compiled_batch,
                            compiled_seq_len=compiled_seq_len)
    check("input_len + output_len", input_len + output_len, "seq_len")
    cat = hardware_catalog(catalog_files)
    c = cat.chip(chip)
    check_engine(engine, c)
    w, compute, k = _serve_precisions(c, weights, activations, kv, engine)
    _check_serving_chip(c, disaggregated)
    m = _serve_model(model, input_len + output_len)
    reserve = reserved_fraction() * c.hbm_bytes
    if n_chips is None:
        n_chips = _default_chips(m, c, w, reserve)
    usd_per_chip_s, instance = _serve_price(cat, c, price_term, price_fallback,
                                            usd_per_chip_hour)
    vendor_of = {key: v.vendor for key, v in cat.chips.items()}
    eff = chip_efficiency(c, vendor_of)
    return ServeProblem(model=m, chip=c, efficiency=eff,
                        calibration=serve_calibration_for(c, compute, eff.gemm), n_chips=n_chips,
                        input_len=input_len, output_len=output_len, weights=w, kv=k,
                        compute=compute, reserved_bytes=reserve,
                        usd_per_chip_s=usd_per_chip_s,
                        disaggregated=disaggregated, engine=engine, **run), instance


def check_engine(engine: str | None, *chips: ChipSpec) -> None:
    """`engine` (None: each chip's vendor default) is one of the serving engines with a record
    for every chip's vendor; else one error naming each chip that lacks it and its engines."""
    lacking = [c for c in {c.id: c for c in chips}.values()
               if engine not in serving_engines(c.vendor)]
    if engine is not None and lacking:
        raise unknown_engine(engine, *((c.vendor, f"{c.name} serves") for c in lacking))


def _serve_precisions(c: ChipSpec, weights: str, activations: str | None, kv: str | None,
                      engine: str | None = None) -> tuple[Precision, Precision, Precision]:
    """(weights, GEMM, KV cache) precisions of a serving question on chip `c`, checked: GEMMs
    never narrower than the weights, weight-only formats dequantized before theirs."""
    if weights not in WEIGHT_CHOICES:
        raise SpecError("weights", weights, f"allowed: {', '.join(WEIGHT_CHOICES)}")
    rules = stack_rules(c.vendor, "serve", engine)
    if activations is not None and activations == weights and weights in rules.weight_only:
        raise SpecError("activations", activations, f"{rules.name} runs {weights} weights "
                        "weight-only (dequantized to bf16 before its GEMMs); allowed: bf16")
    compute = _serving_precision(c, activations or gemm_precision(c.vendor, weights, engine),
                                 "activations" if activations else "weights", WEIGHT_CHOICES)
    w = Precision(weights)
    if BYTES_PER_ELEMENT[compute] < BYTES_PER_ELEMENT[w]:  # GEMMs never narrower than weights
        wider = [a for a in WEIGHT_CHOICES
                 if BYTES_PER_ELEMENT[Precision(a)] >= BYTES_PER_ELEMENT[w]]
        raise SpecError("activations", compute.value, f"narrower than the {weights} weights; "
                        f"allowed: {', '.join(wider)}")
    k = _serving_precision(c, kv or ("fp8" if w in (Precision.fp8, Precision.fp4)
                                     and c.supports("fp8") else "bf16"), "kv", KV_CHOICES)
    return w, compute, k


def _check_serving_chip(c: ChipSpec, disaggregated: bool) -> None:
    """The catalog figures serving needs: HBM bandwidth, and a network for disaggregation."""
    if c.hbm_bw is None:
        raise SpecError("chip", c.id, "has no HBM bandwidth in the catalog")
    if disaggregated and not (c.scaleout_bw_unidir or c.scaleup_bw_unidir):
        raise SpecError("disaggregated", True, f"{c.name} has no network bandwidth in the "
                        "catalog to move the KV cache from prefill to decode chips (add "
                        "scaleout_gb_per_s_* with --catalog)")


def _serve_model(model: str | os.PathLike | ModelSpec, seq_len: int) -> ModelSpec:
    """The model, loaded if named, checked to hold `seq_len` tokens per sequence."""
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    if m.learned_positions and seq_len > m.learned_positions:
        raise SpecError("input_len + output_len", seq_len,
                        f"{m.name} has a learned position table of {m.learned_positions} "
                        "rows, so at most that many tokens per sequence")
    return m


def _default_chips(m: ModelSpec, c: ChipSpec, w: Precision, reserve: float) -> int:
    """Smallest power of two of chips (at most 2^20) whose usable HBM holds the weights at
    MODEL_FILL_TARGET."""
    need = summarize(m, 1).weight_bytes[w.value]
    n_chips = 1
    while need > MODEL_FILL_TARGET * n_chips * (c.hbm_bytes - reserve) and n_chips < 2**20:
        n_chips *= 2
    return n_chips


def _serve_price(cat: HardwareCatalog, c: ChipSpec, price_term: str, price_fallback: bool,
                 usd_per_chip_hour: float | None) -> tuple[float | None, str | None]:
    """(USD per chip-second, the priced instance): `usd_per_chip_hour` if given, else the
    cheapest price under `price_term` (or another term, with `price_fallback`)."""
    found = cat.price_for(c.id, price_term, c.system.id if c.system else None)
    if not price_fallback and found is not None and found[1] != price_term:
        found = None
    usd_per_chip_s = found[0].usd_per_chip_s(found[1]) if found else None
    if usd_per_chip_hour is not None:
        if usd_per_chip_hour <= 0:
            raise SpecError("usd_per_chip_hour", usd_per_chip_hour, "must be > 0")
        found, usd_per_chip_s = None, usd_per_chip_hour / 3600
    return usd_per_chip_s, (found[0].id if found else None)


def _serving_precision(c: ChipSpec, value: str, field: str, allowed: tuple) -> Precision:
    if value not in allowed:
        raise SpecError(field, value, f"allowed: {', '.join(allowed)}")
    p = Precision(value)
    if p != Precision.bf16 and not c.supports(p):
        have = [q for q in allowed if q == "bf16" or c.supports(q)]
        hint = (f"; for weight-only {value}, add activations {', '.join(have)}"
                if field == "weights" else "")
        raise SpecError(field, value, f"{c.name} has no native {value} support in the catalog "
                        f"(it supports: {', '.join(have)}){hint}")
    return p


@legacy_call("chip", "chips", "input_len", "output_len", "batch", "ttft_ms", "tpot_ms",
             "weights", "kv", "disaggregated", "catalog_files", "interval", "activations",
             "price_term", "usd_per_chip_hour", "price_fallback", renamed={"chips": "n_chips"},
             rescaled=SLO_IN_MS)
def infer(model: str | os.PathLike | ModelSpec, *, chip: str, n_chips: int | None = None,
          input_len: int = 1024, output_len: int = 1024, batch: int | None = None,
          ttft_s: float | None = None, tpot_s: float | None = None, weights: str = "bf16",
          kv: str | None = None, disaggregated: bool = False,
          catalog_files: list[str] | None = None, interval: bool = False,
          activations: str | None = None, price_term: str = "on_demand",
          usd_per_chip_hour: float | None = None, price_fallback: bool = True,
          engine: str | None = None, max_running_batch: int | None = None,
          scheduler_steps: int | None = None, cuda_graphs: bool = True,
          async_scheduling: bool = False, context_buckets: Sequence[int] | None = None,
          static_kv_tokens: int | None = None, compiled_batch: int | None = None,
          compiled_seq_len: int | None = None, **fixed) -> ServeResult:
    """Serve `model` on `n_chips` chips: the layout and batch that maximise output tokens/s per
    chip (per dollar at one price) within memory and the SLO (`ttft_s`, `tpot_s`, seconds);
    with `batch` fixed, that batch. `interval` adds P10/P50/P90 of the headline numbers (see
    `serving_interval`);
    `activations` sets the GEMM precision apart from the weights' (see `serve_problem`);
    $/Mtok uses `usd_per_chip_hour` if given, else the cheapest price under `price_term`;
    `engine` picks the serving engine and `max_running_batch` ... `compiled_seq_len` set how it
    runs (see `serve_problem`: what `xpuplan validate` sets from a published run's columns).
    """
    unknown = set(fixed) - set(SERVE_KNOBS)
    if unknown:
        raise SpecError("layout", sorted(unknown)[0], f"allowed: {', '.join(SERVE_KNOBS)}")
    fixed = {k: v for k, v in fixed.items() if v is not None}
    if batch is not None:
        fixed["batch"] = batch
    for k, v in fixed.items():
        check(k, v)
    check_all(ttft_s=ttft_s, tpot_s=tpot_s)
    problem, instance = serve_problem(
        model, chip=chip, n_chips=n_chips, input_len=input_len, output_len=output_len,
        weights=weights, kv=kv, disaggregated=disaggregated, catalog_files=catalog_files,
        price_term=price_term, activations=activations, usd_per_chip_hour=usd_per_chip_hour,
        price_fallback=price_fallback, engine=engine, max_running_batch=max_running_batch,
        scheduler_steps=scheduler_steps, cuda_graphs=cuda_graphs,
        async_scheduling=async_scheduling, context_buckets=context_buckets,
        static_kv_tokens=static_kv_tokens, compiled_batch=compiled_batch,
        compiled_seq_len=compiled_seq_len)
    found = search_serving(problem, fixed, ttft_s, tpot_s)
    ev = found.evaluated
    if found.best is None:
        raise _serving_infeasible(problem, found, ttft_s, tpot_s)
    mode = "slo" if (ttft_s or tpot_s) else ("fixed_batch" if batch else "offline")
    result = serve_result(problem, ev, found.best, mode, instance)
    result.confidence = confidence_for("infer", problem.chip, problem.compute).to_dict()
    result.pareto = [{"tpot_s": float(ev.tpot_s[i]), "ttft_s": float(ev.ttft_s[i]),
                      "output_tokens_per_s_per_chip": float(ev.output_tokens_per_s_per_chip[i]),
                      **ev.layouts.row(int(i))} for i in found.pareto]
    if interval:
        result.interval = serving_interval(problem, layout=ev.layouts.take([found.best]))
    return result


@legacy_call("layout", "samples", "seed")
def serving_interval(problem: ServeProblem, *, layout: ServeLayouts | None = None,
                     layouts: ServeLayouts | None = None, samples: int = 2000,
                     seed: int = 0) -> dict:
    """P10/P50/P90 of TTFT, TPOT, tokens/s per chip and $/Mtok for one `layout` (a
    ServeLayouts of length 1), or for each of several `layouts` (a list of [P10, P50, P90]
    per layout, in their order, under "layouts" their knobs): the fitted compute and memory
    scales are drawn log-normally with the prediction's confidence spread
    (calibrate.confidence: at least the group's leave-one-source-out spread, wider for a chip
    without validation rows; one draw scales both), in one vectorised evaluation over
    (layouts, samples) (specs.samples); every layout sees the same draws."""
    if layout is not None and layouts is None:
        if len(layout) != 1:
            raise SpecError("layout", len(layout), "one layout; pass several as layouts")
        lay = layout
    elif layout is None and layouts is not None:
        lay = layouts
    else:
        raise SpecError("layouts", None if layouts is None else len(layouts),
                        "give either layout (one) or layouts (several)")
    cal = problem.calibration
    sd = confidence_for("infer", problem.chip, problem.compute).interval_log_sd
    draw = np.exp(np.random.default_rng(seed).normal(0.0, sd, samples))
    ev = evaluate_serving(problem, lay, Samples(compute_scale=cal.compute_scale * draw,
                                                memory_scale=cal.memory_scale * draw))
    q = (10, 50, 90)
    metrics = {"ttft_s": ev.ttft_s, "tpot_s": ev.tpot_s,
               "output_tokens_per_s_per_chip": ev.output_tokens_per_s_per_chip}
    if problem.usd_per_chip_s is not None:
        metrics["usd_per_mtok_output"] = ev.usd_per_mtok_output
    pct = {k: np.percentile(v, q, axis=1).T for k, v in metrics.items()}  # (L, 3)
    out: dict = {"quantiles": list(q), "log_sd": sd}
    if layouts is not None:
        return {**out, "layouts": [lay.row(i) for i in range(len(lay))],
                **{k: v.tolist() for k, v in pct.items()}}
    return {**out, **{k: v[0].tolist() for k, v in pct.items()}}


def _serving_infeasible(p: ServeProblem, found: ServeSearch, ttft_s, tpot_s) -> XpuplanError:
    ev = found.evaluated
    if not ev.fits.any() and (ev.reason == ServeReason.NO_FABRIC).any() and p.n_chips > 1:
        return SpecError("chips", p.n_chips, f"{p.chip.name} has no interconnect bandwidth in "
                         "the catalog, so a model cannot span chips (add "
                         "scaleup_gb_per_s_* with --catalog)")
    # legal and loaded, but the batch is big
    if not ev.fits.any() and (ev.reason == ServeReason.KV_CAPACITY).any():
        over = np.flatnonzero(ev.reason == ServeReason.KV_CAPACITY)
        i = int(over[np.argmax(ev.max_concurrency[over])])
        held = (f"{p.input_len + p.output_len / 2:g} tokens resident on average (paged KV, "
                f"I + O/2)" if ev.admission == "paged_resident_tokens"
                else f"{p.input_len + p.output_len:g} tokens ("
                + ("reserved whole at admission)" if ev.admission == "reserved_full_sequence"
                   else "a full-sequence cache slot)"))
        return SpecError("batch", int(ev.layouts.batch[i]),
                         f"{ServeReason.KV_CAPACITY.message}: at most "
                         f"{int(ev.max_concurrency[i])} sequences of {held} fit per replica "
                         f"under {serve_rules(p).name} "
                         f"({_serve_layout_text(ev.layouts.row(i))})")
    # every candidate breaks a rule
    if not ev.fits.any() and not (ev.reason == ServeReason.WEIGHTS).any():
        codes, counts = np.unique(ev.reason, return_counts=True)
        code = int(codes[np.argmax(counts)])
        lay = ev.layouts.row(int(np.flatnonzero(ev.reason == code)[0]))
        rules = serve_rules(p)
        stack = (f"{rules.name} on {p.chip.vendor}: rule '{rules.heads}', "
                 if code == ServeReason.HEADS else "")
        return SpecError("layout", _serve_layout_text(lay),
                         f"{ServeReason(code).message} ({stack}chips = {p.n_chips}, attention "
                         f"heads = {p.model.n_heads}, KV heads = {p.model.n_kv_heads}, layers = "
                         f"{p.model.n_layers})")
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
    slo = " and ".join(f"{name} <= {value * MS_PER_S:g} ms" for name, value in
                       (("TTFT", ttft_s), ("TPOT", tpot_s)) if value is not None)
    return InfeasibleError(
        f"no layout meets {slo} on {p.n_chips} x {p.chip.name}; best reachable: TTFT "
        f"{ev.ttft_s[fit].min() * 1e3:.1f} ms, TPOT {ev.tpot_s[fit].min() * 1e3:.2f} ms")


def _serve_layout_text(lay: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in lay.items())
