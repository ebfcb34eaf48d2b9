"""Software-stack rules per vendor and workload (data/stacks.toml): head sharding, what a TP
degree counts, and how a serving engine admits a batch into its KV cache.

A vendor without its own record takes `default`'s. The rules are configuration facts with
sources, not fitted numbers; `workload.heads` turns the head rule into padding factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xpuplan.catalog.measurements import stack_records
from xpuplan.specs.hardware import ChipSpec


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
    max_running_batch: int | None = None  # serve: the engine's default cap on running sequences
    eager_kernels_per_layer: int | None = None  # serve: kernels per layer without graphs
    eager_launch_s: float | None = None  # serve: host time to launch one kernel, s

    def ranks_per_chip(self, chip: ChipSpec) -> int:
        """Tensor-parallel ranks on one chip under this stack: logical cores or 1."""
        return chip.ranks_per_chip if self.tp_counts == "logical_cores" else 1


@lru_cache(maxsize=1)
def _rules() -> dict[tuple[str, str], StackRules]:
    return {(r.vendor, r.workload): StackRules(
        vendor=r.vendor, workload=r.workload, name=r.name, heads=r.heads, tp_counts=r.tp_counts,
        kv_admission=r.kv_admission, weight_only=r.weight_only, source=r.source,
        tp_comm_overlap=r.tp_comm_overlap, max_running_batch=r.max_running_batch,
        eager_kernels_per_layer=r.eager_kernels_per_layer,
        eager_launch_s=r.eager_launch_us * 1e-6 if r.eager_launch_us else None)
        for r in stack_records()}


def gemm_precision(vendor: str, weights: str) -> str:
    """The precision a serving stack's GEMMs run at for `weights` when activations are not
    given: bf16 for its weight-only formats, else the weights' own."""
    return "bf16" if weights in stack_rules(vendor, "serve").weight_only else weights


def stack_rules(vendor: str, workload: str) -> StackRules:
    """The rules of `vendor`'s stack for `workload` ('train' or 'serve'), else default's."""
    rules = _rules()
    return rules.get((vendor, workload)) or rules[("default", workload)]
