"""Layouts: arrays of parallel configurations (training and serving), one entry per configuration.

Training (`Layouts`):

tp tensor, pp pipeline, dp data, cp context (sequence) and ep expert parallel sizes count
chips (a Trainium or TPU chip, not a core); tp·pp·dp·cp = chips, and ep folds over dp·cp·tp
ranks with expert-tensor-parallel 1 (Megatron-Core "MoE parallel folding"). vpp is the number
of virtual pipeline stages per rank (interleaved 1F1B), micro_batch the sequences per micro-batch,
zero the ZeRO stage (3 = FSDP), recompute 0 none / 1 selective / 2 full, sp sequence parallel.
recompute_fraction f ∈ [0, 1] (float) is the share of each layer's forward FLOPs that a
layer-checkpointing recompute (code 2) runs again in the backward: 1 = full recompute, below
1 a policy that saves some tensors (workload.remat: MaxText's named save lists); it defaults to
1 for full and 0 otherwise, and is ignored by none and selective.

Serving (`ServeLayouts`): a replica is tp·pp chips holding one copy of the dense weights;
ep ≤ tp splits the experts over ep of the tp ranks, ep > tp (a multiple of tp) spreads them
over ep/tp replicas whose attention runs data-parallel ("DEP"); batch is the number of
sequences a replica decodes concurrently, split into pp micro-batches when pp > 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum

import numpy as np

from xpuplan.errors import SpecError


class Recompute(StrEnum):
    """Activation recompute of a training layout (`Layout.recompute`)."""
    none = "none"
    selective = "selective"
    full = "full"


RECOMPUTE = tuple(r.value for r in Recompute)  # the order is the array code (0, 1, 2)


def divisors(n: int) -> list[int]:
    """The positive divisors of n, ascending: trial division up to √n, O(√n)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


@dataclass(frozen=True)
class Layouts:
    """Equal-length int64 arrays, shape (n_cfg,); `sp` is bool."""

    tp: np.ndarray
    pp: np.ndarray
    dp: np.ndarray
    cp: np.ndarray
    ep: np.ndarray
    vpp: np.ndarray
    micro_batch: np.ndarray
    zero: np.ndarray
    recompute: np.ndarray
    sp: np.ndarray
    recompute_fraction: np.ndarray  # float64; f of the recomputed forward (module doc)

    def __len__(self) -> int:
        return len(self.tp)

    @classmethod
    def build(cls, **columns) -> Layouts:
        """From scalars or arrays (broadcast); sp defaults to tp > 1, recompute_fraction to
        1 under full recompute and 0 otherwise (SpecError outside [0, 1])."""
        names = [f.name for f in fields(cls)]
        defaults = {"cp": 1, "ep": 1, "vpp": 1, "micro_batch": 1, "zero": 1, "recompute": 0}
        values = {k: columns.get(k, defaults.get(k)) for k in names
                  if k not in ("sp", "recompute_fraction")}
        f = columns.get("recompute_fraction")
        arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.int64) for v in values.values()],
                                     np.asarray(np.nan if f is None else f, dtype=np.float64))
        built = dict(zip(values, (np.atleast_1d(np.array(a)) for a in arrays[:-1]),
                         strict=True))
        shape = built["tp"].shape
        sp = columns.get("sp")
        built["sp"] = (built["tp"] > 1) if sp is None else np.broadcast_to(
            np.asarray(sp, dtype=bool), shape).copy()
        default_f = np.where(built["recompute"] == 2, 1.0, 0.0)
        built["recompute_fraction"] = default_f if f is None else np.atleast_1d(
            np.array(arrays[-1]))
        bad = ~((built["recompute_fraction"] >= 0) & (built["recompute_fraction"] <= 1))
        if bad.any():
            raise SpecError("recompute_fraction", float(built["recompute_fraction"][bad][0]),
                            "the share of the forward recomputed must be in [0, 1]")
        return cls(**built)

    def take(self, index) -> Layouts:
        """The configurations at `index` (int array or boolean mask)."""
        return Layouts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict:
        """Configuration i as plain Python values (recompute by name)."""
        out = {f.name: getattr(self, f.name)[i].item() for f in fields(self)}
        out["recompute"] = RECOMPUTE[out["recompute"]]
        return out


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
