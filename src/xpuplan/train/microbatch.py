"""One micro-batch of a training step: its sizes on the busiest pipeline stage and the share
of its forward that layer checkpointing runs again; what train/step.py and train/comms.py
both read (DESIGN.md sec. 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.specs.layouts import Layouts
from xpuplan.workload.layer import LayerShape


@dataclass(frozen=True)
class MicroBatch:
    """One micro-batch on one chip of the busiest pipeline stage; arrays of shape (n_cfg,)."""

    layers: np.ndarray  # L_s = ⌈L/p⌉ layers of the stage
    n_micro: np.ndarray  # m = B/(d·μ) micro-batches per step
    tokens: np.ndarray  # b = μ·S/c tokens of the micro-batch per CP rank
    seq_div: np.ndarray  # σ = t under sequence parallelism, else 1
    tp_ranks: np.ndarray  # T = t·r TP ranks, r per chip, that split each GEMM's width


def micro_batch(s: LayerShape, lay: Layouts, seq_len: int, global_batch: int,
                ranks_per_chip: int = 1) -> MicroBatch:
    """The micro-batch sizes of every layout: L_s = ⌈L/p⌉, m = B/(d·μ), b = μ·S/c, σ, T = t·r.

    r is the stack's TP ranks per chip (hardware.stacks: NxD counts each NeuronCore, 2 per
    trn1 chip, as a rank; 1 elsewhere): every rank runs its own GEMM on 1/T of the width.
    """
    return MicroBatch(layers=np.ceil(s.n_layers / lay.pp),
                      n_micro=global_batch / (lay.dp * lay.micro_batch),
                      tokens=lay.micro_batch * seq_len / lay.cp,
                      seq_div=np.where(lay.sp, lay.tp, 1),
                      tp_ranks=lay.tp * ranks_per_chip)


def recomputed_share(lay: Layouts) -> np.ndarray:
    """Share of one forward pass that layer checkpointing runs again, (n_cfg,): f under
    recompute code 2, else 0 (selective recomputes no GEMM and no collective)."""
    return np.where(lay.recompute == 2, lay.recompute_fraction, 0.0)
