"""Training step time, s, by part, for arrays of layouts (DESIGN.md sec. 3).

Read like the Scaling Book: the chip's rates and fabric are built once (`Rates`, with its
`Fabric`, hardware.roofline), one micro-batch's sizes once (`MicroBatch`), and each part of
the step is a quantity function below, its formula and source in its docstring and the
docstring's letters in its code. `step_time` adds them into the breakdown, so the parts sum to
the step by construction (1F1B, Narayanan et al. 2021 eq. 1-2):

  step   = m·(3·t_fwd + t_rc + t_tp + t_cp + t_ep + t_pp + t_z3) + t_bubble + t_dp + t_opt
with t_tp the TP collectives over chips and, for a TP group inside one chip, among its cores
  t_fwd  = L_s·(t_gemm + t_calls + t_attn + t_mem) + t_head/p     one forward of one micro-batch
with m micro-batches, L_s = ⌈L/p⌉ layers on the busiest stage, backward = 2 × forward, t_rc
the recomputed forward. Every GEMM runs at min(P·η_mamf·c·φ(M,N,K), P), φ = 1/(1 + Σ d½/d)
normalised to the MAMF shape and taken at one TP rank's slice (T = t·r ranks, r = 2 NeuronCores
per trn1 chip under NxD, else 1); P the chip's dense peak at the precision, η_mamf its measured
matmul ceiling, c and d½ the stack's calibrated scale and half-rate dimension. Collectives are
α-β (hardware.collectives). Neglects: launch gaps of dense kernels, stage imbalance from the
embedding, and MoE load imbalance (the published NeMo runs force balanced routing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.collectives import Fabric, collective_time, ranks_per_domain
from xpuplan.hardware.roofline import Rates, attention_rate, gemm_rate, shape_factor
from xpuplan.specs.layouts import Layouts
from xpuplan.train.memory import ACT_BYTES, OPTIMIZER_BYTES, params_per_chip
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape

GRAD_REDUCE_BYTES = 2.0  # bf16 gradient reduce-scatter (Megatron-Core default for bf16 runs)


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


# --- compute, one forward of one layer of one micro-batch --------------------------------

def gemm_time(flops: np.ndarray, phi: np.ndarray, r: Rates) -> np.ndarray:
    """Seconds of a GEMM, s: t = FLOP / min(P·η·c·φ, P)  (roofline t_math; gemm_rate)."""
    return flops / gemm_rate(r, phi)


def projection_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates,
                    heads: HeadSplit) -> np.ndarray:
    """Forward seconds of one layer's attention projections (Q, K, V, O), s.

    2·b·P_attn·ρ/t at φ(b, (N+2K)H/T, D), ρ the stack's head-padding weight factor
    (workload.heads; Megatron-LM column/row-parallel split, Shoeybi et al. 2019 sec. 3), T
    the TP ranks (`micro_batch`): each rank's GEMM is 1/T of the width.
    """
    b, t, D, P_attn, rho = mb.tokens, lay.tp, s.hidden, s.attn_params, heads.attn_weight_factor
    phi = shape_factor(r.half_dim, b, s.qkv_out_dim / mb.tp_ranks, D)
    return gemm_time(2 * b * P_attn * rho / t, phi, r)


def mlp_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates) -> np.ndarray:
    """Forward seconds of one dense layer's MLP, s: 2·b·P_mlp/t at φ(b, F/T, D), T TP ranks."""
    b, t, T, D, F = mb.tokens, lay.tp, mb.tp_ranks, s.hidden, s.ffn_width
    return gemm_time(2 * b * s.dense_mlp_params / t, shape_factor(r.half_dim, b, F / T, D), r)


def expert_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates) -> np.ndarray:
    """Forward seconds of one MoE layer's GEMMs, s.

    2·(b/t)·k·P_e at φ(M_e, Fe, D) + 2·(b/t)·P_fix at φ(b, F/T, D), M_e = e·(b/t)·k/E the
    tokens of each local expert under balanced routing; P_fix the router and shared experts.
    """
    b, t, e, D, F = mb.tokens, lay.tp, lay.ep, s.hidden, s.ffn_width
    k, E, Fe, P_e, P_fix = s.top_k, s.n_experts, s.expert_width, s.expert_params, s.moe_fixed_params
    b_chip = b / t
    M_e = e * b_chip * max(k, 1) / E
    return (gemm_time(2 * b_chip * k * P_e, shape_factor(r.half_dim, M_e, Fe, D), r)
            + gemm_time(2 * b_chip * P_fix, shape_factor(r.half_dim, b, F / mb.tp_ranks, D), r))


