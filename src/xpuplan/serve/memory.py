"""Serving memory per chip: weights, KV cache per token, workspace, and the KV admission cap.

Letters (docs/model.md): L layers, D model width, E experts, I input and O output tokens per
request, B batch; per layout tp, pp and x = max(tp, ep) (the chips one stage's experts are
spread over); b_w and b_kv the bytes per weight and per cached element. Every function takes
arrays (n_cfg,) of layouts and returns arrays of the same shape.
"""

from __future__ import annotations

import numpy as np

from xpuplan.workload.heads import HeadSplit
from xpuplan.workload.layer import LayerShape

ACT_BYTES = 2.0  # bf16 activations


def padded_attention_params(s: LayerShape, heads: HeadSplit) -> np.ndarray:
    """Extra attention weights of one layer from padded or replicated heads, parameters.

    P_pad = P_attn·(s_q·q_f + (1 − s_q)·kv_f − 1)  (workload.heads module doc).
    """
    return s.attn_params * (heads.attn_weight_factor - 1)


def dense_layer_params(s: LayerShape, heads: HeadSplit) -> np.ndarray:
    """Weights of one average layer that every token reads, parameters.

    P_dense = P_attn + P_pad + (1 − f)·P_mlp + f·P_router+shared  (f the routed share of layers).
    """
    f = s.moe_fraction
    return (s.attn_params + padded_attention_params(s, heads) + (1 - f) * s.dense_mlp_params
            + f * s.moe_fixed_params)


