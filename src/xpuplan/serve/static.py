"""Static shapes: engines that compile a fixed batch and give each decode slot a fixed KV cache
of C tokens that every decode step reads whole, whatever the live context.

JetStream (TPU). JetStream-PyTorch keeps per slot a cache array of `max_cache_length` tokens,
writes the new token at its position and computes decode attention as a dense einsum over the
whole array with a mask (jetstream_pt/layers.py AttentionKernel and cache_manager.py
KVCacheGenerate, AI-Hypercomputer/jetstream-pytorch @84ac2133, the commit that published
benchmarks/summary.md); JetStream-MaxText's `attention=dot_product` decode does the same over
its prefill cache of max_prefill_predict_length and its autoregressive cache of the rest of
max_target_length tokens (MaxText layers/attentions.py AttentionOp).

Neuron. NeuronX Distributed Inference and optimum-neuron compile one context-encoding and one
token-generation graph per bucket, each at fixed (batch, tokens) shapes. An optimum-neuron
export (`optimum-cli neuron serve --batch_size b_c --sequence_length S_c`) turns bucketing off
(NxDNeuronConfig enable_bucketing = False, max_context_length = sequence_length), so there is
one bucket of each (huggingface/optimum-neuron @56c35e6d, backend/modules/decoder/
modeling_decoder.py create_context_encoding_wrapper / create_token_generation_wrapper;
ARCHITECTURE_CAUSAL_LM.md "Graph variants", "Batch handling behavior"); C = S_c.

  decode rows      b_run = b_c·⌈b/b_c⌉: token generation runs b_c rows; a smaller batch is
                   padded into unused cache slots, a larger one split into compiled calls
  decode context   C per row: each step attends over the whole cache array, masked
  cache held       C per slot, in admission as well
  prefill tokens   I_c = max(I, C) where prompts are padded to the cache (Neuron: one prompt
                   per call, ctx_batch_size = 1, so prompts share no weight reads), else I

Context-encoding buckets. With bucketing on (vLLM on NxD Inference sets enable_bucketing and
max_context_length = max_model_len), NxD Inference compiles one context-encoding graph per
bucket and runs a prompt in the smallest bucket that holds it, padded; its default buckets are
the powers of two from 128 below max_context_length, then max_context_length itself
(neuronx-distributed-inference modules/autobucketing.py generate_buckets, @4bcdc54b); a
compile may name its own (`--context-encoding-buckets`). Transformers NeuronX picks the same
way (transformers_neuronx/bucket.py find, @0623de20) from context buckets that default to half
of its power-of-two token buckets (64 up to n_positions/2). So
  prefill tokens   I_c = min{b in buckets : b >= I}, the compiled buckets where known, else
                   max(b_min, 2^⌈log2 I⌉) by the engine's rule (data/stacks.toml
                   context_bucket_min_tokens), else I

Paged engines (vLLM, TensorRT-LLM, SGLang; vLLM on TPU's ragged paged attention) read only the
context held and run the live batch: ServeProblem.kv_cache_tokens / compiled_batch are None.
Neglects JetStream's rolling-window overwrite when C < I + O (the array read stays C either
way), a prompt longer than every bucket (NxD Inference refuses it; Transformers NeuronX runs
the rest token by token: I is taken) and the token-generation buckets' padding of the decode
context.
"""

from __future__ import annotations

import numpy as np

from xpuplan.workload.layer import LayerShape


def decode_rows(batch, compiled_batch: int | None) -> np.ndarray:
    """Sequences one token-generation step computes and reads a cache slot for, sequences.

    b_run = b_c·⌈b/b_c⌉ with a compiled batch b_c, else b (module doc).
    """
    b = np.asarray(batch, dtype=float)
    if compiled_batch is None:
        return b
    return compiled_batch * np.ceil(b / compiled_batch)


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


def bucketed(buckets: tuple[int, ...], bucket_min: int | None) -> bool:
    """Whether prompts run in compiled context-encoding buckets, one prompt per call (vLLM's
    NxD Inference config sets ctx_batch_size = 1: NxD Inference vLLM user guide)."""
    return bool(buckets) or bucket_min is not None


def context_encoding_tokens(n_in: int, compiled_seq_len: int | None,
                            buckets: tuple[int, ...] = (), bucket_min: int | None = None
                            ) -> int:
    """Tokens one prompt's prefill computes, tokens.

    I_c = max(I, C) where prompts are padded to the cache length C; else the smallest of the
    compiled context-encoding `buckets` >= I; else max(b_min, 2^⌈log2 I⌉) under an engine's
    power-of-two bucketing rule; else I (module doc). A prompt above every bucket keeps I.
    """
    if compiled_seq_len is not None:
        return max(n_in, compiled_seq_len)
    if buckets:
        return min((b for b in buckets if b >= n_in), default=n_in)
    if bucket_min is not None:
        return max(bucket_min, 1 << max(n_in - 1, 0).bit_length())
    return n_in