def expert_call_time(s: LayerShape, lay: Layouts, r: Rates) -> np.ndarray:
    """Fixed seconds of one average layer's expert GEMM calls per pass, s: f·g·2·E/e.

    Each local expert runs 2 GEMMs (gate/up, down) whose fixed cost g (launch, wave tail,
    per-expert bookkeeping; fitted, data/calibration.toml) does not shrink with its size; f is
    the share of layers that route. Dense GEMMs are large enough for it to vanish.
    """
    g, f, E, e = r.gemm_overhead_s, s.moe_fraction, s.n_experts, lay.ep
    return g * f * 2 * E / e


def capacity_dispatch_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates,
                           seq_len: int, capacity_factor: float | None) -> np.ndarray:
    """Extra forward seconds of one average layer under token-dropping MoE, s (0 if dropless).

    A capacity-buffer MoE (GShard, Lepikhin et al. 2021 sec. 2.2; MaxText moe.py dense_matmul
    with capacity_factor > 0: einsums "BSM,BSEC -> EBCM" and "EBCM,BSEC -> BSM") runs each
    expert on C = ⌈S·k/E⌉·c_f slots per sequence whether filled or not, so the expert GEMMs
    cost c_f × the dropless ones, and the dispatch and combine einsums add 2·2·D·E·C FLOP per
    token: f·((c_f − 1)·t_moe + 4·b·D·E·C/t at φ(b, E·C, D)). Neglects the mask building.
    """
    if not capacity_factor:
        return np.zeros(len(lay))
    b, t, D, f, k, E = mb.tokens, lay.tp, s.hidden, s.moe_fraction, s.top_k, s.n_experts
    C = np.ceil(seq_len * k / E) * capacity_factor
    dispatch = gemm_time(4 * b * D * E * C / t, shape_factor(r.half_dim, b, E * C, D), r)
    return f * ((capacity_factor - 1) * expert_time(s, lay, mb, r) + dispatch)


def layer_gemm_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates,
                    heads: HeadSplit) -> np.ndarray:
    """Forward GEMM seconds of one average layer, s: t_proj + (1−f)·t_mlp + f·t_moe."""
    f = s.moe_fraction
    return (projection_time(s, lay, mb, r, heads) + (1 - f) * mlp_time(s, lay, mb, r)
            + f * expert_time(s, lay, mb, r))


def attention_time(s: LayerShape, lay: Layouts, mb: MicroBatch, seq_len: int, r: Rates,
                   heads: HeadSplit, causal: bool) -> np.ndarray:
    """Forward seconds of one layer's attention scores, s.

    b·2·N·(Hqk+Hv)·ctx·ρ_q/t at the bf16 flash-attention rate, φ(b, S/c, Hqk); ctx the causal
    count (S+1)/2 flash kernels execute (masked blocks skipped), windowed where the model
    slides; ρ_q the stack's query-head padding (workload.heads).
    """
    b, t, c, H_qk, rho_q = mb.tokens, lay.tp, lay.cp, s.head_dim_qk, heads.q_factor
    flops = b * s.attention_flops_fwd_per_token(seq_len, causal) * rho_q / t
    return flops / attention_rate(r, shape_factor(r.half_dim, b, seq_len / c, H_qk))


def memory_bound_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates) -> np.ndarray:
    """Forward seconds of one layer's element-wise work, s: bytes / (B_hbm·η_hbm).

    bytes = 2·b·(10·D/σ + a·F_act/t + 2·(N+2K)H/t): 2 norms 2·2D + 2 residual adds 2·3D,
    activation a = 3 (gated) or 2 over F_act = (1−f)·F + f·k·Fe, rotary on the projected Q, K,
    V read + written; + f·2·b·4·k·D/t for the MoE token permute and unpermute (k copies of D,
    read + written twice); + for FP8/FP4 GEMMs 3·b·(2 + q)·X, the casts of every GEMM input
    (read 2 B, write q B; once forward, twice backward: dgrad and the transposed wgrad copy),
    X = (2D + N·Hv)/σ + ((1−f)·F + f·k·(D + Fe))/t.
    """
    b, t, sigma, D, F, f = mb.tokens, lay.tp, mb.seq_div, s.hidden, s.ffn_width, s.moe_fraction
    k, Fe, q = s.top_k, s.expert_width, r.quantized_bytes
    a_F = (3 if s.gated else 2) * ((1 - f) * F + f * k * Fe) / t
    elem = ACT_BYTES * b * (10 * D / sigma + a_F + 2 * s.qkv_out_dim / t)
    elem = elem + f * ACT_BYTES * b * 4 * k * D / t
    X = (2 * D + s.attn_out_dim) / sigma + ((1 - f) * F + f * k * (D + Fe)) / t
    elem = elem + np.where(q > 0, 1.0, 0.0) * b * 3 * (ACT_BYTES + q) * X
    return elem / r.hbm_bw


