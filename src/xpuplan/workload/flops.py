"""Model FLOPs per token: the one FLOP definition every MFU in xpuplan uses.

Model FLOPs count each multiply-add as 2 FLOP, forward plus backward (= 2 x forward), with no
activation recompute (PaLM, Chowdhery et al. 2022 app. B). Attention scores count the full
S x S product unless `causal=True` halves it to the positions a causal mask keeps. MFU and the
time model both use the causal count, the FLOPs the kernels run (FlashAttention skips masked
blocks), so MFU cannot exceed 1; PaLM's unhalved count is `causal=False`.
"""

from __future__ import annotations

from xpuplan.specs.model import ModelSpec
from xpuplan.workload.params import (
    attention_params,
    mlp_params,
    moe_fixed_params,
    param_counts,
    routed_expert_params,
)


def matmul_params_per_token(m: ModelSpec) -> int:
    """Weights one token multiplies through: active params less embedding lookups and norms,
    with the output projection V·D counted even when tied to the embedding."""
    p = param_counts(m)
    return p.active - p.embedding - p.norms + (m.vocab * m.hidden if m.tied_embeddings else 0)


def attention_context(seq_len: int, window: int | None, causal: bool) -> float:
    """Mean keys each query attends to, in tokens.

    Full: min(S, W). Causal: (1/S)·Σ_{i=1..S} min(i, W) = [W(W+1)/2 + (S−W)·W]/S for W ≤ S,
    (S+1)/2 without a window.
    """
    S = seq_len
    W = S if window is None else min(window, S)
    if not causal:
        return float(W)
    return (W * (W + 1) / 2 + (S - W) * W) / S


def attention_flops_fwd(m: ModelSpec, seq_len: int, causal: bool = False) -> float:
    """Forward FLOPs per token of the attention scores QKᵀ and weighted sum AV, FLOP.

    Σ_layers 2·N·(Hqk + Hv)·ctx  (Scaling Book ch. 4: 4·S·N·H per token per layer when
    Hqk = Hv, unhalved). MLA uses Hqk = Hnope + Hrope and Hv = v_head_dim (DeepSeek-V2).
    """
    N = m.n_heads
    h_qk = m.head_dim
    h_v = m.mla.v_head_dim if m.mla is not None else m.head_dim
    n_windowed = sum(m.sliding_layers) if m.sliding_layers else 0
    full = attention_context(seq_len, None, causal)
    windowed = attention_context(seq_len, m.sliding_window, causal) if n_windowed else 0.0
    return 2 * N * (h_qk + h_v) * ((m.n_layers - n_windowed) * full + n_windowed * windowed)


def flops_per_token_fwd(m: ModelSpec, seq_len: int, causal: bool = False) -> float:
    """Forward model FLOPs per token, FLOP: 2·P_matmul + attention scores (see module doc)."""
    return 2.0 * matmul_params_per_token(m) + attention_flops_fwd(m, seq_len, causal)


def mtp_flops_fwd(m: ModelSpec, seq_len: int, causal: bool = False) -> float:
    """Forward FLOPs per token of DeepSeek-V3's MTP modules, FLOP; 0 without MTP.

    Each module: 2·(2D·D projection + one layer's active weights + V·D shared head) + that
    layer's attention scores (DeepSeek-V3 report sec. 2.2).
    """
    if m.n_mtp_layers == 0:
        return 0.0
    D = m.hidden
    if m.moe is not None and m.moe.moe_layers[-1]:
        mlp = m.moe.top_k * routed_expert_params(m) + moe_fixed_params(m)
    else:
        mlp = mlp_params(D, m.ffn_hidden, m.gated_mlp, m.mlp_bias)
    matmul = 2 * D * D + attention_params(m) + mlp + m.vocab * D
    attention = attention_flops_fwd(m, seq_len, causal) / m.n_layers
    return m.n_mtp_layers * (2.0 * matmul + attention)


def flops_per_token_train(m: ModelSpec, seq_len: int, causal: bool = False,
                          include_mtp: bool = True) -> float:
    """Training model FLOPs per token, FLOP: 3 × forward (backward = 2 × forward; Kaplan et
    al. 2020 sec. 2.1), MTP modules included when the model has them."""
    mtp = mtp_flops_fwd(m, seq_len, causal) if include_mtp else 0.0
    return 3.0 * (flops_per_token_fwd(m, seq_len, causal) + mtp)
