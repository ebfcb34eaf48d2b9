"""Memory per chip of a training step, B, by part, for arrays of layouts.

Model state (weights, gradients, optimizer bytes per parameter, STATE_BYTES by the run's
state_format). 'megatron' (Megatron-LM distributed-optimizer doc, "bytes per parameter"
table; ZeRO paper, Rajbhandari et al. 2020 sec. 3): bf16 weights 2 B, fp32 gradients 4 B,
fp32 master weights + Adam m + v 12 B ("bf16 param, fp32 grads": 6 + 12/d).
'megatron-bf16-grads' (gradient buffer in bf16, Megatron `grad_reduce_in_fp32=False`): 2 B of
gradients, and the distributed optimizer keeps its own fp32 main gradients with the master
weights and moments, 16 B (the table's half-precision row: 4 + 16/d). 'maxtext-W-G-M'
(MaxText's weight_dtype, grad_dtype and mu_dtype, each fp32 or bf16; @e591f30
configs/base.yml defaults weight_dtype "float32", grad_dtype "float32", mu_dtype "inherits
from weight_dtype if unset"; optimizers.py optax.adamw(mu_dtype=...), whose second moment
takes the parameters' dtype): the weights in W are the master copy (bf16 casts are per-layer
temporaries), gradients in G, the optimizer M + W (maxtext-fp32-fp32-fp32: 4 + 4 + 8 B).
ZeRO stage z shards, over the data-parallel group (dp·cp, or dp·cp·tp/ep for experts): the
optimizer states (z ≥ 1), the gradients (z ≥ 2), the weights (z = 3).

Activations (Korthikanti et al. 2022, sec. 4, generalised to GQA, gated MLPs and MoE, with
flash attention so no s² term, and no dropout masks): per token per layer, 2-byte tensors
saved for backward; D-sized ones are split over tp only with sequence parallelism. 1F1B keeps
min(pp, m) micro-batches in flight on stage 0, times (1 + (pp−1)/(pp·v)) when interleaved
(their eq. 5). Selective recompute drops the activation-function output and the norm inputs;
full recompute keeps only each layer's input plus one layer's working set; a partial one
(a share f < 1 of the forward recomputed, specs.layouts) keeps the input plus (1 − f) of the
rest, and rebuilds f of one layer's working set at a time (linear in the recomputed FLOPs).

A MaxText remat policy (workload.remat.placement; MaxText decoders.py get_remat_policy
@e591f30) names the tensors kept: per token per layer the 'device' ones stay in HBM, the
'offload' ones go to pinned host memory (jax.checkpoint_policies.save_and_offload_only_
these_names, offload_dst="pinned_host"), counted in `host_offload_bytes`, not in HBM; the
backward of one layer then holds that layer's whole working set (rebuilt or fetched back)
beyond what the device keeps.

Activation CPU offloading (Megatron-core TransformerConfig cpu_offloading_num_layers, run by
Transformer Engine's cpu_offload.get_cpu_offload_context: "the number of transformer layers you
want to offload activations for", double-buffered): n of a stage's layers keep their saved
activations in host memory; HBM keeps the other layers plus one layer in transfer (n ≥ 1).
Host transfer time is neglected in the step time (TE overlaps it on side streams).

Quantized saved inputs (saved_input_format 'fp8' / 'mxfp8'): under an FP8 recipe Transformer
Engine keeps, for each GEMM's weight gradient, the quantized copy of its input rather than the
bf16 one (NVIDIA/TransformerEngine v2.9 pytorch/module/linear.py and grouped_linear.py:
"Discard row-wise data since it is not needed in backward pass", inputmat.update_usage(
rowwise_usage=False, columnwise_usage=True), saved_inputmat = inputmat; layernorm_linear.py
saves the quantized ln_out with the bf16 norm input, mu and rsigma; the same at v2.5-v2.8):
the normed inputs of the QKV and MLP-up GEMMs, the context, and the MLP-down input. Q, K, V
(for the attention backward), the up projection's output (for the activation's backward) and
the norm inputs stay bf16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.errors import SpecError
from xpuplan.specs.layouts import Layouts
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape
from xpuplan.workload.remat import placement, saved_tensor_elems

ACT_BYTES = 2.0  # bf16 activations (fp8 recipes keep bf16 tensors between GEMMs)
LOGIT_BYTES = 4.0  # fp32 logits for the cross-entropy
# Bytes per element of a GEMM input kept for its weight gradient (module doc): bf16, or the
# quantized copy Transformer Engine keeps under an FP8 recipe: FP8 1 B (per-tensor scales
# negligible), MXFP8 1 B + one E8M0 scale byte per 32 elements (OCP Microscaling Formats
# (MX) Specification v1.0, 2023: blocks of 32 elements share one 8-bit E8M0 scale).
SAVED_INPUT_BYTES = {"bf16": ACT_BYTES, "fp8": 1.0, "mxfp8": 1.0 + 1.0 / 32}
# (weights, gradients, optimizer) bytes per parameter by the run's state format (module doc)
STATE_BYTES = {"megatron": (2.0, 4.0, 12.0), "megatron-bf16-grads": (2.0, 2.0, 16.0)}
_, _, OPTIMIZER_BYTES = STATE_BYTES["megatron"]  # step.py: the optimizer update's traffic
DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0}


def state_bytes(state_format: str) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per parameter of a state format (module doc):
    a STATE_BYTES key or maxtext-W-G-M; SpecError otherwise."""
    if state_format in STATE_BYTES:
        return STATE_BYTES[state_format]
    name, *dtypes = state_format.split("-")
    if name != "maxtext" or len(dtypes) != 3 or any(d not in DTYPE_BYTES for d in dtypes):
        raise SpecError("state_format", state_format,
                        f"{', '.join(STATE_BYTES)} or maxtext-W-G-M, each fp32 or bf16")
    w, g, mu = (DTYPE_BYTES[d] for d in dtypes)
    return w, g, mu + w