def weight_bytes_per_chip(s: LayerShape, heads: HeadSplit, b_w: float, tp: np.ndarray,
                          pp: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Weights held by one chip, bytes.

    W = (b_w·(L·P_dense/tp + L·f·E·P_e/x) + 2·(P_emb + P_head)/tp) / pp.
    Quantised checkpoints keep the embedding and output head in bf16 (ModelOpt
    hf_quant_config "exclude_modules": ["lm_head"]; embeddings are never quantised).
    Neglects the stage imbalance of the embedding and head (spread evenly over pp).
    """
    L, f, E = s.n_layers, s.moe_fraction, s.n_experts
    expert_layer = f * E * s.expert_params
    edge_bytes = ACT_BYTES * (s.embedding_params + s.lm_head_weights)
    return (b_w * (L * dense_layer_params(s, heads) / tp + L * expert_layer / x)
            + edge_bytes / tp) / pp


def kv_bytes_per_token(s: LayerShape, heads: HeadSplit, b_kv: float, tp: np.ndarray,
                       pp: np.ndarray) -> np.ndarray:
    """KV cache one token occupies on one chip, bytes.

    ⌈L/pp⌉·c_kv·b_kv·kv_f / tp, c_kv = 2·K·H (MLA: R_kv + H_rope) per layer; kv_f = K'/K, so
    the share is 1/min(tp, K) unpadded and the MLA latent is replicated (workload.heads).
    """
    layers = np.ceil(s.n_layers / pp)
    return layers * s.kv_elems_per_token * b_kv * heads.kv_factor / tp


def resident_tokens(s: LayerShape, n_in: int, n_out: int, admission: str | None,
                    windowed_pool: bool = True) -> float | np.ndarray:
    """Cached tokens a request holds on average under the stack's KV admission rule, tokens.

    paged_resident_tokens: R = I + O/2 (paged KV blocks are allocated as tokens arrive, so a
    steady continuous-batching mix of requests at uniformly spread ages holds I + O/2 each;
    one that outgrows the pool is preempted and recomputed: Kwon et al., PagedAttention,
    SOSP 2023 sec. 4.2-4.5; vLLM docs 'Preemption').
    reserved_full_sequence and full_sequence: R = I + O (blocks reserved for the whole
    sequence at admission, TensorRT-LLM's GUARANTEED_NO_EVICT; or a static cache slot per
    sequence: NxD Inference, JetStream).
    Windowed layers keep min(R, W) (LayerShape.context_tokens) where the engine sizes their
    pool by the window (`windowed_pool`, data/stacks.toml windowed_kv_pool), else R as every
    other layer.
    """
    paged = admission == "paged_resident_tokens"
    R = n_in + n_out / 2 if paged else n_in + n_out
    return s.context_tokens(R) if windowed_pool else R


def workspace_bytes(s: LayerShape, n_in: int, tp: np.ndarray) -> np.ndarray:
    """Activation workspace of one prefill on one chip, bytes.

    2·I·(4·D + 3·max(F, F_e·k)) / tp: the residual stream, QKV/attention outputs and the
    (gated) MLP intermediate of one prompt in bf16. Neglects the attention-score scratch
    (flash kernels keep it on chip).
    """
    D = s.hidden
    return ACT_BYTES * n_in * (4 * D + 3 * max(s.ffn_width, s.expert_width * s.top_k)) / tp


def max_concurrency(free: np.ndarray, kv_per_token: np.ndarray, resident: float | np.ndarray,
                    whole: float | np.ndarray) -> np.ndarray:
    """Requests the free HBM holds at once, sequences.

    ⌊M_free / (kv_tok·R)⌋ if one whole request (kv_tok·(I + O)) fits, else 0, with
    M_free = HBM − reserve − weights − workspace.
    """
    return np.where(free >= kv_per_token * whole,
                    np.floor(np.maximum(free, 0.0) / (kv_per_token * resident)), 0.0)


def running_batch(batch: np.ndarray, max_conc: np.ndarray, paged: bool) -> np.ndarray:
    """Sequences that decode at once, sequences.

    Paged (resident or reserved admission): B' = min(B, max(max concurrency, 1)): the engine
    admits what fits and queues (or preempts) the rest, so a larger max_num_seqs runs at the
    capacity. Static slots: B' = B (a batch past capacity cannot compile:
    ServeReason.KV_CAPACITY).
    """
    return np.minimum(batch, np.maximum(max_conc, 1.0)) if paged else batch


def engine_batch(batch: np.ndarray, max_running_batch: np.ndarray | float | None
                 ) -> np.ndarray:
    """Sequences the engine's scheduler lets run at once before the KV cache is asked, sequences.

    B_e = min(B, N_max), N_max the engine's cap on running requests (TensorRT-LLM
    max_batch_size, vLLM max_num_seqs, SGLang max_running_requests: data/stacks.toml, or a
    benchmark's own setting), one figure or one per layout; the rest wait in the queue. No
    cap (None, or inf): B_e = B.
    """
    return batch if max_running_batch is None else np.minimum(batch, max_running_batch)


def request_pool_cap(pool_tokens: np.ndarray, context_len: int, per_context: int,
                     floor: int, ceiling: int, tokens_per_request: int) -> np.ndarray:
    """An engine's default cap on running requests sized from its KV token pool, sequences.

    N_max = min(⌊T/t⌋, min(max(⌊T/C·r⌋, N_lo), N_hi)), T the tokens the pool holds per rank
    (⌊M_free / kv_tok⌋), C the model's context length: SGLang sizes its request pool by
    r = 512 slots per C tokens within [N_lo, N_hi] = [2048, 4096] and runs at most T // 2
    requests (data/stacks.toml sglang records, sgl-project/sglang model_runner.py).
    """
    pool = np.floor(np.maximum(pool_tokens, 0.0))
    slots = np.minimum(np.maximum(np.floor(pool / context_len * per_context), floor), ceiling)
    return np.minimum(np.floor(pool / tokens_per_request), slots)


def batch_limit(requested: np.ndarray, engine: np.ndarray, running: np.ndarray) -> np.ndarray:
    """What set each running batch: "requested", "engine_max_batch" or "kv_capacity".

    kv_capacity when B' < B_e (the KV cache admits fewer than the scheduler would run),
    engine_max_batch when B_e < B, else the requested batch runs whole.
    """
    return np.where(running < engine, "kv_capacity",
                    np.where(engine < requested, "engine_max_batch", "requested"))
