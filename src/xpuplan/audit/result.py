"""An audit's result: counts per kind, findings with each target's offer, effort and cost.

`run_audit` is the whole audit (walk, scan, effort); `xpuplan.api.audit` calls it, and so does
the plan layer (`cost.migration_weeks`) for a vendor's `migration_audit`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xpuplan.audit.effort import TargetEffort, check_coverage, load_effort, target_effort
from xpuplan.audit.findings import KINDS, Finding
from xpuplan.audit.rules import TARGETS, Rules, load_rules
from xpuplan.audit.scan import scan_tree
from xpuplan.audit.walk import check_root
from xpuplan.errors import SpecError


@dataclass
class AuditResult:
    """What a tree needs to leave CUDA; SI-free by nature (counts, weeks, dollars)."""

    path: str
    targets: tuple[str, ...]
    files_scanned: int
    files_skipped: dict[str, int]
    parse_errors: list[dict]
    partial_parses: list[dict]
    counts: dict[str, int]
    findings: list[Finding]
    effort: dict[str, TargetEffort]
    usd_per_engineer_week: float
    usd_per_engineer_week_source: str
    hipify_perl: str | None  # its path when installed
    rules: Rules

    def migration_cost_usd(self, target: str) -> dict[str, float]:
        """Cost = engineer-weeks × $/engineer-week, low / mid / high."""
        w = self.effort[target].engineer_weeks
        return {k: v * self.usd_per_engineer_week for k, v in w.items()}

    def to_dict(self) -> dict:
        """The JSON document (`xpuplan audit --json`); strict JSON, no NaN."""
        return {
            "path": self.path, "targets": list(self.targets),
            "files_scanned": self.files_scanned, "files_skipped": self.files_skipped,
            "parse_errors": self.parse_errors, "partial_parses": self.partial_parses,
            "counts": self.counts,
            "findings": [self._finding(f) for f in self.findings],
            "effort": {t: {"engineer_weeks": e.engineer_weeks, "by_kind": e.by_kind,
                           "top_items": e.top_items, "assumptions": e.assumptions}
                       for t, e in self.effort.items()},
            "usd_per_engineer_week": self.usd_per_engineer_week,
            "usd_per_engineer_week_source": self.usd_per_engineer_week_source,
            "migration_cost_usd": {t: self.migration_cost_usd(t) for t in self.targets},
            # ROCm statuses come from audit_targets.toml; hipify-perl is only detected
            "hipify_perl": {"available": self.hipify_perl is not None,
                            "path": self.hipify_perl, "used_to_confirm_statuses": False},
        }

    def _finding(self, f: Finding) -> dict:
        offers = self.rules.by_id[f.rule].offers
        out = {"path": f.path, "line": f.line, "kind": f.kind, "symbol": f.symbol,
               "rule": f.rule}
        if f.loc is not None:
            out["loc"] = f.loc
        for t in self.targets:
            o = offers[t]
            out[t] = {"status": o.status, "replacement": o.replacement, "docs": o.docs}
        return out


def counts_of(findings: list[Finding]) -> dict[str, int]:
    """Findings per kind, plus `cuda_kernel_loc` (Σ lines of the CUDA kernels)."""
    counts = dict.fromkeys(KINDS, 0)
    for f in findings:
        counts[f.kind] += 1
    counts["cuda_kernel_loc"] = sum(f.loc or 0 for f in findings if f.kind == "cuda_kernels")
    return counts


def run_audit(path, targets=TARGETS, usd_per_engineer_week: float | None = None,
              effort_file: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Audit the directory `path` for the given targets."""
    bad = [t for t in targets if t not in TARGETS]
    if bad or not targets:
        raise SpecError("target", ",".join(bad) or "", f"allowed: {', '.join(TARGETS)}")
    if usd_per_engineer_week is not None and not usd_per_engineer_week > 0:
        raise SpecError("usd_per_engineer_week", usd_per_engineer_week, "must be > 0")
    root = check_root(path)
    rules = load_rules()
    model = load_effort(effort_file)
    check_coverage(rules, model)
    scan = scan_tree(root, rules, progress)
    usd = usd_per_engineer_week or model.usd_per_engineer_week
    source = ("given" if usd_per_engineer_week else model.usd_source)
    return AuditResult(
        path=str(Path(path)), targets=tuple(targets), files_scanned=scan.files_scanned,
        files_skipped=dict(sorted(scan.skipped.items())), parse_errors=scan.parse_errors,
        partial_parses=scan.partial_parses, counts=counts_of(scan.findings),
        findings=scan.findings,
        effort={t: target_effort(scan.findings, t, rules, model) for t in targets},
        usd_per_engineer_week=usd, usd_per_engineer_week_source=source,
        hipify_perl=shutil.which("hipify-perl"), rules=rules)
