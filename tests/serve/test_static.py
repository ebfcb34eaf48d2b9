"""Static-shape serving (serve/static.py): hand-worked compiled shapes and cross-checks of the
padded decode and prefill against the dynamic path they must equal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.serve import static
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.memory import resident_tokens
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.workload.layer import layer_shape

# optimum-neuron's benchmark export of Llama 3.1 8B on one Trainium2 chip
# (benchmark/vllm/single-instance/llama-3.1-8b-trn2/.env: BATCH_SIZE 32, SEQUENCE_LENGTH 4096)
COMPILED_BATCH, COMPILED_SEQ = 32, 4096


def _problem(n_in=1500, n_out=250, **kw):
    p = api.serve_problem("llama-3.1-8b", chip="trn2", n_chips=1, input_len=n_in,
                          output_len=n_out)[0]
    return replace(p, **kw)


def test_decode_rows_pad_to_the_compiled_batch_and_split_above_it():
    # 1 live sequence in a 32-slot graph runs 32 rows; 40 run as two calls, 64 rows.
    assert static.decode_rows(np.array([1.0, 32.0, 40.0]), 32).tolist() == [32, 32, 64]
    assert static.decode_rows(np.array([5.0]), None).tolist() == [5]


def test_compiled_length_sets_the_decode_context_and_the_prefill_tokens():
    s = layer_shape(api.load_model("llama-3.1-8b"))  # no windowed layers: ctx is the length
    assert static.decode_context_tokens(s, 1500, 250, 4096) == 4096
    assert static.decode_context_tokens(s, 1500, 250, None) == 1625.0
    assert static.context_encoding_tokens(1500, 4096) == 4096
    assert static.context_encoding_tokens(5000, 4096) == 5000  # never shorter than the prompt
    assert static.context_encoding_tokens(1500, None) == 1500


def test_static_decode_at_batch_1_reads_what_a_full_compiled_batch_reads():
    # The graph always runs 32 slots of 4096 cached tokens: one live request reads the same
    # weights and KV bytes as 32 live ones; only the host work per live sequence differs.
    p = _problem(compiled_batch=COMPILED_BATCH, kv_cache_tokens=COMPILED_SEQ,
                 pad_prompt_to_cache=True)
    one = evaluate_serving(p, ServeLayouts.build(tp=1, batch=1))
    full = evaluate_serving(p, ServeLayouts.build(tp=1, batch=COMPILED_BATCH))
    for part in ("time/decode/kv_read", "time/decode/weights_read"):
        assert one.decode[part][0] == pytest.approx(full.decode[part][0])
    assert one.running_batch[0] == 1  # throughput counts the live sequence only


def test_static_kv_read_is_the_whole_compiled_cache():
    # KV read per step = b_c · S_c · kv_tok, against a dynamic batch of 32 at its mean
    # context I + O/2 = 1500 + 125 = 1625 tokens: the ratio is 4096 / 1625.
    dyn = evaluate_serving(_problem(), ServeLayouts.build(tp=1, batch=COMPILED_BATCH))
    st = evaluate_serving(_problem(compiled_batch=COMPILED_BATCH, kv_cache_tokens=COMPILED_SEQ,
                                    pad_prompt_to_cache=True),
                          ServeLayouts.build(tp=1, batch=1))
    assert st.decode["time/decode/kv_read"][0] == pytest.approx(
        dyn.decode["time/decode/kv_read"][0] * COMPILED_SEQ / 1625)


def test_static_prefill_is_the_prefill_of_a_prompt_of_the_compiled_length():
    # Context encoding pads the 1,500-token prompt to 4,096: the same pass as a 4,096-token
    # prompt on the dynamic path, and no sharing of weight reads between prompts.
    st = evaluate_serving(_problem(kv_cache_tokens=COMPILED_SEQ,
                                    pad_prompt_to_cache=True),
                          ServeLayouts.build(tp=1, batch=1))
    dyn = evaluate_serving(_problem(n_in=COMPILED_SEQ), ServeLayouts.build(tp=1, batch=1))
    assert st.ttft_s[0] == pytest.approx(dyn.ttft_s[0])
    assert st.ttft_s[0] > evaluate_serving(_problem(), ServeLayouts.build(tp=1, batch=1)
                                           ).ttft_s[0]


def test_a_compiled_batch_past_the_kv_capacity_is_refused():
    # 4096 slots of 4,096 tokens of Llama 3.1 8B KV (128 KiB/token: 2 TiB) cannot fit.
    p = _problem(compiled_batch=4096, kv_cache_tokens=COMPILED_SEQ,
                 pad_prompt_to_cache=True)
    ev = evaluate_serving(p, ServeLayouts.build(tp=1, batch=1))
    assert not ev.fits[0]


def test_an_unwindowed_pool_holds_whole_sequences_in_windowed_layers():
    # gpt-oss-120b: a share w of the layers slides over W tokens. A 1000 + 1000 request
    # reserved whole holds 2000 tokens in every layer when the pool is not windowed
    # (TensorRT-LLM without max_attention_window), else (1 − w)·2000 + w·min(2000, W).
    m = api.load_model("gpt-oss-120b")
    s = layer_shape(m)
    w, W = sum(m.sliding_layers) / m.n_layers, m.sliding_window
    assert resident_tokens(s, 1000, 1000, "reserved_full_sequence", False) == 2000
    held = resident_tokens(s, 1000, 1000, "reserved_full_sequence", True)
    assert held == pytest.approx((1 - w) * 2000 + w * min(2000, W))
