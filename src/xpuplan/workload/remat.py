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
memory (`placement`, `saved_tensor_elems`: train.memory counts 'device' tensors in HBM and
'offload' ones in pinned host memory). The host DMA (device -> pinned_host in the forward,
back in the backward) is neglected in the step time: XLA schedules it asynchronously under
the layer's compute, as MaxText streams it; it is not checked against the host link.
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
OFFLOADED_PRESETS = ("minimal_offloaded", "qkv_proj_offloaded")  # save_and_offload_only_these_
# names(names_which_can_be_saved=[], names_which_can_be_offloaded=[...], offload_dst=
# "pinned_host"); the other presets save on device (save_only_these_names).
KEEP = ("device", "offload")  # custom-policy values that keep a tensor; 'remat' drops it
LAYER_INPUT = "decoder_layer_input"  # MaxText types.py RematAndOffload: default 'device'


def placement(policy: str) -> dict[str, str]:
    """Where a MaxText policy keeps each tensor it keeps: name -> 'device' or 'offload'.

    `policy` is a preset name (PRESETS) or `custom:` followed by `name=device|offload|remat`
    pairs separated by ';' (the recipe's flags; unnamed tensors default to 'remat'). The
    layer input (the scan carry, the backward's restart point) is on device unless a custom
    policy sets decoder_layer_input=offload (MaxText base.yml / types.py default 'device').
    """
    name, _, spec = policy.strip().partition(":")
    if name != "custom":
        if name not in PRESETS or spec:
            raise SpecError("remat_policy", policy,
                            f"a MaxText preset ({', '.join(PRESETS)}) or custom:name=value;...")
        where = "offload" if name in OFFLOADED_PRESETS else "device"
        return {LAYER_INPUT: "device", **dict.fromkeys(PRESETS[name], where)}
    kept = {LAYER_INPUT: "device"}
    for pair in filter(None, (p.strip() for p in spec.split(";"))):
        tensor, _, value = pair.partition("=")
        if value not in (*KEEP, "remat"):
            raise SpecError("remat_policy", pair, "each tensor is device, offload or remat")
        if value in KEEP:
            kept[tensor.strip()] = value
        elif tensor.strip() != LAYER_INPUT:
            kept.pop(tensor.strip(), None)
    return kept


def kept_tensors(policy: str) -> frozenset[str]:
    """The tensor names a MaxText policy keeps (saved or offloaded), the layer input aside."""
    return frozenset(n for n in placement(policy) if n != LAYER_INPUT)


def saved_tensor_elems(s: LayerShape) -> dict[str, tuple[float, str]]:
    """Elements per token of one average layer of each tensor a policy can keep, and the axis
    its last dimension is sharded on: 'embed' (D-sized: over tp only with sequence sharding),
    'heads' (padded by the stack's head rule, over tp) or 'mlp' (over tp).

    Separate Q, K, V and gate/up outputs, MaxText's default (fused_qkv, fused_mlp False):
    the fused names qkv_proj, kv_proj and a gated model's mlpwi then hold nothing. MLA's
    projections count as Q (N·Hqk) and K = V (the rest of qkv_out_dim, halved). Dense MLP
    tensors hold the dense layers' F and the MoE layers' shared experts Fs; routed ones k
    copies per token (k·Fe, and k·D for moe_mlpwo) in the MoE share of layers.
    """
    D, f, gated = s.hidden, s.moe_fraction, s.gated
    q = s.n_heads * s.head_dim_qk
    kv = (s.qkv_out_dim - q) / 2
    mlp = (1 - f) * s.ffn_width + f * s.shared_width
    routed = f * s.top_k * s.expert_width
    return {
        LAYER_INPUT: (D, "embed"), "query_proj": (q, "heads"), "key_proj": (kv, "heads"),
        "value_proj": (kv, "heads"), "context": (s.attn_out_dim, "heads"),
        "out_proj": (D, "embed"),
        "mlpwi_0": (mlp if gated else 0.0, "mlp"), "mlpwi_1": (mlp if gated else 0.0, "mlp"),
        "mlpwi": (0.0 if gated else mlp, "mlp"), "mlpwo": (D, "embed"),
        "moe_mlpwi_0": (routed if gated else 0.0, "mlp"),
        "moe_mlpwi_1": (routed if gated else 0.0, "mlp"),
        "moe_mlpwo": (f * s.top_k * D, "embed"),
    }


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
