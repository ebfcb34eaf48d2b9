"""Static-shape serving: the compiled batch and sequence a Neuron graph always runs at.

NeuronX Distributed Inference and optimum-neuron compile one context-encoding and one
token-generation graph per bucket, each at fixed (batch, tokens) shapes. An optimum-neuron
export (`optimum-cli neuron serve --batch_size b_c --sequence_length S_c`) turns bucketing off
(NxDNeuronConfig enable_bucketing = False, max_context_length = sequence_length), so there is
one bucket of each and (huggingface/optimum-neuron @56c35e6d, backend/modules/decoder/
modeling_decoder.py create_context_encoding_wrapper / create_token_generation_wrapper;
ARCHITECTURE_CAUSAL_LM.md "Graph variants", "Batch handling behavior"):
  decode rows      b_run = b_c·⌈b/b_c⌉: token generation runs tkg_batch_size = b_c rows; a
                   smaller batch is padded with copies into unused cache slots, a larger one
                   is split into compiled calls
  decode context   S_c per row: each step attends over the whole compiled cache, masked
  prefill tokens   I_c = S_c: context encoding pads the prompt to max_context_length, one
                   prompt per call (ctx_batch_size = 1 under continuous batching), so prompts
                   share no weight reads
A problem without compiled shapes (ServeProblem.compiled_batch / compiled_seq_len None) runs
at its own batch and lengths (the buckets of an engine that fit the request exactly).
Neglects bucketed exports (NxD's power-of-two buckets from 128), which pad less.
"""

from __future__ import annotations

import numpy as np


def decode_rows(batch, compiled_batch: int | None) -> np.ndarray:
    """Sequences one token-generation step computes and reads a cache slot for, sequences.

    b_run = b_c·⌈b/b_c⌉ with a compiled batch b_c, else b (module doc).
    """
    b = np.asarray(batch, dtype=float)
    if compiled_batch is None:
        return b
    return compiled_batch * np.ceil(b / compiled_batch)


def decode_context(mean_context, compiled_seq_len: int | None) -> float | np.ndarray:
    """KV tokens one sequence's decode step attends over and reads, tokens.

    S_c, the compiled cache length, if set (the graph masks the empty positions), else the
    mean live context.
    """
    return mean_context if compiled_seq_len is None else float(compiled_seq_len)


def context_encoding_tokens(n_in: int, compiled_seq_len: int | None) -> int:
    """Tokens one prompt's prefill computes, tokens.

    I_c = max(I, S_c) with a compiled sequence length (the prompt padded to it), else I.
    """
    return n_in if compiled_seq_len is None else max(n_in, compiled_seq_len)