def lm_head_time(s: LayerShape, lay: Layouts, mb: MicroBatch, r: Rates) -> np.ndarray:
    """Forward seconds of the output head on the last stage, s: 2·b·V·D/t at φ(b, F/T, D)."""
    b, t, T, D, F = mb.tokens, lay.tp, mb.tp_ranks, s.hidden, s.ffn_width
    return gemm_time(2 * b * s.lm_head_params / t, shape_factor(r.half_dim, b, F / T, D), r)


def recompute_time(lay: Layouts, mb: MicroBatch, t_layer: np.ndarray,
                   t_mem: np.ndarray) -> np.ndarray:
    """Recomputed forward seconds of one micro-batch, s: layer checkpointing L_s·f·t_layer,
    selective L_s·t_mem (Korthikanti et al. 2022 sec. 5: selective recomputes the cheap
    memory-bound parts). f = `recomputed_share`: 1 for full recompute, below 1 for a policy
    that saves some tensors (workload.remat), the recomputed FLOPs taken at the layer's mean
    rate."""
    L_s = mb.layers
    return np.select([lay.recompute == 2, lay.recompute == 1],
                     [L_s * lay.recompute_fraction * t_layer, L_s * t_mem], 0.0)


def recomputed_share(lay: Layouts) -> np.ndarray:
    """Share of one forward pass that layer checkpointing runs again, (n_cfg,): f under
    recompute code 2, else 0 (selective recomputes no GEMM and no collective)."""
    return np.where(lay.recompute == 2, lay.recompute_fraction, 0.0)


def core_attention_recompute_time(lay: Layouts, mb: MicroBatch, t_attn: np.ndarray,
                                  dense_attention: bool) -> np.ndarray:
    """Recomputed core-attention seconds of one micro-batch, s: L_s·t_attn under selective
    recompute of a dense attention (one that materialises the S×S scores), else 0.

    Selective recomputation checkpoints the core attention (QKᵀ, mask, softmax, ·V) and reruns
    it in the backward (Korthikanti et al. 2022 sec. 5; NxD Training's Llama examples pass
    activation_checkpoint_config = CoreAttention, aws-neuron/neuronx-distributed
    examples/training/llama*/, releases 2.16-2.29). With a flash kernel NxD does not call
    CoreAttention, so that checkpoint wraps nothing; `recompute_time` keeps the memory-bound part.
    """
    return np.where(dense_attention & (lay.recompute == 1), mb.layers * t_attn, 0.0)


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


def pp_bubble_time(lay: Layouts, t_micro: np.ndarray) -> np.ndarray:
    """Pipeline bubble seconds per step, s: (p − 1)/v · t_micro  (Narayanan et al. 2021 eq. 1-2,
    interleaved 1F1B); 0 without pipelining."""
    p, v = lay.pp, lay.vpp
    with np.errstate(invalid="ignore"):  # inf·0 where a chip lacks link bandwidth
        return np.where(p > 1, (p - 1) / v * t_micro, 0.0)


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


def optimizer_time(lay: Layouts, r: Rates, dense_params: np.ndarray,
                   expert_params: np.ndarray) -> np.ndarray:
    """Optimizer seconds per step, s: 2·12·(Φ_d/z_d + Φ_e/z_e) / (B_hbm·η_hbm), the fp32 master
    weights and Adam moments (12 B per parameter) read and written once, sharded by ZeRO ≥ 1
    over z_d = d·c ranks and, for experts, z_e = t·d·c/e (Rajbhandari et al. 2020 sec. 5; the
    sharding of train/memory.py). Neglects the bf16 weight copy and gradients."""
    sharded, n = lay.zero >= 1, lay.dp * lay.cp
    z_d = np.where(sharded, n, 1)
    z_e = np.where(sharded, np.maximum(lay.tp * n / lay.ep, 1.0), 1)
    Phi_d, Phi_e = dense_params, expert_params
    return 2 * OPTIMIZER_BYTES * (Phi_d / z_d + Phi_e / z_e) / r.hbm_bw


