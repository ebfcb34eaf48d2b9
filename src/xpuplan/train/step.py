"""Training step time, s, by part, for arrays of layouts (DESIGN.md sec. 3).

Per micro-batch, per pipeline stage of ceil(L/pp) layers, on one chip:
  t_gemm  = FLOP_gemm / (P · η_mamf · c · φ(M,N,K)),   φ = 1 / (1 + d½/M + d½/N + d½/K)
  t_attn  = FLOP_attn(causal) / (P_bf16 · η_mamf,bf16 · c · φ(M=tokens, N=ctx, K=H))
  t_mem   = bytes_elementwise / (B_hbm · η_hbm)
with P the chip's dense peak at the precision, η_mamf its measured matmul ceiling, c and d½ the
stack's calibrated scale and half-rate dimension; backward = 2 × forward; full recompute adds a
forward. Communication (collectives.alpha_beta): TP all-reduce 4 per layer (2 fwd, 2 bwd),
exposed; CP ring KV exchange, hidden under attention; EP all-to-all 4 per MoE layer, exposed;
PP point-to-point 2 per micro-batch; DP gradient reduce-scatter + parameter all-gather once per
step, hidden under the last micro-batch's backward and the next forward (3 forward times);
ZeRO-3 gathers weights every micro-batch, hidden under its compute.
Step = (m + (pp−1)/v)·t_micro + DP exposed + optimizer (1F1B, Narayanan et al. 2021 eq. 1-2).
Neglects: launch gaps of dense kernels, stage imbalance from the embedding, and MoE load
imbalance (the published NeMo runs force balanced routing).
"""

from __future__ import annotations

import numpy as np

from xpuplan.hardware.collectives import collective_time, ranks_per_domain
from xpuplan.hardware.roofline import Rates, attention_rate, gemm_rate, shape_factor
from xpuplan.specs.layouts import Layouts
from xpuplan.train.memory import ACT_BYTES, OPTIMIZER_BYTES, params_per_chip
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape

GRAD_REDUCE_BYTES = 2.0  # bf16 gradient reduce-scatter (Megatron-Core default for bf16 runs)


