"""The generic paged-attention kernel past a stack's GQA decode kernel's context limit
(serve.step.fallback_kv_reads, stacks.toml decode_attention_max_context) against hand-worked
cases, and the rows and engines it applies to."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from xpuplan import api
from xpuplan.catalog.measurements import StackRecord
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.step import fallback_kv_reads
from xpuplan.specs.layouts import ServeLayouts


def test_fallback_kv_reads_by_hand():
    # Llama 3.1 405B at TP8: 16 query heads per KV head on a rank. A 32,784-token prompt is
    # past S = 32,768 at every decode step: 16 reads. 128 + 2048 never passes it: 1 read.
    assert fallback_kv_reads(16.0, 32784, 2048, 32768)[()] == 16.0
    assert fallback_kv_reads(16.0, 128, 2048, 32768)[()] == 1.0
    # 32,000 + 2,048 passes S after 768 steps: the last 1,280 of 2,048 (f = 0.625) read 16
    # times, 1 + 15 · 0.625 = 10.375.
    assert fallback_kv_reads(np.array([16.0]), 32000, 2048, 32768)[0] == pytest.approx(10.375)
    assert fallback_kv_reads(16.0, 50000, 2048, None)[()] == 1.0  # no limit: no fallback


@given(st.floats(1, 64), st.integers(1, 200_000), st.integers(1, 20_000),
       st.integers(1, 200_000))
def test_fallback_reads_lie_between_one_and_the_group(g, n_in, n_out, limit):
    reads = fallback_kv_reads(g, n_in, n_out, limit)[()]
    assert 1.0 <= reads <= g + 1e-12
    assert fallback_kv_reads(g, n_in + 1, n_out, limit)[()] >= reads  # longer: never fewer


def test_only_the_rocm_v0_engine_has_the_limit():
    assert stack_rules("amd", "serve", "vllm-v0").decode_attention_max_context == 32768
    for vendor, engine in (("amd", "vllm"), ("amd", "sglang"), ("nvidia", "vllm-v0"),
                           ("nvidia", "vllm"), ("nvidia", "tensorrt-llm")):
        assert stack_rules(vendor, "serve", engine).decode_attention_max_context is None


def _decode(n_in: int, engine: str):
    p = api.serve_problem("llama-3.1-405b", chip="mi300x", n_chips=8, input_len=n_in,
                          output_len=2048, weights="fp8", kv="fp8")[0]
    return evaluate_serving(replace(p, engine=engine), ServeLayouts.build(tp=8, batch=4))


def test_past_the_limit_the_v0_decode_reads_its_kv_once_per_query_head():
    # Same problem, same batch: V0 past 32K reads the cache 16 times, V1 (no limit) once.
    v0, v1 = _decode(32784, "vllm-v0"), _decode(32784, "vllm")
    assert v0.running_batch[0] == v1.running_batch[0] == 4
    kv0, kv1 = v0.decode["time/decode/kv_read"][0], v1.decode["time/decode/kv_read"][0]
    assert kv1 > 0 and kv0 == pytest.approx(16 * kv1, rel=1e-9)
    short0, short1 = _decode(2048, "vllm-v0"), _decode(2048, "vllm")
    assert short0.decode["time/decode/kv_read"][0] == pytest.approx(
        short1.decode["time/decode/kv_read"][0], rel=1e-12)


def test_a_stack_record_gives_the_limit_with_a_source(serve_stack_fields):
    with pytest.raises(ValidationError, match="decode_attention_source"):
        StackRecord(**serve_stack_fields, decode_attention_max_context=32768)
    ok = StackRecord(**serve_stack_fields, decode_attention_max_context=32768,
                     decode_attention_source="s")
    assert ok.decode_attention_max_context == 32768