# --- the step --------------------------------------------------------------------------------

def step_time(s: LayerShape, lay: Layouts, seq_len: int, global_batch: int, r: Rates,
              causal: bool = True, heads: HeadSplit | None = None,
              tp_overlap: float = 0.0, ranks_per_chip: int = 1,
              dense_attention: bool = False, capacity_factor: float | None = None,
              zero3_overlap: Zero3Overlap = Zero3Overlap(),
              core_touches: float | None = None) -> dict[str, np.ndarray]:
    """Seconds per training step by part (time/...), each of shape (n_cfg,); see module doc.

    `heads` carries the stack's head padding (workload.heads; unpadded by default): padded
    heads cost their projection and score FLOPs like real ones. `tp_overlap` is the stack's
    collective-matmul overlap o (`tp_comm_time`; 0 serialises TP communication).
    `ranks_per_chip` is r of `micro_batch` (the stack's TP ranks per chip). `dense_attention`:
    the attention materialises the S×S scores (no flash kernel), so a causal mask skips no
    FLOPs (ctx = S) and selective recompute reruns it (`core_attention_recompute_time`).
    `capacity_factor` c_f marks a token-dropping MoE (`capacity_dispatch_time`; None = dropless).
    `zero3_overlap`: the stack's overlap of the ZeRO-3 collectives (`zero3_comm_time`).
    `core_touches`: the stack's HBM touches of an on-chip TP all-reduce (`core_tp_comm_time`;
    None: the stack has no such figure, 0 s).
    """
    heads = heads or head_split(s, lay.tp)
    mb, fab = micro_batch(s, lay, seq_len, global_batch, ranks_per_chip), r.fabric
    L_s, m, p = mb.layers, mb.n_micro, lay.pp
    t_gemm = (layer_gemm_time(s, lay, mb, r, heads)
              + capacity_dispatch_time(s, lay, mb, r, seq_len, capacity_factor))
    t_calls = expert_call_time(s, lay, r)
    t_attn = attention_time(s, lay, mb, seq_len, r, heads, causal and not dense_attention)
    t_mem = memory_bound_time(s, lay, mb, r)
    t_head = lm_head_time(s, lay, mb, r)
    t_layer = t_gemm + t_calls + t_attn + t_mem
    t_fwd = L_s * t_layer + t_head / p
    t_rc = (recompute_time(lay, mb, t_layer, t_mem)
            + core_attention_recompute_time(lay, mb, t_attn, dense_attention))
    t_compute = 3 * t_fwd + t_rc  # one micro-batch forward + backward (+ recompute)

    Phi = params_per_chip(s, lay, heads)  # (Φ_d, Φ_e) on the busiest chip before ZeRO
    t_tp = tp_comm_time(s, lay, mb, fab, t_gemm, tp_overlap) + core_tp_comm_time(
        s, lay, mb, r, core_touches)
    t_cp = cp_comm_time(s, lay, mb, fab, t_attn)
    t_ep = ep_comm_time(s, lay, mb, fab, t_compute)
    t_pp = pp_comm_time(s, lay, mb, fab)
    t_z3 = zero3_comm_time(lay, mb, fab, *Phi, t_compute, zero3_overlap)
    t_micro = t_compute + t_tp + t_cp + t_ep + t_pp + t_z3
    return {
        "time/compute/gemm": m * 3 * L_s * t_gemm + m * 3 * t_head / p,
        "time/compute/gemm_call_overhead": m * 3 * L_s * t_calls,
        "time/compute/attention": m * 3 * L_s * t_attn,
        "time/compute/memory_bound": m * 3 * L_s * t_mem,
        "time/compute/recompute": m * t_rc,
        "time/comm/tp": m * t_tp,
        "time/comm/cp": m * t_cp,
        "time/comm/ep": m * t_ep,
        "time/comm/pp": m * t_pp,
        "time/comm/zero3": m * t_z3,
        "time/comm/dp": dp_comm_time(lay, fab, *Phi, t_fwd),
        "time/bubble": pp_bubble_time(lay, t_micro),
        "time/optimizer": optimizer_time(lay, r, *Phi),
    }
