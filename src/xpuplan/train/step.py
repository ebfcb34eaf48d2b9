"""Training step time, s, by part, for arrays of layouts (DESIGN.md sec. 3).

Read like the Scaling Book: the chip's rates and fabric are built once (`Rates`, with its
`Fabric`, hardware.roofline), one micro-batch's sizes once (`MicroBatch`), and each part of
the step is a quantity function below, its formula and source in its docstring and the
docstring's letters in its code (the communication parts in train/comms.py, the micro-batch in
train/microbatch.py). `step_time` adds them into the breakdown, so the parts sum to the step by
construction (1F1B, Narayanan et al. 2021 eq. 1-2):

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

import numpy as np

from xpuplan.hardware.roofline import Rates, attention_rate, gemm_rate, shape_factor
from xpuplan.specs.layouts import Layouts
from xpuplan.train.comms import (
    Zero3Overlap,
    core_tp_comm_time,
    cp_comm_time,
    dp_comm_time,
    ep_comm_time,
    pp_comm_time,
    tp_comm_time,
    zero3_comm_time,
)
from xpuplan.train.memory import ACT_BYTES, OPTIMIZER_BYTES, params_per_chip
from xpuplan.train.microbatch import MicroBatch, micro_batch
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape

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


# --- once per step: pipeline bubble and optimizer ----------------------------------------

def pp_bubble_time(lay: Layouts, t_micro: np.ndarray) -> np.ndarray:
    """Pipeline bubble seconds per step, s: (p − 1)/v · t_micro  (Narayanan et al. 2021 eq. 1-2,
    interleaved 1F1B); 0 without pipelining."""
    p, v = lay.pp, lay.vpp
    with np.errstate(invalid="ignore"):  # inf·0 where a chip lacks link bandwidth
        return np.where(p > 1, (p - 1) / v * t_micro, 0.0)


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
