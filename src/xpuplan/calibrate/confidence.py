"""How far to trust a prediction: its calibration group's evidence, from the shipped fits.

Read from data/calibration.toml and calibration_infer.toml (written by the calibration
scripts, so no validation runs at prediction time): per fitted group its rows, independent
sources and leave-one-source-out (LOSO) median error and spread; per chip at a precision
class (`<kind>_coverage`) the development rows behind it.
  validated    : the chip has rows at this precision class; error = those rows' LOSO median
  extrapolated : it has none (why: no rows for the chip, or none at this precision)
Interval spread (log-normal σ), the rule:
  validated    σ = max(σ_group, σ_group,LOSO, σ_chip,LOSO)
  extrapolated σ = sqrt(max(σ_group, σ_group,LOSO)² + σ_chip²),  σ_chip = the RMS of
                   log(1 + LOSO median error) over every covered chip/precision: how far a
                   chip the fit never saw typically lands
so an interval is never narrower than the group's measured LOSO spread, and wider off the
validated chips. An unvalidated chip is never an error, only marked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import partial

from xpuplan.catalog.calibration import Coverage, Kind, calibration
from xpuplan.hardware.efficiency import group_keys
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.precision import precision_class


@dataclass(frozen=True)
class Confidence:
    """The evidence behind one prediction (see module doc)."""

    status: str  # "validated" or "extrapolated"
    why: str  # for extrapolated: what is missing; for validated: ""
    group: str  # the calibration group whose parameters it uses
    group_rows: int
    group_sources: int
    group_median_error_loso: float  # the calibration scripts write it for every group
    chip_rows: int  # development rows on this chip at this precision class
    chip_sources: int
    chip_median_error_loso: float | None
    interval_log_sd: float  # σ of the log-normal interval (module doc rule)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        """Compact text for a table cell."""
        if self.status == "validated":
            return (f"validated ±{self.chip_median_error_loso:.0%} "
                    f"({self.chip_rows} rows, {self.chip_sources} src)")
        return f"extrapolated ({self.why})"


def _chip_spread(coverage: Mapping[str, Coverage]) -> float:
    misses = [math.log1p(v.median_error_loso) for v in coverage.values()]
    return math.sqrt(sum(m * m for m in misses) / len(misses)) if misses else 0.0


def confidence_for(kind: Kind, chip: ChipSpec, precision: str) -> Confidence:
    """The confidence of a `kind` ('train' or 'infer') prediction on `chip` at `precision`."""
    fitted = calibration(kind)
    key = next(k for k in group_keys(chip, precision) if k in fitted.groups)
    g = fitted.groups[key]
    sd_group = max(g.log_sd, g.log_sd_loso)
    cls = precision_class(precision)
    here = fitted.coverage.get(f"{chip.id}/{cls}")
    confidence = partial(Confidence, group=key, group_rows=g.n_rows, group_sources=g.n_sources,
                         group_median_error_loso=g.median_error_loso)
    if here:
        sd = max(sd_group, here.log_sd_loso)
        return confidence(status="validated", why="", chip_rows=here.rows,
                          chip_sources=here.sources,
                          chip_median_error_loso=here.median_error_loso, interval_log_sd=sd)
    other = sorted(k.split("/")[1] for k in fitted.coverage if k.split("/")[0] == chip.id)
    why = (f"no {kind} rows for {chip.id} at {cls}; rows at {', '.join(other)}" if other
           else f"no {kind} rows for {chip.id}")
    sd = math.sqrt(sd_group ** 2 + _chip_spread(fitted.coverage) ** 2)
    return confidence(status="extrapolated", why=why, chip_rows=0, chip_sources=0,
                      chip_median_error_loso=None, interval_log_sd=sd)
