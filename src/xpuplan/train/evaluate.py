"""Evaluate arrays of training layouts: legality masks, memory, step time, throughput, MFU.

MFU = tokens/s · F_model / (chips · P), with F_model the model FLOPs per token of
`workload.flops.flops_per_token_train` (6N + attention unhalved, MTP included; no recompute)
and P = hardware.roofline.mfu_peak_flops: the chip's dense peak at the GEMM precision, or
at bf16 (attention's precision) where that is higher. HFU adds the recomputed forward FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xpuplan.hardware.efficiency import ChipEfficiency
from xpuplan.hardware.roofline import chip_rates, mfu_peak_flops
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.layouts import Layouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision
from xpuplan.train.memory import memory_per_chip
from xpuplan.train.step import step_time
from xpuplan.workload.flops import flops_per_token_fwd, flops_per_token_train
from xpuplan.workload.layer import layer_shape

# Why a configuration is illegal: the first failed check, per config (int8).
REASONS = {
    0: "ok",
    1: "tp·pp·dp·cp must equal the chip count",
    2: "tp must divide the attention heads (and KV heads)",
    3: "pp·vpp must not exceed the layers",
    4: "ep must divide the experts and the tp·dp·cp ranks (and be 1 for a dense model)",
    5: "dp·micro_batch must divide the global batch",
    6: "cp must divide the sequence length",
    7: "interleaving (vpp > 1) needs pp > 1 and micro-batches divisible by pp",
    8: "does not fit in HBM",
    9: "the chip has no interconnect bandwidth in the catalog (add scaleup_gb_per_s_* with "
       "--catalog) so it cannot run multi-chip collectives",
}


@dataclass(frozen=True)
class TrainProblem:
    """Everything fixed across the layouts being compared."""

    model: ModelSpec
    chip: ChipSpec
    efficiency: ChipEfficiency
    n_chips: int
    seq_len: int
    global_batch: int  # sequences per step
    precision: Precision
    reserved_bytes: float  # HBM the runtime keeps (context, comm buffers, fragmentation)


@dataclass
class TrainEval:
    """Arrays (n_cfg,) for the evaluated layouts; parts sum to the totals."""

    layouts: Layouts
    reason: np.ndarray  # int8, see REASONS
    time: dict[str, np.ndarray]
    memory: dict[str, np.ndarray]
    step_time_s: np.ndarray
    memory_per_chip_bytes: np.ndarray
    tokens_per_s: np.ndarray
    mfu: np.ndarray
    hfu: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def legal(self) -> np.ndarray:
        return (self.reason == 0) | (self.reason == 8)

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.step_time_s)

    @property
    def fits(self) -> np.ndarray:
        return self.reason == 0


def legality(p: TrainProblem, lay: Layouts) -> np.ndarray:
    """The first failed structural check per configuration (0 = legal so far)."""
    m = p.model
    kv = m.n_kv_heads
    n_micro = p.global_batch // np.maximum(lay.dp * lay.micro_batch, 1)
    experts = m.moe.n_routed_experts if m.moe else 1
    kv_ok = (kv % lay.tp == 0) | (lay.tp % kv == 0) | (m.mla is not None)
    checks = [
        (1, lay.tp * lay.pp * lay.dp * lay.cp == p.n_chips),
        (2, (m.n_heads % lay.tp == 0) & kv_ok),
        # Uneven splits are allowed (Megatron --decoder-first/last-pipeline-num-layers); the
        # busiest stage then holds ceil(L/pp) layers.
        (3, lay.pp * lay.vpp <= m.n_layers),
        (4, (experts % lay.ep == 0) & ((lay.tp * lay.dp * lay.cp) % lay.ep == 0)),
        (5, p.global_batch % (lay.dp * lay.micro_batch) == 0),
        (6, p.seq_len % lay.cp == 0),
        (7, (lay.vpp == 1) | ((lay.pp > 1) & (n_micro % lay.pp == 0))),
    ]
    reason = np.zeros(len(lay), dtype=np.int8)
    for code, ok in reversed(checks):  # the first failing check wins
        reason = np.where(ok, reason, code).astype(np.int8)
    return reason


def evaluate(p: TrainProblem, lay: Layouts, compute_scale: float | np.ndarray = 1.0) -> TrainEval:
    """Step time, memory, throughput and MFU of every layout in `lay` (vectorised)."""
    shape = layer_shape(p.model)
    rates = chip_rates(p.chip, p.efficiency, p.precision, compute_scale)
    reason = legality(p, lay)
    time = step_time(shape, lay, p.seq_len, p.global_batch, rates)
    memory = memory_per_chip(shape, lay, p.seq_len, p.global_batch, p.reserved_bytes)
    step = sum(time.values())
    mem = sum(memory.values())
    reason = np.where((reason == 0) & ~np.isfinite(step), 9, reason)
    reason = np.where((reason == 0) & (mem > p.chip.hbm_bytes), 8, reason).astype(np.int8)
    tokens_per_s = p.global_batch * p.seq_len / step
    peak = p.n_chips * mfu_peak_flops(p.chip, p.precision)
    model_flops = flops_per_token_train(p.model, p.seq_len)
    recompute_flops = np.select([lay.recompute == 2], [flops_per_token_fwd(p.model, p.seq_len)],
                                0.0)
    return TrainEval(layouts=lay, reason=reason, time=time, memory=memory, step_time_s=step,
                     memory_per_chip_bytes=mem, tokens_per_s=tokens_per_s,
                     mfu=tokens_per_s * model_flops / peak,
                     hfu=tokens_per_s * (model_flops + recompute_flops) / peak)
