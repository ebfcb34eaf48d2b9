"""The share of a layer's forward FLOPs a MaxText remat policy recomputes in the backward.

MaxText (AI-Hypercomputer/maxtext, src/maxtext/layers/decoders.py `get_remat_policy`, @e591f30)
wraps each decoder layer in `jax.checkpoint` with a policy that saves (on device) or offloads
(to pinned host memory) only the named tensors (`checkpoint_name`): the presets below, or
`custom`, where base.yml gives each name 'device', 'offload' or 'remat' (default 'remat';
`decoder_layer_input` is always kept, the layer's restart point). JAX stages the backward with
every unsaved residual recomputed from the saved ones, then dead-code-eliminates the recompute
down to what the backward reads (jax/_src/ad_checkpoint.py `remat_partial_eval`: "DCE
jaxpr_staged, keeping only instantiated outputs which are unknown"). A layer's backward reads:

  tensor (name)                 read by                        if not kept, recompute
  q, k, v (query/key/value_proj, flash-attention backward      the Q, K, V projections
           fused qkv_proj, kv_proj)
  context                       flash backward, O's wgrad      the attention forward
  out_proj (O's output)         RMSNorm backward (x + o)       the O projection
  mlpwi_0, mlpwi_1 (mlpwi)      the activation's backward      the gate / up GEMMs
  mlpwo (MLP output)            nothing (added to the residual, the next layer's input is
                                kept): never recomputed, so `full` recomputes all but it
  moe_mlpwi_0/1, moe_mlpwo      the same, for the routed experts

  f = Σ_recomputed F_op / Σ_all F_op, per token of one average layer (dense and MoE layers in
  the model's mix), F_op = 2·weights of the GEMM, attention 2·N·(Hqk+Hv)·ctx (causal).

Saved and offloaded tensors are both not recomputed; offloading moves their bytes to host
memory (the host DMA is assumed hidden under the layer's compute, as MaxText streams it).
Neglects element-wise FLOPs (norms, activations, rotary: recomputed with their producers),
the router's softmax, post-sublayer norms (Gemma 2/3 would read mlpwo's output), and partial
saves of MLA's projections (counted as recomputed unless all of q and kv are kept).
"""

from __future__ import annotations

from xpuplan.errors import SpecError
from xpuplan.workload.layer import LayerShape

# Named presets: the tensors each saves or offloads (decoders.py get_remat_policy,
# maxtext_utils.get_save_and_offload_names @e591f30); `full` saves nothing, `none` everything.
_PROJ = ("query_proj", "key_proj", "value_proj", "kv_proj", "qkv_proj")
_MLP = ("mlpwi_0", "mlpwi_1", "mlpwi", "mlpwo")
PRESETS: dict[str, tuple[str, ...]] = {
    "full": (),
    "minimal": (*_PROJ, "out_proj", *_MLP),
    "minimal_with_context": (*_PROJ, "out_proj", *_MLP, "context"),
    "minimal_offloaded": (*_PROJ, "out_proj", *_MLP),
    "save_dot_with_context_except_mlp": (*_PROJ, "context", "out_proj"),
    "save_dot_except_mlpwi": (*_PROJ, "out_proj", "mlpwo"),
    "save_dot_except_mlp": (*_PROJ, "out_proj"),
    "save_qkv_proj": _PROJ,
    "qkv_proj_offloaded": ("query_proj", "value_proj", "key_proj", "kv_proj"),
    "save_out_proj": ("out_proj",),
}
KEEP = ("device", "offload")  # custom-policy values that keep a tensor; 'remat' drops it


def kept_tensors(policy: str) -> frozenset[str]:
    """The tensor names a MaxText policy keeps (saved or offloaded).

    `policy` is a preset name (PRESETS) or `custom:` followed by `name=device|offload|remat`
    pairs separated by ';' (the recipe's flags; unnamed tensors default to 'remat').
    """
    name, _, spec = policy.strip().partition(":")
    if name != "custom":
        if name not in PRESETS or spec:
            raise SpecError("remat_policy", policy,
                            f"a MaxText preset ({', '.join(PRESETS)}) or custom:name=value;...")
        return frozenset(PRESETS[name])
    kept = set()
    for pair in filter(None, (p.strip() for p in spec.split(";"))):
        tensor, _, value = pair.partition("=")
        if value not in (*KEEP, "remat"):
            raise SpecError("remat_policy", pair, "each tensor is device, offload or remat")
        if value in KEEP:
            kept.add(tensor.strip())
    return frozenset(kept)


def remat_op_flops(s: LayerShape, seq_len: int) -> dict[str, float]:
    """Forward FLOPs per token of one average layer's recomputable ops, FLOP (module table).

    q, kv: 2·D·N·Hqk and 2·D·2·K·H (GQA; MLA: all projections under q), o 2·N·Hv·D, attention
    2·N·(Hqk+Hv)·ctx, MLP gate/up 2·D·F·(2 if gated), down 2·F·D, each over the dense share
    (1−f) of layers; MoE layers' routed experts k·(the same with Fe) and their fixed part
    (router and shared experts' gate/up under mlpwi, shared down 2·Fs·D under mlpwo), over f.
    """
    D, f, gate = s.hidden, s.moe_fraction, 2 if s.gated else 1
    o = 2.0 * s.attn_out_dim * D
    proj = 2.0 * s.attn_params - o  # Q, K, V (+ MLA's down/up projections)
    mla = s.kv_elems_per_token == s.kv_dim  # MLA caches one latent, GQA keys and values
    kv = 0.0 if mla else 2.0 * D * 2 * s.kv_dim
    down_dense = 2.0 * s.ffn_width * D
    shared_down = 2.0 * s.shared_width * D
    expert_down = 2.0 * s.top_k * s.expert_params / (gate + 1)
    return {
        "q": proj - kv, "kv": kv, "o": o,
        "attention": s.attention_flops_fwd_per_token(seq_len, causal=True),
        "mlpwi": (1 - f) * gate * down_dense + f * (2.0 * s.moe_fixed_params - shared_down),
        "mlpwo": (1 - f) * down_dense + f * shared_down,
        "moe_mlpwi": f * gate * expert_down,
        "moe_mlpwo": f * expert_down,
    }


def recompute_fraction(s: LayerShape, seq_len: int, policy: str) -> float:
    """Share f of one layer's forward FLOPs that `policy` recomputes, in [0, 1] (module doc)."""
    kept = kept_tensors(policy)
    F = remat_op_flops(s, seq_len)

    def has(*names: str) -> bool:
        return any(n in kept for n in names)

    q_kept = has("query_proj", "qkv_proj", "mla_q") if F["kv"] else (
        has("query_proj", "mla_q") and has("kv_proj", "mla_kv"))
    recomputed = {
        "q": not q_kept,
        "kv": not (has("qkv_proj", "kv_proj") or (has("key_proj") and has("value_proj"))),
        "attention": not has("context"),
        "o": not has("out_proj"),
        "mlpwi": not (has("mlpwi") or (has("mlpwi_0") and has("mlpwi_1"))),
        "mlpwo": False,
        "moe_mlpwi": not (has("moe_mlpwi_0") and has("moe_mlpwi_1")),
        "moe_mlpwo": False,
    }
    total = sum(F.values())
    return sum(F[k] for k, again in recomputed.items() if again) / total if total else 0.0
