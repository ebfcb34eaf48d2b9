"""Software-stack rules per vendor and workload (data/stacks.toml): head sharding, what a TP
degree counts, and how a serving engine admits a batch into its KV cache.

A vendor without its own record takes `default`'s. Serving has one record per engine
(tensorrt-llm, vllm, sglang, ...); a chip's vendor names its default one (`vendor_default`),
and a validation row's engine is read from its framework column (`engine_for_framework`).
The rules are configuration facts with sources, not fitted numbers; `workload.heads` turns
the head rule into padding factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xpuplan.catalog.measurements import EngineTier, RequestPool, stack_records
from xpuplan.errors import SpecError
from xpuplan.specs.hardware import ChipSpec

GIB = 2**30  # engines compare the device memory they query in GiB


@dataclass(frozen=True)
class StackRules:
    """One stack's rules (data/stacks.toml header says what each value means)."""

    vendor: str
    workload: str  # "train" or "serve"
    name: str
    # allowed values: catalog.measurements.StackRecord
    heads: str  # "pad" or "divide"
    tp_counts: str  # "chips" or "logical_cores"
    kv_admission: str | None  # serve only: one of StackRecord.kv_admission
    weight_only: tuple[str, ...]  # weight formats dequantized to bf16 before the GEMMs
    source: str
    tp_comm_overlap: float = 0.0  # train: share of the TP GEMMs collective matmuls hide comm under
    zero3_reduce_scatter_overlap: float = 1.0  # train: share of ZeRO-3 RS the scheduler may hide
    zero3_all_gather_overlap_with_tp: float = 1.0  # train: same, ZeRO-3 AG beside TP collectives
    zero3_per_layer: bool = False  # train: ZeRO-3 collectives one layer at a time (α each)
    core_all_reduce_hbm_touches: float | None = None  # train: HBM bytes per byte of on-chip TP AR
    collective_stages_serial: bool = False  # train: a multi-node collective's stages add
    max_running_batch: int | None = None  # serve: the engine's default cap on running sequences
    windowed_kv_pool: bool = True  # serve: a sliding-window layer's cache holds only its window
    engine: str = ""  # serve: the engine's CLI name (tensorrt-llm, vllm, sglang, ...)
    max_batched_tokens: int | None = None  # serve: tokens one forward pass schedules
    tiers: tuple[EngineTier, ...] = ()  # serve: per-chip defaults that replace the flat ones
    eager_kernels_per_layer: int | None = None  # serve: kernels per layer without graphs
    eager_launch_s: float | None = None  # serve: host time to launch one kernel, s
    serial_host_step_s: float | None = None  # serve: host work per scheduler call the device
    serial_host_seq_s: float | None = None  # waits for (serve.host), fixed and per sequence, s
    scheduler_steps: int = 1  # serve: the engine's default decode steps per scheduler call
    context_bucket_min_tokens: int | None = None  # serve: smallest power-of-two prefill bucket
    decode_attention_max_context: int | None = None  # serve: GQA decode kernel's longest context
    request_pool: RequestPool | None = None  # serve: the running cap sized from the KV pool
    overhead_per_layer: bool = False  # serve: the fitted fixed overhead is per layer (device)
    pipelined_prefill: bool = False  # serve: pp stages prefill different micro-batches at once

    def ranks_per_chip(self, chip: ChipSpec) -> int:
        """Tensor-parallel ranks on one chip under this stack: logical cores or 1."""
        return chip.ranks_per_chip if self.tp_counts == "logical_cores" else 1

    def _tier(self, chip: ChipSpec) -> EngineTier | None:
        """The tier naming `chip`, else the one with the most hbm_gib_min <= its HBM."""
        named = [t for t in self.tiers if chip.id in t.chips]
        sized = [t for t in self.tiers if not t.chips and t.hbm_gib_min * GIB <= chip.hbm_bytes]
        return named[0] if named else max(sized, key=lambda t: t.hbm_gib_min, default=None)

    def max_batch_on(self, chip: ChipSpec) -> int | None:
        """The engine's default cap on running sequences on `chip` (its tier's, else flat);
        with a request_pool, the ceiling of the pool-sized cap (serve.memory.request_pool_cap)."""
        tier = self._tier(chip)
        return (tier.max_running_batch if tier and tier.max_running_batch
                else self.max_running_batch)

    def batched_tokens_on(self, chip: ChipSpec) -> int | None:
        """Tokens one forward pass of the engine schedules on `chip` by default, or None."""
        tier = self._tier(chip)
        return (tier.max_batched_tokens if tier and tier.max_batched_tokens
                else self.max_batched_tokens)


