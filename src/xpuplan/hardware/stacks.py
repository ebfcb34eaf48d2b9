"""Software-stack rules per vendor and workload (data/stacks.toml): head sharding, what a TP
degree counts, and how a serving engine admits a batch into its KV cache.

A vendor without its own record takes `default`'s. The rules are configuration facts with
sources, not fitted numbers; `workload.heads` turns the head rule into padding factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.records import read_table_file
from xpuplan.errors import CatalogError
from xpuplan.specs.hardware import ChipSpec

HEAD_RULES = ("pad", "divide")
TP_COUNTS = ("chips", "logical_cores")
ADMISSIONS = ("paged_resident_tokens", "full_sequence")


@dataclass(frozen=True)
class StackRules:
    """One stack's rules (data/stacks.toml header says what each value means)."""

    vendor: str
    workload: str  # "train" or "serve"
    name: str
    heads: str  # HEAD_RULES
    tp_counts: str  # TP_COUNTS
    kv_admission: str | None  # ADMISSIONS (serve only)
    weight_only: tuple[str, ...]  # weight formats dequantized to bf16 before the GEMMs
    source: str
    tp_comm_overlap: float = 0.0  # train: share of the TP GEMMs collective matmuls hide comm under

    def ranks_per_chip(self, chip: ChipSpec) -> int:
        """Tensor-parallel ranks on one chip under this stack: logical cores or 1."""
        return chip.ranks_per_chip if self.tp_counts == "logical_cores" else 1


@lru_cache(maxsize=1)
def _rules() -> dict[tuple[str, str], StackRules]:
    path = builtin_file("stacks.toml")
    out = {}
    for i, row in enumerate(read_table_file(path).get("stack", [])):
        where = f"stack[{i}]"
        for key in ("vendor", "workload", "name", "heads", "tp_counts", "source", "retrieved"):
            if not row.get(key):
                raise CatalogError(str(path), f"{where}.{key}", "missing")
        checks = [("heads", HEAD_RULES), ("tp_counts", TP_COUNTS)]
        if row["workload"] == "serve":
            checks.append(("kv_admission", ADMISSIONS))
        for key, allowed in checks:
            if row.get(key) not in allowed:
                raise CatalogError(str(path), f"{where}.{key}",
                                   f"{row.get(key)!r}; allowed: {', '.join(allowed)}")
        overlap = row.get("tp_comm_overlap", 0.0)
        if not isinstance(overlap, int | float) or not 0.0 <= overlap <= 1.0:
            raise CatalogError(str(path), f"{where}.tp_comm_overlap",
                               f"{overlap!r}; allowed: a number from 0 to 1")
        if overlap and not row.get("tp_comm_overlap_source"):
            raise CatalogError(str(path), f"{where}.tp_comm_overlap_source", "missing")
        out[(row["vendor"], row["workload"])] = StackRules(
            vendor=row["vendor"], workload=row["workload"], name=row["name"],
            heads=row["heads"], tp_counts=row["tp_counts"],
            kv_admission=row.get("kv_admission"),
            weight_only=tuple(row.get("weight_only", ())), source=row["source"],
            tp_comm_overlap=float(overlap))
    return out


def gemm_precision(vendor: str, weights: str) -> str:
    """The precision a serving stack's GEMMs run at for `weights` when activations are not
    given: bf16 for its weight-only formats, else the weights' own."""
    return "bf16" if weights in stack_rules(vendor, "serve").weight_only else weights


def stack_rules(vendor: str, workload: str) -> StackRules:
    """The rules of `vendor`'s stack for `workload` ('train' or 'serve'), else default's."""
    rules = _rules()
    return rules.get((vendor, workload)) or rules[("default", workload)]
