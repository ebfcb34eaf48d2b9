"""The inference validation set: published serving runs as ServeProblems with their targets.

`data/validation/infer_measurements.csv` copies ../shared/data's development set with its
sources, plus columns giving the layout in chips, the traffic shape, the mode and one target
per row (output tokens/s per chip, TPOT or TTFT in seconds; INFER_README.md says how each
source's figure was converted). A row is predicted with its published layout; offline rows
run at the largest batch that fits (the server fills memory), fixed-batch rows at their batch,
single-stream rows at batch 1 with the pure decode step as TPOT (a lone stream's time between
tokens; its own prefill is its TTFT), each under its engine's running-batch cap
(`max_running_batch`, the benchmark's own setting, else the engine's default: the engine is
read from the framework column, hardware.stacks.engine_for_framework) and with its graphs
(`cuda_graphs` false: eager launches, serve/host.py), its decode steps per scheduler call
(`scheduler_steps`, vLLM V0's --num-scheduler-steps; else the engine's default) and its
scheduler (`async_scheduling` true: host work overlaps the device, serve/step.py); a
static-shape export (compiled_batch, compiled_seq_len columns) runs its compiled shapes
whatever the live batch, and a bucketed Neuron compile pads each prompt to its context bucket
(validation/infer_context_buckets.toml, else the engine's default rule; serve/static.py);
MLPerf Server and Interactive rows at the largest batch whose predicted TTFT and TPOT meet
the benchmark's p99 limits (data/validation/mlperf_latency.toml: LoadGen runs the highest
Poisson load that meets them, and a continuous-batching engine's running batch is what sets
its TPOT). Neglects the gap between the mean and the p99 TPOT.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from xpuplan.calibrate.train_set import _model, _num
from xpuplan.catalog.data import builtin_file, data_table
from xpuplan.catalog.measurements import latency_limits
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.hardware.efficiency import (
    ServeCalibration,
    chip_efficiency,
    reserved_fraction,
    serve_calibration_for,
)
from xpuplan.hardware.stacks import engine_for_framework, gemm_precision
from xpuplan.serve.evaluate import ServeEval, evaluate_serving, evaluate_serving_paired
from xpuplan.serve.problem import ServeProblem
from xpuplan.serve.search import MAX_BATCH, largest_batch_meeting
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.specs.precision import Precision, precision_class
from xpuplan.specs.samples import Samples

if TYPE_CHECKING:
    import pandas as pd

METRICS = ("output_tokens_per_s_per_chip", "total_tokens_per_s_per_chip", "tpot_s", "ttft_s")


@dataclass(frozen=True)
class InferRow:
    """One serving measurement with the problem and layout it was taken at."""
    id: str
    source_group: str
    vendor: str
    family: str
    precision_class: str  # of the GEMMs (the activations): bf16 / fp8 / fp4
    problem: ServeProblem
    tp: int
    pp: int
    ep: int
    mode: str
    batch: int | None
    metric: str
    measured: float
    confidence: str
    latency_limits_s: tuple[float, float] | None = None  # (TTFT, TPOT) p99 limits, MLPerf


@lru_cache(maxsize=1)
def mlperf_latency_limits() -> dict[tuple[str, str], tuple[float, float]]:
    """(model, scenario) -> (TTFT, TPOT) p99 limits in s (data/validation/mlperf_latency.toml)."""
    return {(r.model, r.scenario): (r.ttft_s, r.tpot_s) for r in latency_limits()}


@lru_cache(maxsize=1)
def _frame() -> pd.DataFrame:
    import pandas as pd  # lazily: only validation and calibration read the CSV tables

    return pd.read_csv(builtin_file("validation/infer_measurements.csv"))


@lru_cache(maxsize=1)
def _skips() -> dict[str, str]:
    """Rows kept in the CSV but not predicted, with their reasons (validation/infer_skips.toml)."""
    return {r["id"]: r["reason"] for r in data_table("validation/infer_skips.toml").get("skip", [])}


@lru_cache(maxsize=1)
def _static_caches() -> dict[str, int]:
    """Row id -> the static KV cache per decode slot its engine ran with, tokens
    (validation/infer_static_cache.toml; serve.static)."""
    table = data_table("validation/infer_static_cache.toml").get("static_cache", [])
    return {i: int(r["kv_cache_tokens"]) for r in table for i in r["ids"]}


@lru_cache(maxsize=1)
def _context_buckets() -> dict[str, tuple[int, ...]]:
    """Row id -> the context-encoding buckets its Neuron engine was compiled with, tokens
    (validation/infer_context_buckets.toml; serve.static)."""
    table = data_table("validation/infer_context_buckets.toml").get("context_buckets", [])
    return {i: tuple(sorted(int(b) for b in r["buckets_tokens"])) for r in table
            for i in r["ids"]}


def _int_or_none(row: dict, key: str) -> int | None:
    """An optional integer column (absent or empty: None)."""
    v = _num(row, key) if key in row else None
    return int(v) if v else None


def infer_rows(calibration: ServeCalibration | None = None) -> tuple[list[InferRow], dict]:
    """Usable rows (with `calibration` in place of the fitted one if given) and skip reasons."""
    cat = hardware_catalog()
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    rows, skipped = [], {}
    for row in _frame().to_dict("records"):
        if row["id"] in _skips():
            skipped[row["id"]] = _skips()[row["id"]]
            continue
        lengths = [_num(row, "input_len"), _num(row, "output_len")]
        if any(v is None for v in lengths):
            skipped[row["id"]] = "mean input/output length not published"
            continue
        if row["target_metric"] not in METRICS:
            skipped[row["id"]] = f"metric {row['target_metric']} not predicted"
            continue
        if row["target_metric"] == "ttft_s" and (_num(row, "batch") or 1) > 1:
            skipped[row["id"]] = "TTFT under concurrent load includes queueing (not modelled)"
            continue
        ref = row.get("model_ref")
        try:
            model = _model({**row, "model_name": ref if isinstance(ref, str) else
                            row["model_name"], "model_family": row["arch"],
                            "gated_mlp": True})
        except Exception as exc:  # a shape the dev set leaves inconsistent
            skipped[row["id"]] = f"model shape unusable ({type(exc).__name__})"
            continue
        if model is None:
            skipped[row["id"]] = "model shape not published"
            continue
        chip = cat.chip(row["chip_id"])
        engine = engine_for_framework(chip.vendor, str(row["framework"]))  # data/stacks.toml
        weights, kv = Precision(row["weights"]), Precision(row["kv"] or "bf16")
        acts = row.get("activations")
        compute = Precision(acts if isinstance(acts, str) and acts
                            else gemm_precision(chip.vendor, weights.value, engine))
        if not (chip.supports(compute) and chip.supports(kv)) or chip.hbm_bw is None:
            skipped[row["id"]] = f"{chip.id} lacks {compute.value}/{kv.value} in the catalog"
            continue
        tp, pp = int(row["tp_chips"]), int(row["pp_chips"])
        ep = int(_num(row, "ep_chips") or 1)
        eff = chip_efficiency(chip, vendor_of)
        compiled_seq_len = _int_or_none(row, "compiled_seq_len")  # a Neuron export's S_c
        problem = ServeProblem(
            model=model, chip=chip, efficiency=eff,
            calibration=calibration or serve_calibration_for(chip, compute, eff.gemm),
            n_chips=max(tp * pp, ep * pp), input_len=int(lengths[0]), output_len=int(lengths[1]),
            weights=weights, kv=kv, compute=compute,
            reserved_bytes=reserved_fraction() * chip.hbm_bytes, usd_per_chip_s=None,
            kv_cache_tokens=compiled_seq_len or _static_caches().get(row["id"]),
            compiled_batch=_int_or_none(row, "compiled_batch"),
            pad_prompt_to_cache=compiled_seq_len is not None,
            context_buckets=_context_buckets().get(row["id"], ()),
            max_running_batch=_int_or_none(row, "max_running_batch"), engine=engine,
            cuda_graphs=str(row.get("cuda_graphs", "")).lower() != "false",
            scheduler_steps=_int_or_none(row, "scheduler_steps"),
            async_scheduling=str(row.get("async_scheduling", "")).lower() == "true")
        batch = _num(row, "batch")
        rows.append(InferRow(
            id=row["id"], source_group=row["source_group"], vendor=chip.vendor, family=chip.family,
            precision_class=precision_class(compute),
            problem=problem, tp=tp, pp=pp, ep=ep,
            mode=row["mode"], batch=int(batch) if batch else None,
            metric=row["target_metric"], measured=float(row["target_value"]),
            confidence=str(row.get("conversion_confidence", "")),
            latency_limits_s=mlperf_latency_limits().get((ref, row["scenario"]))
            if row["mode"] == "server" else None))
    return rows, skipped


def latency_bound_batch(p: ServeProblem, r: InferRow, capacity: int,
                        samples: Samples | None = None) -> np.ndarray:
    """The largest batch ≤ capacity whose TTFT and TPOT meet the row's limits, sequences
    (1 if none does); shape (1,), or (S,) per sample with `samples` (specs.samples).

    By bisection on B (serve.search.largest_batch_meeting).
    """
    ttft_max, tpot_max = r.latency_limits_s or (None, None)
    n = 1 if samples is None else len(samples)

    def at(batch: np.ndarray) -> ServeEval:
        lay = ServeLayouts.build(r.tp, r.pp, r.ep, batch)  # (n,): sample i at batch[i]
        return (evaluate_serving(p, lay) if samples is None
                else evaluate_serving_paired(p, lay, samples))

    return largest_batch_meeting(at, np.full(n, capacity, dtype=np.int64), ttft_max, tpot_max)


def predict_row(r: InferRow, samples: Samples | None = None) -> np.ndarray:
    """The row's target metric as predicted, shape (1,), or (S,) per sample with `samples`
    of the serving calibration (specs.samples)."""
    p = r.problem
    batch: int | np.ndarray  # an array when the latency bound is found per sample
    if r.mode == "single_stream":
        batch = 1
    elif r.mode == "fixed_batch" and r.batch:
        batch = r.batch
    else:
        probe = evaluate_serving(p, ServeLayouts.build(r.tp, r.pp, r.ep, 1))
        batch = int(np.clip(probe.max_concurrency[0], 1, MAX_BATCH))
        if r.latency_limits_s is not None:
            batch = latency_bound_batch(p, r, batch, samples)
    lay = ServeLayouts.build(r.tp, r.pp, r.ep, batch)
    ev: ServeEval
    if samples is None:
        ev = evaluate_serving(p, lay)  # (1,)
    elif isinstance(batch, np.ndarray):  # a batch per sample: layout i at sample i
        ev = evaluate_serving_paired(p, lay, samples)  # (S,)
    else:
        ev = evaluate_serving(p, lay, samples)  # (1, S)
    if r.metric == "tpot_s":  # one stream: the time between its tokens, its prefill in TTFT
        return (ev.tpot_decode_s if r.mode == "single_stream" else ev.tpot_s).reshape(-1)
    if r.metric == "ttft_s":
        return ev.ttft_s.reshape(-1)
    out = ev.output_tokens_per_s_per_chip.reshape(-1)
    if r.metric == "total_tokens_per_s_per_chip":
        return out * (p.input_len + p.output_len) / p.output_len
    return out
