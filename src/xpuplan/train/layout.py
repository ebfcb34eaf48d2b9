"""Layouts: arrays of parallel training configurations, one entry per configuration.

tp tensor, pp pipeline, dp data, cp context (sequence) and ep expert parallel sizes count
chips (a Trainium or TPU chip, not a core); tp·pp·dp·cp = chips, and ep folds over dp·cp·tp
ranks with expert-tensor-parallel 1 (Megatron-Core "MoE parallel folding"). vpp is the number
of virtual pipeline stages per rank (interleaved 1F1B), micro_batch the sequences per micro-batch,
zero the ZeRO stage (3 = FSDP), recompute 0 none / 1 selective / 2 full, sp sequence parallel.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

RECOMPUTE = ("none", "selective", "full")


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

    def __len__(self) -> int:
        return len(self.tp)

    @classmethod
    def build(cls, **columns) -> Layouts:
        """From scalars or arrays (broadcast); sp defaults to tp > 1."""
        names = [f.name for f in fields(cls)]
        defaults = {"cp": 1, "ep": 1, "vpp": 1, "micro_batch": 1, "zero": 1, "recompute": 0}
        values = {k: columns.get(k, defaults.get(k)) for k in names if k != "sp"}
        arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.int64) for v in values.values()])
        built = dict(zip(values, (np.atleast_1d(np.array(a)) for a in arrays), strict=True))
        sp = columns.get("sp")
        built["sp"] = (built["tp"] > 1) if sp is None else np.broadcast_to(
            np.asarray(sp, dtype=bool), built["tp"].shape).copy()
        return cls(**built)

    def take(self, index) -> Layouts:
        """The configurations at `index` (int array or boolean mask)."""
        return Layouts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict:
        """Configuration i as plain Python values (recompute by name)."""
        out = {f.name: getattr(self, f.name)[i].item() for f in fields(self)}
        out["recompute"] = RECOMPUTE[out["recompute"]]
        return out
