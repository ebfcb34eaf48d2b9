"""Serving layouts: arrays of (tp, pp, ep, batch) per configuration, plus the fixed problem.

A replica is tp·pp chips (a Trainium or TPU chip counts as one, not its cores) holding one
copy of the dense weights; replicas = chips / (tp·pp). ep ≤ tp splits the experts over ep of
the tp ranks; ep > tp (a multiple of tp) spreads them over ep/tp replicas whose attention runs
data-parallel ("DEP"). batch is the number of sequences a replica decodes concurrently
(continuous batching), split into pp micro-batches when pp > 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from xpuplan.hardware.efficiency import ChipEfficiency, ServeCalibration
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision


@dataclass(frozen=True)
class ServeLayouts:
    """Equal-length int64 arrays, shape (n_cfg,)."""

    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray
    batch: np.ndarray

    def __len__(self) -> int:
        return len(self.tp)

    @classmethod
    def build(cls, tp, pp=1, ep=1, batch=1) -> ServeLayouts:
        arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(v, dtype=np.int64))
                                       for v in (tp, pp, ep, batch)])
        return cls(*[np.array(a) for a in arrays])

    def take(self, index) -> ServeLayouts:
        return ServeLayouts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict:
        return {f.name: getattr(self, f.name)[i].item() for f in fields(self)}


@dataclass(frozen=True)
class ServeProblem:
    """Everything fixed across the serving layouts being compared."""

    model: ModelSpec
    chip: ChipSpec
    efficiency: ChipEfficiency
    calibration: ServeCalibration
    n_chips: int
    input_len: int
    output_len: int
    weights: Precision
    kv: Precision
    compute: Precision  # the precision GEMMs run at (the activations'; the weights' by default)
    reserved_bytes: float
    usd_per_chip_s: float | None
    disaggregated: bool = False
