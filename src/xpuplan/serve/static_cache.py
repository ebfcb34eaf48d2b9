"""Static KV caches: engines that give each decode slot a fixed array of C tokens and attend
over all of it, s and tokens.

JetStream-PyTorch keeps per slot a cache array of `max_cache_length` tokens, writes the new
token at its position and computes decode attention as a dense einsum over the whole array
with a mask (jetstream_pt/layers.py AttentionKernel and cache_manager.py KVCacheGenerate,
AI-Hypercomputer/jetstream-pytorch @84ac2133, the commit that published benchmarks/summary.md);
JetStream-MaxText's `attention=dot_product` decode does the same over its prefill cache of
max_prefill_predict_length and its autoregressive cache of the rest of max_target_length
tokens (MaxText layers/attentions.py AttentionOp). So a decode step reads C tokens of K and
V per sequence, however short the context it holds, and every slot keeps C tokens of HBM.
Paged engines (vLLM, TensorRT-LLM, SGLang; vLLM on TPU's ragged paged attention) read only
the context held: C is None there. Neglects the rolling-window overwrite when C < I + O
(JetStream-PyTorch summary.md note): the array read stays C either way.
"""

from __future__ import annotations

import numpy as np

from xpuplan.workload.layer import LayerShape


def decode_context_tokens(s: LayerShape, n_in: int, n_out: int,
                          cache_tokens: int | None) -> float | np.ndarray:
    """KV tokens one decode step reads per sequence in an average layer, tokens.

    ctx = C for a static cache of C tokens per slot (the masked einsum reads the whole array),
    else I + O/2 (the mean context over a request's decode); windowed layers keep min(ctx, W).
    """
    return s.context_tokens(cache_tokens if cache_tokens else n_in + n_out / 2)


def slot_tokens(s: LayerShape, resident: float | np.ndarray, whole: float | np.ndarray,
                cache_tokens: int | None) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Cached tokens a sequence holds under the admission rule, and one whole request needs,
    tokens: (C, C) for a static cache of C tokens per slot, else (`resident`, `whole`)
    (serve.memory.resident_tokens and I + O)."""
    if not cache_tokens:
        return resident, whole
    held = s.context_tokens(cache_tokens)
    return held, held
