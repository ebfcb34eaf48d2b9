"""Parameter counts of a decoder transformer, by part, in parameters (dimensionless).

Weights are counted matrix by matrix from the ModelSpec, as the Hugging Face modelling code
builds them (biases and norm weights included), so totals can be checked against the
published counts and the checkpoints' safetensors totals. Notation: docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xpuplan.specs.model import ModelSpec


def attention_params(m: ModelSpec) -> int:
    """Parameters of one attention block (projections, biases, QK-norms).

    GQA: D·N·H + 2·D·K·H + N·H·D (Ainslie et al. 2023). MLA (DeepSeek-V2 eq. 1-11):
    Q: D·Rq + Rq + Rq·N·(Hn+Hr) (or D·N·(Hn+Hr) without q-LoRA); KV: D·(Rkv+Hr) + Rkv +
    Rkv·N·(Hn+Hv); out: N·Hv·D.
    """
    D, N, K, H = m.hidden, m.n_heads, m.n_kv_heads, m.head_dim
    if m.mla is not None:
        a = m.mla
        qk = a.qk_nope_head_dim + a.qk_rope_head_dim
        q = D * N * qk if a.q_lora_rank is None else D * a.q_lora_rank + a.q_lora_rank + (
            a.q_lora_rank * N * qk)
        kv = D * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank + (
            a.kv_lora_rank * N * (a.qk_nope_head_dim + a.v_head_dim))
        return q + kv + N * a.v_head_dim * D
    weights = D * N * H + 2 * D * K * H + N * H * D
    biases = (N * H + 2 * K * H) * m.qkv_bias + D * m.out_bias
    return weights + biases + 2 * H * m.qk_norm + N * m.attention_sinks


def mlp_params(hidden: int, ffn_hidden: int, gated: bool, bias: bool = False) -> int:
    """Parameters of one MLP: (3 if gated else 2)·D·F, plus biases (F per input matrix + D)."""
    n_in = 2 if gated else 1
    return (n_in + 1) * hidden * ffn_hidden + bias * (n_in * ffn_hidden + hidden)


def routed_expert_params(m: ModelSpec) -> int:
    """Parameters of ONE routed expert: a gated MLP of width Fe (3·D·Fe, + 2·Fe + D biases)."""
    if m.moe is None:
        return 0
    return mlp_params(m.hidden, m.moe.expert_ffn_hidden, gated=True, bias=m.moe.expert_bias)


def moe_fixed_params(m: ModelSpec) -> int:
    """Per MoE layer, parameters every token uses: router D·E (+E bias), shared experts, gate."""
    e = m.moe
    if e is None:
        return 0
    router = m.hidden * e.n_routed_experts + e.n_routed_experts * e.router_bias
    shared = e.n_shared_experts * mlp_params(m.hidden, e.shared_expert_ffn_hidden, gated=True)
    return router + shared + m.hidden * e.shared_expert_gate


def norm_params(m: ModelSpec) -> int:
    """Norm weights of one layer: norms_per_layer · D · (2 with bias, else 1)."""
    return m.norms_per_layer * m.hidden * (1 + m.norm_bias)


@dataclass(frozen=True)
class ParamCounts:
    """Parameters by part. total = embedding + lm_head + layers + final_norm (MTP apart)."""

    embedding: int  # input token embedding V·D (+ learned position table P·D)
    lm_head: int  # output projection V·D; 0 when tied to the input embedding
    attention: int  # all layers
    dense_mlp: int  # all dense-MLP layers
    moe_experts: int  # all routed experts of all MoE layers
    moe_fixed: int  # routers, shared experts, shared gates of all MoE layers
    norms: int  # per-layer norms and the final norm
    mtp: int  # DeepSeek-V3 multi-token-prediction modules (not in `total`)
    active_experts: int  # routed expert parameters one token uses: L_moe·k·P_expert

    @property
    def total(self) -> int:
        return (self.embedding + self.lm_head + self.attention + self.dense_mlp
                + self.moe_experts + self.moe_fixed + self.norms)

    @property
    def active(self) -> int:
        """Parameters one token touches: total less the routed experts it does not use."""
        return self.total - self.moe_experts + self.active_experts

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding - self.lm_head


def param_counts(m: ModelSpec) -> ParamCounts:
    """Count every weight of the model, by part (see ParamCounts)."""
    D, V, L = m.hidden, m.vocab, m.n_layers
    dense_layer_mlp = mlp_params(D, m.ffn_hidden, m.gated_mlp, m.mlp_bias)
    n_moe = m.n_moe_layers
    experts = active = fixed = 0
    if m.moe is not None:
        experts = n_moe * m.moe.n_routed_experts * routed_expert_params(m)
        active = n_moe * m.moe.top_k * routed_expert_params(m)
        fixed = n_moe * moe_fixed_params(m)
    layer_norms = L * norm_params(m) + D * (1 + m.norm_bias)
    return ParamCounts(
        embedding=V * D + m.learned_positions * D,
        lm_head=0 if m.tied_embeddings else V * D,
        attention=L * attention_params(m),
        dense_mlp=(L - n_moe) * dense_layer_mlp,
        moe_experts=experts,
        moe_fixed=fixed,
        norms=layer_norms,
        mtp=m.n_mtp_layers * mtp_module_params(m),
        active_experts=active,
    )


def mtp_module_params(m: ModelSpec) -> int:
    """One DeepSeek-V3 MTP module (tech report sec. 2.2): two RMSNorms 2·D, projection 2D·D,
    one transformer layer (MoE, as the model's last layer) and its final norm; the embedding
    and output head are shared with the main model, so not counted."""
    D = m.hidden
    layer = attention_params(m) + norm_params(m)
    if m.moe is not None and m.moe.moe_layers[-1]:
        layer += m.moe.n_routed_experts * routed_expert_params(m) + moe_fixed_params(m)
    else:
        layer += mlp_params(D, m.ffn_hidden, m.gated_mlp, m.mlp_bias)
    return 2 * D + 2 * D * D + layer + D
