"""API: the validation report (training and serving rows)."""

from __future__ import annotations

import functools
import threading

from xpuplan.calibrate.report import ValidationReport, validation_report

_lock = threading.Lock()


def validate() -> ValidationReport:
    """Every usable published run predicted in-sample and leave-one-source-out.

    The shipped rows and fits do not change within a process, so the report (about a minute
    of refits) is computed once and shared: read it, do not modify it. Concurrent first calls
    wait for the one that computes.
    """
    with _lock:
        return _report()


@functools.lru_cache(maxsize=1)
def _report() -> ValidationReport:
    return validation_report()
