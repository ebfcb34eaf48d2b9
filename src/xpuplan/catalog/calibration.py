"""Fitted calibration records: data/calibration.toml (training) and calibration_infer.toml
(serving), written by scripts/calibrate_train.py and scripts/calibrate_infer.py.

Per fitted group (`[train."<group>"]`, `[infer."<group>"]`) the parameters and their spread;
per chip at a precision class (`<kind>_coverage`) the development rows behind it; and the
parameters that ended at a search bound (`<kind>_at_bound`). Microseconds in the file become
seconds here, once (`gemm_overhead_s`, `step_overhead_s`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from xpuplan.catalog.data import keyed_records, records

Kind = Literal["train", "infer"]
FILES: dict[str, str] = {"train": "calibration.toml", "infer": "calibration_infer.toml"}


class _Fitted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    n_rows: int = Field(ge=0)  # development rows it was fitted on
    n_sources: int = Field(0, ge=0)  # independent sources among them
    log_sd_loso: float = Field(0.0, ge=0)  # spread of the leave-one-source-out log residuals
    median_error_loso: float = Field(ge=0)
    source: str = Field(min_length=1)


class TrainGroup(_Fitted):
    """One training group's fitted parameters (calibrate.calibrate)."""

    compute_scale: float = Field(gt=0)  # sustained GEMM rate in a full step / MAMF
    compute_scale_sd: float = Field(ge=0)  # std. dev. of the log residuals, in-sample
    gemm_half_dim: float = Field(ge=0)  # GEMM dimension at which the rate halves
    gemm_overhead_us: float = Field(ge=0)  # fixed time per expert GEMM call

    @property
    def gemm_overhead_s(self) -> float:
        """Fixed time per expert GEMM call, s."""
        return self.gemm_overhead_us * 1e-6

    @property
    def log_sd(self) -> float:
        """In-sample spread of the log residuals."""
        return self.compute_scale_sd


class InferGroup(_Fitted):
    """One serving group's fitted parameters (calibrate.serve_grid)."""

    compute_scale: float = Field(gt=0)  # sustained GEMM rate in prefill / MAMF
    memory_scale: float = Field(gt=0)  # sustained decode read bandwidth / STREAM bandwidth
    step_overhead_us: float = Field(ge=0)  # fixed host cost per decode step
    layer_overhead_us: float = Field(ge=0)  # fixed device time per decoder layer (GPU engines)
    seq_overhead_us: float = Field(ge=0)  # host cost per running sequence per decode step
    latency_scale: float = Field(gt=0)  # serving collectives' α / the measured α
    log_sd: float = Field(ge=0)  # in-sample spread of the log residuals

    @property
    def step_overhead_s(self) -> float:
        """Fixed host cost per decode step (stacks with fixed_overhead_per = "step"), s."""
        return self.step_overhead_us * 1e-6

    @property
    def layer_overhead_s(self) -> float:
        """Fixed device time per decoder layer of a GPU engine (stacks.toml fixed_overhead_per
        = "layer": serve.step.fixed_device_time), s."""
        return self.layer_overhead_us * 1e-6

    @property
    def seq_overhead_s(self) -> float:
        """Host cost per running sequence per decode step, s."""
        return self.seq_overhead_us * 1e-6


class Coverage(BaseModel):
    """The development rows on one chip at one precision class."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = Field(ge=0)
    fit_rows: int = Field(ge=0)
    sources: int = Field(ge=0)
    median_error_loso: float = Field(ge=0)
    log_sd_loso: float = Field(ge=0)


class AtBound(BaseModel):
    """A fitted parameter that ended at its search bound, and what the group falls back to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str
    parameter: str
    value: int | float  # as the script wrote it (an integer stays one in --json)
    bound: str  # which end of the search grid
    fallback: str  # a group id, or "none"


@dataclass(frozen=True)
class Calibration:
    """One calibration file, validated."""

    kind: str
    groups: Mapping[str, TrainGroup] | Mapping[str, InferGroup]
    coverage: Mapping[str, Coverage]
    at_bound: tuple[AtBound, ...]


def train_groups() -> Mapping[str, TrainGroup]:
    """Every fitted training group by key (family/precision, vendor/precision, ..., default)."""
    return keyed_records(FILES["train"], "train", TrainGroup)


def infer_groups() -> Mapping[str, InferGroup]:
    """Every fitted serving group by key."""
    return keyed_records(FILES["infer"], "infer", InferGroup)


@cache
def calibration(kind: Kind) -> Calibration:
    """The shipped calibration of `kind` ('train' or 'infer')."""
    groups = train_groups() if kind == "train" else infer_groups()
    return Calibration(kind=kind, groups=groups,
                       coverage=keyed_records(FILES[kind], f"{kind}_coverage", Coverage),
                       at_bound=records(FILES[kind], f"{kind}_at_bound", AtBound))