@dataclass(frozen=True)
class MemorySettings:
    """Run settings the estimate reads beyond the layout (module doc): a MaxText remat
    policy, the model-state format (`state_bytes`), the layers whose activations are
    offloaded to host memory (Megatron cpu_offloading_num_layers) and the format of the
    GEMM inputs kept for the weight gradients (a SAVED_INPUT_BYTES key)."""

    remat_policy: str | None = None
    state_format: str = "megatron"
    offload_layers: int = 0
    saved_input_format: str = "bf16"  # the GEMM inputs kept for the weight gradients


def params_per_chip(s: LayerShape, lay: Layouts,
                    heads: HeadSplit | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(non-expert, expert) parameters held by the busiest chip before ZeRO sharding.

    Stage 0 holds ceil(L/pp) layers and the embedding, the last stage the output head (one
    stage holds both when pp = 1): layers·(P_dense/tp + P_experts/ep) + V·D/tp, with the
    attention weights padded by the stack's head rule (workload.heads).
    """
    heads = heads or head_split(s, lay.tp)
    layers = np.ceil(s.n_layers / lay.pp)
    dense = s.attn_params * heads.attn_weight_factor + (
        1 - s.moe_fraction) * s.dense_mlp_params + s.moe_fraction * s.moe_fixed_params
    embed = np.where(lay.pp == 1, s.embedding_params + s.lm_head_weights,
                     max(s.embedding_params, s.lm_head_weights))
    experts = s.moe_fraction * s.n_experts * s.expert_params
    return layers * dense / lay.tp + embed / lay.tp, layers * experts / lay.ep


def activation_bytes_per_token_layer(s: LayerShape, lay: Layouts, recompute: np.ndarray,
                                     heads: HeadSplit | None = None,
                                     gemm_input_bytes: float = ACT_BYTES) -> np.ndarray:
    """Activation bytes saved per token per (average) layer on one chip, B (module doc).

    Dense layer: D/σ (attention input) + ((N+2K)H + NH)/tp + D/σ (MLP input) + (up + F)/tp
    + 2D/σ (norm inputs), σ = tp with SP else 1. MoE layer: the MLP part becomes the routed
    copies k·(D + up_e + Fe)/tp, the shared experts and the router logits 2E/tp (fp32).
    The tensors only a GEMM's weight gradient reads (the normed attention and MLP inputs D/σ,
    the context NH/tp, the down projections' inputs F, Fe, Fs) take `gemm_input_bytes` each
    (a quantized copy under an FP8 recipe, SAVED_INPUT_BYTES); the rest 2 B.
    """
    D, tp = s.hidden, lay.tp
    q = gemm_input_bytes / ACT_BYTES  # a saved GEMM input, in bf16 units
    seq_div = np.where(lay.sp, tp, 1)  # D-sized tensors split over tp only with SP
    selective = recompute == 1
    f = np.where(recompute == 2, lay.recompute_fraction, 0.0)  # share recomputed
    up = s.ffn_width * (2 if s.gated else 1)
    pad = (heads or head_split(s, tp)).attn_weight_factor  # padded heads' Q, K, V, context
    attention = q * D / seq_div + (s.qkv_out_dim + q * s.attn_out_dim) * pad / tp
    dense_mlp = q * D / seq_div + (up + q * np.where(selective, 0.0, s.ffn_width)) / tp
    up_e = s.expert_width * (2 if s.gated else 1)
    routed = s.top_k * (q * D + up_e + q * np.where(selective, 0.0, s.expert_width)) / tp
    shared = (s.shared_width * 2 + q * np.where(selective, 0.0, s.shared_width)) / tp
    moe_mlp = q * D / seq_div + routed + shared + 2 * s.n_experts / tp
    norms = np.where(selective, 0.0, 2 * D / seq_div)
    per_layer = attention + (1 - s.moe_fraction) * dense_mlp + s.moe_fraction * moe_mlp + norms
    return ACT_BYTES * np.where(recompute == 2, D / seq_div + (1 - f) * (per_layer - D / seq_div),
                                per_layer)


def policy_bytes_per_token_layer(s: LayerShape, lay: Layouts, policy: str,
                                 heads: HeadSplit | None = None
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """(HBM, host) bytes per token per (average) layer that a MaxText policy keeps, B.

    Σ over the kept tensors of 2 B × elements (workload.remat.saved_tensor_elems) / split:
    σ (tp with SP, else 1) on the embed axis, tp on heads (× the head rule's padding) and mlp;
    'device' tensors in HBM, 'offload' ones in host memory (module doc).
    """
    pad = (heads or head_split(s, lay.tp)).attn_weight_factor
    split = {"embed": np.where(lay.sp, lay.tp, 1), "heads": lay.tp / pad, "mlp": lay.tp}
    where = placement(policy)
    kept = {"device": np.zeros(len(lay)), "offload": np.zeros(len(lay))}
    for name, (elems, axis) in saved_tensor_elems(s).items():
        if name in where:
            kept[where[name]] = kept[where[name]] + ACT_BYTES * elems / split[axis]
    return kept["device"], kept["offload"]


def _in_flight(lay: Layouts, global_batch: int) -> np.ndarray:
    """Micro-batches whose activations stage 0 holds under (interleaved) 1F1B (module doc)."""
    n_micro = global_batch / (lay.dp * lay.micro_batch)
    return np.minimum(lay.pp, np.maximum(n_micro, 1)) * np.where(
        lay.vpp > 1, 1 + (lay.pp - 1) / (lay.pp * lay.vpp), 1.0)


def _layer_activations(s: LayerShape, lay: Layouts, tokens_mb: np.ndarray, heads: HeadSplit,
                       settings: MemorySettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept in HBM per layer, one layer's working set, offloaded per layer) of one
    micro-batch on one chip, B: the policy's placement under layer recompute (code 2)."""
    q = SAVED_INPUT_BYTES[settings.saved_input_format]
    per_layer = activation_bytes_per_token_layer(s, lay, lay.recompute, heads, q) * tokens_mb
    whole = activation_bytes_per_token_layer(s, lay, np.zeros_like(lay.recompute), heads, q)
    # Full recompute rebuilds one layer at a time: its whole working set (f of it) is live once.
    working = np.where(lay.recompute == 2, lay.recompute_fraction * whole * tokens_mb, 0.0)
    if settings.remat_policy is None:
        return per_layer, working, np.zeros(len(lay))
    device, offload = policy_bytes_per_token_layer(s, lay, settings.remat_policy, heads)
    policy = lay.recompute == 2
    return (np.where(policy, device * tokens_mb, per_layer),
            np.where(policy, np.maximum(whole - device, 0.0) * tokens_mb, working),
            np.where(policy, offload * tokens_mb, 0.0))


def _kept_layers(layers: np.ndarray, offload_layers: int) -> tuple[np.ndarray, np.ndarray]:
    """(layers whose activations stay in HBM, layers offloaded): n of the stage's layers
    offloaded, one of them in transfer at a time (module doc)."""
    n = np.minimum(offload_layers, np.maximum(layers - 1, 0))
    return layers - n + np.minimum(n, 1), n


def host_offload_bytes(s: LayerShape, lay: Layouts, seq_len: int, global_batch: int,
                       heads: HeadSplit | None = None, settings: MemorySettings | None = None
                       ) -> np.ndarray:
    """Host memory per chip holding offloaded activations, B: a MaxText policy's offloaded
    tensors of every layer, plus whole offloaded layers (Megatron), × micro-batches in
    flight (0 without either)."""
    settings = settings or MemorySettings()
    heads = heads or head_split(s, lay.tp)
    tokens_mb = lay.micro_batch * seq_len / lay.cp
    per_layer, _, offload = _layer_activations(s, lay, tokens_mb, heads, settings)
    layers = np.ceil(s.n_layers / lay.pp)
    _, moved = _kept_layers(layers, settings.offload_layers)
    return (offload * layers + per_layer * moved) * _in_flight(lay, global_batch)


def memory_per_chip(s: LayerShape, lay: Layouts, seq_len: int, global_batch: int,
                    reserved_bytes: float, heads: HeadSplit | None = None,
                    settings: MemorySettings | None = None) -> dict[str, np.ndarray]:
    """HBM bytes per chip by part: mem/weights, grads, optimizer, activations, logits,
    reserved, under the run's `settings` (MemorySettings; what goes to host memory:
    `host_offload_bytes`)."""
    settings = settings or MemorySettings()
    heads = heads or head_split(s, lay.tp)
    dense, expert = params_per_chip(s, lay, heads)
    shard_dense = (lay.dp * lay.cp).astype(float)
    shard_expert = np.maximum(lay.dp * lay.cp * lay.tp / lay.ep, 1.0)

    def state(bytes_per_param: float, min_zero: int) -> np.ndarray:
        sharded = lay.zero >= min_zero
        return bytes_per_param * (np.where(sharded, dense / shard_dense, dense)
                                  + np.where(sharded, expert / shard_expert, expert))

    tokens_mb = lay.micro_batch * seq_len / lay.cp  # tokens of one micro-batch on one chip
    layers = np.ceil(s.n_layers / lay.pp)
    kept, _ = _kept_layers(layers, settings.offload_layers)
    per_layer_mb, working, _ = _layer_activations(s, lay, tokens_mb, heads, settings)
    activations = per_layer_mb * kept * _in_flight(lay, global_batch) + working  # stage 0
    logits_full = LOGIT_BYTES * tokens_mb * s.vocab / lay.tp
    # The logits (and their gradient) live from the output head's forward to its backward;
    # the one layer's rebuilt working set only from that layer's backward on, after the
    # head's backward has consumed them (reverse-mode order): the peak holds the larger.
    # The last stage holds one micro-batch of layers plus that; count what it needs beyond
    # stage 0 (pp > 1) or beyond the working set (pp = 1) so the parts sum to the peak.
    last_stage = per_layer_mb * kept + np.maximum(working, logits_full)
    logits = np.where(lay.pp > 1, np.maximum(last_stage - activations, 0.0),
                      np.maximum(logits_full - working, 0.0))
    weight_bytes, grad_bytes, optimizer_bytes = state_bytes(settings.state_format)
    return {
        "mem/weights": state(weight_bytes, 3),
        "mem/grads": state(grad_bytes, 2),
        "mem/optimizer": state(optimizer_bytes, 1),
        "mem/activations": activations,
        "mem/logits": logits,
        "mem/reserved": np.full(len(lay), reserved_bytes),
    }