@lru_cache(maxsize=1)
def _rules() -> dict[tuple[str, str, str], StackRules]:
    """(vendor, workload, engine) -> rules; training records have engine ""."""
    return {(r.vendor, r.workload, r.engine or ""): StackRules(
        vendor=r.vendor, workload=r.workload, name=r.name, heads=r.heads, tp_counts=r.tp_counts,
        kv_admission=r.kv_admission, weight_only=r.weight_only, source=r.source,
        tp_comm_overlap=r.tp_comm_overlap,
        zero3_reduce_scatter_overlap=r.zero3_reduce_scatter_overlap,
        zero3_all_gather_overlap_with_tp=r.zero3_all_gather_overlap_with_tp,
        zero3_per_layer=r.zero3_per_layer,
        core_all_reduce_hbm_touches=r.core_all_reduce_hbm_touches,
        collective_stages_serial=r.collective_stages_serial,
        max_running_batch=r.max_running_batch,
        windowed_kv_pool=r.windowed_kv_pool, engine=r.engine or "",
        max_batched_tokens=r.max_batched_tokens, tiers=r.tier,
        eager_kernels_per_layer=r.eager_kernels_per_layer,
        eager_launch_s=_us(r.eager_launch_us),
        serial_host_step_s=_us(r.serial_host_step_us), serial_host_seq_s=_us(r.serial_host_seq_us),
        scheduler_steps=r.scheduler_steps, context_bucket_min_tokens=r.context_bucket_min_tokens,
        decode_attention_max_context=r.decode_attention_max_context,
        request_pool=r.request_pool, overhead_per_layer=r.fixed_overhead_per == "layer",
        pipelined_prefill=r.pipelined_prefill)
        for r in stack_records()}


def _us(value: float | None) -> float | None:
    """µs -> s, keeping None."""
    return None if value is None else value * 1e-6


@lru_cache(maxsize=1)
def _defaults() -> dict[str, str]:
    """vendor -> its default serving engine (the one marked vendor_default, else its first)."""
    by_vendor: dict[str, list] = {}
    for r in stack_records():
        if r.workload == "serve":
            by_vendor.setdefault(r.vendor, []).append(r)
    return {v: next((r.engine for r in rs if r.vendor_default), rs[0].engine)
            for v, rs in by_vendor.items()}


def serving_engines(vendor: str) -> tuple[str, ...]:
    """The serving engines with a record for `vendor` (default's if it has none), in file order."""
    have = tuple(e for (v, w, e) in _rules() if v == vendor and w == "serve")
    return have or serving_engines("default")


def default_engine(vendor: str) -> str:
    """The serving engine a chip of `vendor` gets unless told (data/stacks.toml vendor_default)."""
    return _defaults().get(vendor) or _defaults()["default"]


def engine_for_framework(vendor: str, framework: str) -> str:
    """The engine a validation row ran, from its framework column: the one of `vendor`'s
    engines with the longest `frameworks` word the text contains (any case: "vllm 0.6" names
    V0 before "vllm" names V1), else the vendor default."""
    text = framework.lower()
    hits = [(len(w), r.engine or "") for r in stack_records()
            if r.workload == "serve" and r.vendor == vendor
            for w in r.frameworks if w.lower() in text]
    return max(hits, key=lambda h: h[0])[1] if hits else default_engine(vendor)  # ties: file order


def gemm_precision(vendor: str, weights: str, engine: str | None = None) -> str:
    """The precision a serving stack's GEMMs run at for `weights` when activations are not
    given: bf16 for its weight-only formats, else the weights' own."""
    return "bf16" if weights in stack_rules(vendor, "serve", engine).weight_only else weights


def stack_rules(vendor: str, workload: str, engine: str | None = None) -> StackRules:
    """The rules of `vendor`'s stack for `workload` ('train' or 'serve'), else default's;
    serving takes `engine` (None: the vendor's default), refused if the vendor has none such."""
    rules = _rules()
    if workload == "train":
        return rules.get((vendor, workload, "")) or rules[("default", workload, "")]
    own = vendor if any(v == vendor and w == workload for v, w, _ in rules) else "default"
    name = engine or default_engine(own)
    if (own, workload, name) not in rules:
        raise unknown_engine(name, (own, f"{vendor} chips serve"))
    return rules[(own, workload, name)]


def unknown_engine(engine: str, *lacking: tuple[str, str]) -> SpecError:
    """The one error for a serving engine some vendors have no record of: for each (vendor,
    who) in `lacking` (who: "H100 serves"), the engines that vendor has, with its default,
    in one line ("; " between chips)."""
    return SpecError("engine", engine, "; ".join(
        f"{who} with {', '.join(serving_engines(vendor))} (default {default_engine(vendor)})"
        for vendor, who in lacking))
