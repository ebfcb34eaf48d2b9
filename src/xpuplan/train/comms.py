"""Exposed communication seconds of a training step by part, for arrays of layouts (DESIGN.md
sec. 3): the TP, on-chip TP, CP, EP and PP collectives of one micro-batch, the ZeRO-3 / FSDP
collectives, and the data-parallel gradient sync once per step. Each is α-β
(hardware.collectives) less what hides under the compute it overlaps; train/step.py adds
them into the step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.collectives import Fabric, collective_time, ranks_per_domain
from xpuplan.hardware.roofline import Rates
from xpuplan.specs.layouts import Layouts
from xpuplan.train.memory import ACT_BYTES
from xpuplan.train.microbatch import MicroBatch, recomputed_share
from xpuplan.workload.layer import LayerShape

GRAD_REDUCE_BYTES = 2.0  # bf16 gradient reduce-scatter (Megatron-Core default for bf16 runs)


# --- communication per micro-batch ---------------------------------------------------------

def tp_comm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, fab: Fabric,
                 t_gemm: np.ndarray, overlap: float = 0.0) -> np.ndarray:
    """Exposed TP all-reduce seconds of one micro-batch, s:
    max(0, L_s·n·T_AR(2·b·D, t) − o·L_s·q·t_gemm).

    n = 4 all-reduces per layer (2 forward, 2 backward; + 2·f when a share f of the forward is
    recomputed, `recomputed_share`: 6 with full recompute), Shoeybi et al.
    2019 sec. 3 fig. 4. A collective matmul splits each TP collective into t steps that run
    under the chunks of the GEMM that consumes or produces it (Wang et al., ASPLOS 2023,
    'Overlap Communication with Dependent Computation via Decomposition'; How to Scale Your
    Model, Part 3, collective matmul: T = max(T_comm, T_math)): o ∈ [0, 1] is the share of
    the layer's GEMM time t_gemm the stack overlaps (data/stacks.toml tp_comm_overlap; 0 =
    serial), over its q = 3 + f passes (4 with full recompute). Neglects the last chunk's step that
    cannot overlap and the GEMM slowdown from sharing the chip with the collective.
    """
    L_s, b, D, t, o = mb.layers, mb.tokens, s.hidden, lay.tp, overlap
    f = recomputed_share(lay)
    n, q = 4 + 2 * f, 3 + f
    g = ranks_per_domain(np.ones_like(t), t, fab.domain_chips)
    t_comm = L_s * n * collective_time("all_reduce", ACT_BYTES * b * D, t, g, fab)
    if o == 0:
        return t_comm
    return np.where(t > 1, np.maximum(t_comm - o * L_s * q * t_gemm, 0.0), t_comm)


def core_tp_comm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates,
                      touches: float | None) -> np.ndarray:
    """Exposed seconds of one micro-batch's TP collectives among the logical cores of one
    chip, s: L_s·n·h·(T − 1)·2·b·D / (B_hbm·η_hbm) where the TP group is one chip's T = r > 1
    ranks (tp = 1 chip), else 0.

    n = 4 + 2·f all-reduces per layer, as in `tp_comm_time` (a sequence-parallel all-gather
    and reduce-scatter pair moves the same bytes). The ranks of one chip exchange through its
    HBM: a ring all-reduce of S = 2·b·D bytes runs T − 1 reduce-scatter hops that read two
    chunks of S/T and write one, then T − 1 all-gather hops that read one and write one
    (Neuron runtime, intra-node collectives: Ring 2R1W and 1R1W per hop), h = 3 + 2 = 5 HBM
    touches per byte per hop over the T ranks, h·(T − 1)·S bytes in all (data/stacks.toml
    core_all_reduce_hbm_touches). Exposed: TP collectives block the GEMMs that produce or
    consume them (Neuron runtime compute-comm-overlap, 'Fine-grained CC'). A TP group that
    spans chips runs its on-chip hops inside the ring over the links (`tp_comm_time`).
    Neglects the 1-2 µs per hop.
    """
    if touches is None:
        return np.zeros(len(lay))
    L_s, b, D, T = mb.layers, mb.tokens, s.hidden, mb.tp_ranks
    n = 4 + 2 * recomputed_share(lay)
    t_comm = L_s * n * touches * (T - 1) * ACT_BYTES * b * D / r.hbm_bw
    return np.where((lay.tp == 1) & (T > 1), t_comm, 0.0)


def cp_comm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, fab: Fabric,
                 t_attn: np.ndarray) -> np.ndarray:
    """Exposed CP seconds of one micro-batch, s: max(0, L_s·3·T_AG(c·2·b·2KH/t, c) − 3·L_s·t_attn).

    The ring exchange of K and V (forward, and twice backward) hides under the attention it
    feeds (Liu et al. 2023, Ring Attention sec. 3).
    """
    L_s, b, t, c, KH = mb.layers, mb.tokens, lay.tp, lay.cp, s.kv_dim
    g = ranks_per_domain(t, c, fab.domain_chips)
    kv = ACT_BYTES * b * 2 * KH / t
    t_comm = L_s * 3 * collective_time("all_gather", kv * c, c, g, fab)
    return np.maximum(t_comm - 3 * L_s * t_attn, 0.0)


def ep_comm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, fab: Fabric,
                 t_compute: np.ndarray) -> np.ndarray:
    """Exposed EP all-to-all seconds of one micro-batch, s: L_s·f·4·T_A2A(2·(b/t)·k·D, e).

    4 all-to-alls per MoE layer (dispatch and combine, forward and backward), exposed; with
    p > 1 a stage holds a forward and a backward micro-batch at once, so one's all-to-all
    overlaps the other's compute t_compute (DeepSeek DualPipe, Megatron-Core combined 1F1B):
    max(0, T − t_compute).
    """
    L_s, b, t, e, f, k, D = mb.layers, mb.tokens, lay.tp, lay.ep, s.moe_fraction, s.top_k, s.hidden
    b_chip = b / t
    g = ranks_per_domain(np.ones_like(t), e, fab.domain_chips)
    t_comm = L_s * f * 4 * collective_time("all_to_all", ACT_BYTES * b_chip * k * D, e, g, fab)
    return np.where(lay.pp > 1, np.maximum(t_comm - t_compute, 0.0), t_comm)


def pp_comm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, fab: Fabric) -> np.ndarray:
    """PP point-to-point seconds of one micro-batch, s: 2·v·T_p2p(2·b·D/σ)  (activations
    forward, gradients backward, per virtual stage; Narayanan et al. 2021 sec. 2.2)."""
    b, D, sigma, v, p = mb.tokens, s.hidden, mb.seq_div, lay.vpp, lay.pp
    g = ranks_per_domain(lay.tp * lay.cp * lay.dp, p, fab.domain_chips)
    return 2 * v * collective_time("p2p", ACT_BYTES * b * D / sigma, p, g, fab)


def data_parallel_sync_time(op: str, bytes_per_param: float, lay: Layouts, fab: Fabric,
                            dense_params: np.ndarray, expert_params: np.ndarray) -> np.ndarray:
    """Seconds of one data-parallel collective over the model state, s:
    T_op(b·Φ_d, d·c) + T_op(b·Φ_e, t·d·c/e)  (one group of d·c ranks when e = 1).

    Dense weights Φ_d sync over the d·c data-parallel ranks (tp-strided); routed experts Φ_e
    only over their expert-data-parallel group, the t·d·c/e ranks that hold the same experts,
    e apart (Megatron-Core parallel_state's expert-data-parallel group; DeepSpeed-MoE,
    Rajbhandari et al. 2022 sec. 5), so a group of one (e = t·d·c) syncs nothing: the
    sharding of train/memory.py's optimizer state.
    """
    b, t, e, n = bytes_per_param, lay.tp, lay.ep, lay.dp * lay.cp
    Phi_d, Phi_e = dense_params, expert_params
    g = ranks_per_domain(t, n, fab.domain_chips)
    n_e = np.maximum(t * n // e, 1)
    g_e = ranks_per_domain(e, n_e, fab.domain_chips)
    split = (collective_time(op, b * Phi_d, n, g, fab)
             + collective_time(op, b * Phi_e, n_e, g_e, fab))
    return np.where(e > 1, split, collective_time(op, b * (Phi_d + Phi_e), n, g, fab))


@dataclass(frozen=True)
class Zero3Overlap:
    """Shares of the ZeRO-3 / FSDP collectives a stack's scheduler may hide under compute
    (data/stacks.toml zero3_*; 1 = prefetched under the micro-batch's compute)."""

    reduce_scatter: float = 1.0  # share of the gradient reduce-scatters
    all_gather_with_tp: float = 1.0  # share of the weight all-gathers when TP collectives run
    per_layer: bool = False  # one collective per layer (each paying α), else one per model


def zero3_comm_time(lay: Layouts, mb: MicroBatch, fab: Fabric, dense_params: np.ndarray,
                    expert_params: np.ndarray, t_compute: np.ndarray,
                    overlap: Zero3Overlap = Zero3Overlap()) -> np.ndarray:
    """Exposed ZeRO-3 / FSDP seconds of one micro-batch, s, over the data-parallel groups:
    (1 − o_r)·T_R + (1 − o_g)·T_G + max(0, o_r·T_R + o_g·T_G − t_compute),
    T_G = 2·l·T_AG(2·Φ/l), T_R = l·T_RS(2·Φ/l).

    Weights Φ are all-gathered for forward and backward and gradients reduce-scattered every
    micro-batch, prefetched under that micro-batch's compute (Rajbhandari et al. 2020 sec. 5);
    `data_parallel_sync_time` gives the groups. l = L_s collectives of a layer's share each
    (every one paying its latency α) where the stack's schedule is known to be per layer
    (`overlap.per_layer`, data/stacks.toml zero3_per_layer: the Neuron compiler's FSDP
    AllGather before each layer and ReduceScatter per layer of the backward), else l = 1.
    o_r is the share of the reduce-scatters the stack's scheduler may overlap, o_g that of
    the all-gathers, all_gather_with_tp when the layout runs TP collectives (T = t·r > 1
    ranks, `micro_batch`), else 1; the rest runs in series with the compute. With both 1
    this is max(0, T_G + T_R − t_compute).
    """
    n_coll = mb.layers if overlap.per_layer else np.ones_like(mb.layers)
    Phi = (dense_params / n_coll, expert_params / n_coll)  # one collective's share
    T_G = 2 * n_coll * data_parallel_sync_time("all_gather", 2.0, lay, fab, *Phi)
    T_R = n_coll * data_parallel_sync_time("reduce_scatter", 2.0, lay, fab, *Phi)
    o_r = overlap.reduce_scatter
    o_g = np.where(mb.tp_ranks > 1, overlap.all_gather_with_tp, 1.0)
    with np.errstate(invalid="ignore"):  # inf·0 where a chip lacks link bandwidth
        serial = np.where(o_r < 1, (1 - o_r) * T_R, 0.0) + np.where(o_g < 1, (1 - o_g) * T_G, 0.0)
        hidden = np.where(o_r > 0, o_r * T_R, 0.0) + np.where(o_g > 0, o_g * T_G, 0.0)
    return np.where(lay.zero >= 3, serial + np.maximum(hidden - t_compute, 0.0), 0.0)


def dp_comm_time(lay: Layouts, fab: Fabric, dense_params: np.ndarray,
                 expert_params: np.ndarray, t_fwd: np.ndarray) -> np.ndarray:
    """Exposed DP seconds per step, s: max(0, T_RS(2·Φ) + T_AG(2·Φ) − 3·t_fwd).

    Once per step, ZeRO 0-2 (ZeRO 0's all-reduce moves the same bytes), over the dense and the
    expert data-parallel groups (`data_parallel_sync_time`); the reduce-scatter hides under
    the last backward (2·t_fwd), the all-gather under the next forward; ZeRO-3 moves its bytes
    per micro-batch instead (`zero3_comm_time`). bf16 gradients.
    """
    Phi, b = (dense_params, expert_params), GRAD_REDUCE_BYTES
    t_comm = np.where(lay.zero >= 3, 0.0,
                      data_parallel_sync_time("reduce_scatter", b, lay, fab, *Phi)
                      + data_parallel_sync_time("all_gather", b, lay, fab, *Phi))
    return np.maximum(t_comm - 3 * t_fwd, 0.0)
