"""ModelSpec: the exact shape of a dense or MoE decoder-only transformer.

Notation (docs/model.md): L layers, D model width, F dense MLP width, N query heads,
K KV heads, H head dim, V vocab, E routed experts, k experts per token, Fe expert width.
Field names say what a thing is; the formulas that use them live in `xpuplan.workload`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xpuplan.errors import SpecError


class MLASpec(BaseModel):
    """DeepSeek multi-head latent attention (DeepSeek-V2 paper sec. 2.1): low-rank Q and KV."""

    model_config = ConfigDict(frozen=True)

    q_lora_rank: int | None = Field(None, gt=0)  # None: Q is a full D x N*Hqk projection
    kv_lora_rank: int = Field(gt=0)
    qk_nope_head_dim: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0)
    v_head_dim: int = Field(gt=0)


class MoESpec(BaseModel):
    """Mixture-of-experts MLP: which layers route, how many experts, how wide."""

    model_config = ConfigDict(frozen=True)

    n_routed_experts: int = Field(gt=0)
    top_k: int = Field(gt=0)
    expert_ffn_hidden: int = Field(gt=0)
    n_shared_experts: int = Field(0, ge=0)
    shared_expert_ffn_hidden: int = Field(0, ge=0)  # width of EACH shared expert
    shared_expert_gate: bool = False  # Qwen2-MoE: sigmoid gate D -> 1 on the shared expert
    router_bias: bool = False  # DeepSeek-V3 e_score_correction_bias, GPT-OSS router bias (E)
    expert_bias: bool = False  # GPT-OSS: biases on each expert's gate/up (2·Fe) and down (D)
    moe_layers: tuple[bool, ...]  # per layer: True where the MLP is routed

    @model_validator(mode="after")
    def _top_k_within_experts(self) -> MoESpec:
        if self.top_k > self.n_routed_experts:
            raise SpecError("num_experts_per_tok", self.top_k,
                            f"must be <= the number of routed experts ({self.n_routed_experts})")
        return self


class ModelSpec(BaseModel):
    """A decoder-only transformer's shape; every count a formula needs, nothing derived."""

    model_config = ConfigDict(frozen=True)

    name: str
    model_type: str
    n_layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    ffn_hidden: int = Field(gt=0)  # dense-MLP width (dense layers of an MoE model too)
    n_heads: int = Field(gt=0)
    n_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    vocab: int = Field(gt=0)
    tied_embeddings: bool
    gated_mlp: bool  # SwiGLU/GeGLU: three D x F matrices instead of two
    learned_positions: int = Field(0, ge=0)  # rows of a learned position table (GPT-2), else 0
    qkv_bias: bool = False
    out_bias: bool = False  # bias on attention output projection
    mlp_bias: bool = False
    norm_bias: bool = False  # LayerNorm (weight + bias) vs RMSNorm (weight only)
    norms_per_layer: int = Field(2, ge=0)
    qk_norm: bool = False  # Qwen3: RMSNorm on each Q and K head (H params each)
    attention_sinks: bool = False  # GPT-OSS: one learned sink logit per head per layer
    sliding_window: int | None = Field(None, gt=0)
    sliding_layers: tuple[bool, ...] = ()  # per layer: True where attention is windowed
    moe: MoESpec | None = None
    mla: MLASpec | None = None
    n_mtp_layers: int = Field(0, ge=0)  # DeepSeek-V3 multi-token-prediction modules
    max_seq_len: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _shape_is_consistent(self) -> ModelSpec:
        if self.n_heads % self.n_kv_heads:
            raise SpecError("num_key_value_heads", self.n_kv_heads,
                            f"must divide num_attention_heads = {self.n_heads}")
        if self.moe is not None and len(self.moe.moe_layers) != self.n_layers:
            raise SpecError("moe_layers", len(self.moe.moe_layers),
                            f"must list one flag per layer ({self.n_layers})")
        if self.sliding_layers and len(self.sliding_layers) != self.n_layers:
            raise SpecError("layer_types", len(self.sliding_layers),
                            f"must list one type per layer ({self.n_layers})")
        return self

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def n_moe_layers(self) -> int:
        return sum(self.moe.moe_layers) if self.moe else 0

    @property
    def n_dense_layers(self) -> int:
        return self.n_layers - self.n_moe_layers
