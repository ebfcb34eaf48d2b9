"""API: the validation report (training and serving rows)."""

from __future__ import annotations

from xpuplan.calibrate.report import ValidationReport, validation_report


def validate() -> ValidationReport:
    """Every usable published run predicted in-sample and leave-one-source-out."""
    return validation_report()