def step_time(s: LayerShape, lay: Layouts, seq_len: int, global_batch: int, r: Rates,
              causal: bool = True, heads: HeadSplit | None = None) -> dict[str, np.ndarray]:
    """Seconds per training step by part (time/...), each of shape (n_cfg,).

    `heads` carries the stack's head padding (workload.heads; unpadded by default): padded
    heads cost their projection and score FLOPs like real ones.
    """
    tp, pp, dp, cp, ep = lay.tp, lay.pp, lay.dp, lay.cp, lay.ep
    heads = heads or head_split(s, tp)
    D = s.hidden
    layers = np.ceil(s.n_layers / pp)
    n_micro = global_batch / (dp * lay.micro_batch)
    tokens = lay.micro_batch * seq_len / cp  # tokens of one micro-batch per CP rank
    tok_chip = tokens / tp  # per chip once TP/SP splits the work
    f = s.moe_fraction

    # GEMMs, forward, one micro-batch, one layer: 2·tokens·P / tp at φ(M, N, K).
    phi_attn = shape_factor(r.half_dim, tokens, s.qkv_out_dim / tp, D)
    phi_mlp = shape_factor(r.half_dim, tokens, s.ffn_width / tp, D)
    t_attn_proj = (2 * tokens * s.attn_params * heads.attn_weight_factor / tp
                   / gemm_rate(r, phi_attn))
    t_dense_mlp = 2 * tokens * s.dense_mlp_params / tp / gemm_rate(r, phi_mlp)
    expert_tokens = ep * tok_chip * max(s.top_k, 1) / s.n_experts  # M of each expert GEMM
    phi_expert = shape_factor(r.half_dim, expert_tokens, s.expert_width, D)
    t_moe = (2 * tok_chip * s.top_k * s.expert_params / gemm_rate(r, phi_expert)
             + 2 * tok_chip * s.moe_fixed_params / gemm_rate(r, phi_mlp))
    t_gemm_layer = t_attn_proj + (1 - f) * t_dense_mlp + f * t_moe
    # Attention scores (flash, causal kernels skip masked blocks), heads split over tp.
    attn_flops = tokens * s.attention_flops_fwd_per_token(seq_len, causal) * heads.q_factor / tp
    phi_scores = shape_factor(r.half_dim, tokens, seq_len / cp, s.head_dim_qk)
    t_scores_layer = attn_flops / attention_rate(r, phi_scores)
    # Element-wise work (norms, residuals, activation, rotary), bytes read + written:
    # 2 norms 2·2D + 2 residual adds 2·3D = 10D, activation 3F (gated) or 2F, rotary on
    # the projected Q, K, V read + written 2·(N+2K)H.
    seq_div = np.where(lay.sp, tp, 1)
    act_width = (3 if s.gated else 2) * ((1 - f) * s.ffn_width
                                         + f * s.top_k * s.expert_width) / tp
    elem_bytes = ACT_BYTES * tokens * (10 * D / seq_div + act_width + 2 * s.qkv_out_dim / tp)
    # MoE token permutation before and after the experts: k copies of D, read + written twice.
    elem_bytes = elem_bytes + f * ACT_BYTES * tokens * 4 * s.top_k * D / tp
    # FP8/FP4 GEMMs cast every GEMM input (read 2 B, write q B) once forward and twice
    # backward (dgrad and the transposed wgrad copy): inputs D, NH, D, F per dense layer.
    gemm_inputs = (2 * D + s.attn_out_dim) / seq_div + ((1 - f) * s.ffn_width + f * s.top_k * (
        D + s.expert_width)) / tp
    elem_bytes = elem_bytes + np.where(r.quantized_bytes > 0, 1.0, 0.0) * tokens * 3 * (
        ACT_BYTES + r.quantized_bytes) * gemm_inputs
    t_mem_layer = elem_bytes / r.hbm_bw
    t_head = 2 * tokens * s.lm_head_params / tp / gemm_rate(r, phi_mlp)  # last stage only

    # Expert GEMMs are many and small: each local expert runs 2 GEMMs (gate/up, down) per
    # pass whose fixed cost (launch, wave tail, per-expert bookkeeping) does not shrink with
    # its size; dense GEMMs are large enough for it to vanish and are not charged.
    t_calls_layer = r.gemm_overhead_s * f * 2 * s.n_experts / ep
    t_gemm_layer = t_gemm_layer + t_calls_layer
    fwd_compute = layers * (t_gemm_layer + t_scores_layer + t_mem_layer) + t_head / pp
    recompute_extra = np.select(
        [lay.recompute == 2, lay.recompute == 1],
        [layers * (t_gemm_layer + t_scores_layer + t_mem_layer), layers * t_mem_layer], 0.0)

    # Communication per micro-batch.
    fab = r.fabric
    ones = np.ones_like(tp)
    msg = ACT_BYTES * tokens * D  # one layer's activations of the micro-batch (per CP rank)
    tp_g = ranks_per_domain(ones, tp, fab.domain_chips)
    tp_calls = 4 + 2 * (lay.recompute == 2)
    t_tp = layers * tp_calls * collective_time("all_reduce", msg, tp, tp_g, fab)
    cp_g = ranks_per_domain(tp, cp, fab.domain_chips)
    kv_bytes = ACT_BYTES * tokens * 2 * s.kv_dim / tp
    t_cp_raw = layers * 3 * collective_time("all_gather", kv_bytes * cp, cp, cp_g, fab)
    t_cp = np.maximum(t_cp_raw - 3 * layers * t_scores_layer, 0.0)
    ep_g = ranks_per_domain(ones, ep, fab.domain_chips)
    a2a_bytes = ACT_BYTES * tok_chip * s.top_k * D
    t_ep = layers * f * 4 * collective_time("all_to_all", a2a_bytes, ep, ep_g, fab)
    pp_g = ranks_per_domain(tp * cp * dp, pp, fab.domain_chips)
    p2p_bytes = msg / seq_div
    t_pp = 2 * lay.vpp * collective_time("p2p", p2p_bytes, pp, pp_g, fab)

    # ZeRO-3 / FSDP: all-gather weights for forward and backward, reduce-scatter grads,
    # every micro-batch, overlapped with that micro-batch's compute.
    dense_p, expert_p = params_per_chip(s, lay, heads)
    dp_g = ranks_per_domain(tp, dp * cp, fab.domain_chips)
    state_bytes = 2.0 * (dense_p + expert_p)
    zero3_comm = (2 * collective_time("all_gather", state_bytes, dp * cp, dp_g, fab)
                  + collective_time("reduce_scatter", state_bytes, dp * cp, dp_g, fab))
    compute_micro = 3 * fwd_compute + recompute_extra
    t_zero3 = np.where(lay.zero >= 3, np.maximum(zero3_comm - compute_micro, 0.0), 0.0)

    # With pipelining, a stage holds a forward and a backward micro-batch at once: the expert
    # all-to-all of one overlaps the other's compute (DeepSeek DualPipe, Megatron-Core
    # combined 1F1B); only what exceeds that compute stays exposed.
    t_ep = np.where(pp > 1, np.maximum(t_ep - compute_micro, 0.0), t_ep)
    t_micro = compute_micro + t_tp + t_cp + t_ep + t_pp + t_zero3
    with np.errstate(invalid="ignore"):  # inf·0 where a chip lacks link bandwidth
        bubble = np.where(pp > 1, (pp - 1) / lay.vpp * t_micro, 0.0)

    # Data parallel, once per step: reduce-scatter grads + all-gather weights (ZeRO 1-2; the
    # same bytes as ZeRO 0's all-reduce).
    grad_bytes = GRAD_REDUCE_BYTES * (dense_p + expert_p)
    dp_comm = np.where(
        lay.zero >= 3, 0.0,
        collective_time("reduce_scatter", grad_bytes, dp * cp, dp_g, fab)
        + collective_time("all_gather", grad_bytes, dp * cp, dp_g, fab))
    # Reduce-scatter hides under the last backward (2·fwd), all-gather under the next forward.
    t_dp = np.maximum(dp_comm - 3 * fwd_compute, 0.0)
    shard = np.where(lay.zero >= 1, dp * cp, 1)
    t_opt = 2 * OPTIMIZER_BYTES * (dense_p + expert_p) / shard / r.hbm_bw

    m = n_micro
    parts = {
        "time/compute/gemm": m * 3 * layers * (t_gemm_layer - t_calls_layer)
        + m * 3 * t_head / pp,
        "time/compute/gemm_call_overhead": m * 3 * layers * t_calls_layer,
        "time/compute/attention": m * 3 * layers * t_scores_layer,
        "time/compute/memory_bound": m * 3 * layers * t_mem_layer,
        "time/compute/recompute": m * recompute_extra,
        "time/comm/tp": m * t_tp,
        "time/comm/cp": m * t_cp,
        "time/comm/ep": m * t_ep,
        "time/comm/pp": m * t_pp,
        "time/comm/zero3": m * t_zero3,
        "time/comm/dp": t_dp,
        "time/bubble": bubble,
        "time/optimizer": t_opt,
    }
    return parts
