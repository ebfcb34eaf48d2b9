"""Per-layer sizes of a model, averaged over its dense and MoE layers: LayerShape.

The training and inference evaluators multiply these per-token, per-layer quantities by
arrays of layouts; computing them once here keeps the vectorised code free of model logic.
Dense and MoE layers are mixed in the model's proportion (a pipeline stage is assumed to
hold the average mix; DeepSeek-V3's 3 leading dense layers sit on stage 0 in reality).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.specs.model import ModelSpec
from xpuplan.workload.flops import attention_context
from xpuplan.workload.params import (
    attention_params,
    mlp_params,
    moe_fixed_params,
    param_counts,
    routed_expert_params,
)


@dataclass(frozen=True)
class LayerShape:
    """What one average layer costs; `*_per_token` are per token of the micro-batch."""

    n_layers: int
    hidden: int
    vocab: int
    moe_fraction: float  # share of layers that route
    attn_params: float  # attention weights of one layer
    dense_mlp_params: float  # MLP weights of one dense layer
    expert_params: float  # weights of ONE routed expert
    n_experts: int
    top_k: int
    moe_fixed_params: float  # router + shared experts of one MoE layer
    shared_width: int  # total width of the shared experts of one MoE layer (n_shared·Fs)
    qkv_out_dim: int  # (N + 2K)·H, or MLA's Q and KV up-projection width
    attn_out_dim: int  # N·H(v): width into the output projection
    kv_dim: int  # K·H (keys or values of one token), MLA: latent + rope
    kv_elems_per_token: int  # cached elements per token per layer: 2·K·H, MLA: Rkv + Hrope
    kv_heads: int  # KV heads a tensor-parallel group can split the cache over (1 for MLA)
    decode_attn_flops_per_ctx: int  # FLOP per new token per cached token per layer
    ffn_width: float  # dense-layer MLP width F
    expert_width: int
    gated: bool
    head_dim_qk: int
    head_dim_v: int
    n_heads: int
    q_weight_share: float  # Q+O share of the attention weights: N/(N+K), MLA 1 (workload.heads)
    window: int | None  # sliding window where used (fraction below)
    window_fraction: float
    embedding_params: float  # input embedding (+ positions)
    lm_head_params: float  # V·D (also when tied: the matmul still runs)
    lm_head_weights: float  # V·D if the output head has its own weights, 0 when tied
    total_params: float
    expert_params_total: float  # all routed experts of all layers

    def attention_flops_fwd_per_token(self, seq_len: int, causal: bool) -> float:
        """Attention-score FLOPs per token of one average layer: 2·N·(Hqk+Hv)·ctx."""
        full = attention_context(seq_len, None, causal)
        windowed = attention_context(seq_len, self.window, causal) if self.window else full
        ctx = (1 - self.window_fraction) * full + self.window_fraction * windowed
        return 2.0 * self.n_heads * (self.head_dim_qk + self.head_dim_v) * ctx

    def context_tokens(self, ctx) -> float | np.ndarray:
        """Tokens an average layer attends to (and caches) at context ctx: windowed layers
        keep min(ctx, W)."""
        if not self.window:
            return ctx
        return (1 - self.window_fraction) * ctx + self.window_fraction * np.minimum(
            ctx, self.window)

    @property
    def matmul_params_per_token(self) -> float:
        """Weights one token multiplies through in one average layer."""
        moe = self.top_k * self.expert_params + self.moe_fixed_params
        return self.attn_params + (1 - self.moe_fraction) * self.dense_mlp_params + (
            self.moe_fraction * moe)


def layer_shape(m: ModelSpec) -> LayerShape:
    """Per-layer quantities of `m` (see LayerShape)."""
    p = param_counts(m)
    N, K, H = m.n_heads, m.n_kv_heads, m.head_dim
    if m.mla is not None:
        a = m.mla
        qkv_out = N * (a.qk_nope_head_dim + a.qk_rope_head_dim) + N * (
            a.qk_nope_head_dim + a.v_head_dim)
        attn_out, kv_dim = N * a.v_head_dim, a.kv_lora_rank + a.qk_rope_head_dim
        h_qk, h_v = a.qk_nope_head_dim + a.qk_rope_head_dim, a.v_head_dim
    else:
        qkv_out, attn_out, kv_dim, h_qk, h_v = (N + 2 * K) * H, N * H, K * H, H, H
    windowed = sum(m.sliding_layers) / m.n_layers if m.sliding_layers else 0.0
    e = m.moe
    return LayerShape(
        n_layers=m.n_layers, hidden=m.hidden, vocab=m.vocab,
        moe_fraction=m.n_moe_layers / m.n_layers,
        attn_params=attention_params(m),
        dense_mlp_params=mlp_params(m.hidden, m.ffn_hidden, m.gated_mlp, m.mlp_bias),
        expert_params=routed_expert_params(m) if e else 0.0,
        n_experts=e.n_routed_experts if e else 1, top_k=e.top_k if e else 0,
        moe_fixed_params=moe_fixed_params(m) if e else 0.0,
        shared_width=e.n_shared_experts * e.shared_expert_ffn_hidden if e else 0,
        qkv_out_dim=qkv_out, attn_out_dim=attn_out, kv_dim=kv_dim,
        kv_elems_per_token=kv_dim if m.mla is not None else 2 * kv_dim,
        kv_heads=1 if m.mla is not None else K,
        # Decode attends over the cache: 2·N·(Hqk + Hv); MLA with absorbed up-projections
        # scores and sums over the latent, 2·N·(2·Rkv + Hr) (DeepSeek-V2 sec. 2.1.2).
        decode_attn_flops_per_ctx=(2 * N * (2 * m.mla.kv_lora_rank + m.mla.qk_rope_head_dim)
                                   if m.mla is not None else 2 * N * (h_qk + h_v)),
        ffn_width=m.ffn_hidden, expert_width=e.expert_ffn_hidden if e else 0,
        gated=m.gated_mlp, head_dim_qk=h_qk, head_dim_v=h_v, n_heads=N,
        q_weight_share=1.0 if m.mla is not None else N / (N + K),
        window=m.sliding_window, window_fraction=windowed,
        embedding_params=p.embedding, lm_head_params=m.vocab * m.hidden,
        lm_head_weights=p.lm_head,
        total_params=p.total, expert_params_total=p.moe_experts,
    )
