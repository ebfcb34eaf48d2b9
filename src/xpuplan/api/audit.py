"""API: the CUDA lock-in audit of a source tree (issue #16)."""

from __future__ import annotations

import os
from collections.abc import Callable

from xpuplan.audit.result import AuditResult, run_audit
from xpuplan.audit.rules import TARGETS

AUDIT_TARGETS = TARGETS


def audit(path: str | os.PathLike, *, targets: tuple[str, ...] | list[str] = TARGETS,
          usd_per_engineer_week: float | None = None, effort_file: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Scan `path` for CUDA-specific code and cost its port to each target.

    `targets` from neuron, xla, rocm; `usd_per_engineer_week` overrides the sourced default
    (audit_effort.toml); `effort_file` is a TOML of effort records that replace the built-in
    ones of the same kind; `progress(done, total)` is called after each file.
    """
    return run_audit(path, tuple(targets), usd_per_engineer_week, effort_file, progress)


__all__ = ["AUDIT_TARGETS", "AuditResult", "audit"]
