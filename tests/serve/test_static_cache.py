"""Static KV caches (serve.static): decode reads the whole per-slot array, hand-worked."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.records import read_table_file
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.static import decode_context_tokens, slot_tokens
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.workload.layer import layer_shape


def _llama2_7b_on_v5e8(cache_tokens):
    p = api.serve_problem("llama-2-7b", chip="tpu-v5e", n_chips=8, input_len=100,
                          output_len=200)[0]
    return replace(p, kv_cache_tokens=cache_tokens)


def test_decode_context_and_slot_tokens_by_hand():
    # I = 100, O = 200: a paged engine reads the mean context I + O/2 = 200 tokens per step;
    # a static cache of C = 2048 tokens is read whole, and each slot holds C tokens.
    s = layer_shape(_llama2_7b_on_v5e8(None).model)
    assert decode_context_tokens(s, 100, 200, None) == pytest.approx(200.0)
    assert decode_context_tokens(s, 100, 200, 2048) == pytest.approx(2048.0)
    assert slot_tokens(s, 250.0, 300.0, None) == (250.0, 300.0)
    assert slot_tokens(s, 250.0, 300.0, 2048) == (2048, 2048)


def test_jetstream_kv_read_is_the_whole_cache_by_hand():
    # Llama 2 7B is MHA: K = 32 KV heads x 128 = 4096 wide, so one token holds
    # 2 (K, V) x 32 layers x 4096 x 2 B = 524,288 B of KV, 65,536 B per chip over tp = 8.
    # 96 slots of 2048 tokens (JetStream-PyTorch's max_cache_length) read
    # 96 x 2048 x 65,536 B = 12.88 GB per chip every step and occupy as much HBM.
    p = _llama2_7b_on_v5e8(2048)
    ev = evaluate_serving(p, ServeLayouts.build(tp=8, batch=96))
    kv_bytes = 96 * 2048 * 65_536
    bw = p.chip.hbm_bw * p.efficiency.hbm * p.calibration.memory_scale
    assert ev.decode["time/decode/kv_read"][0] == pytest.approx(kv_bytes / bw, rel=1e-9)
    assert ev.memory["mem/kv_cache"][0] == pytest.approx(kv_bytes, rel=1e-9)


def test_a_cache_of_the_mean_context_reads_what_a_paged_engine_reads():
    # C = I + O/2 = 200 tokens: the same KV bytes per step as the paged mean context.
    paged = evaluate_serving(_llama2_7b_on_v5e8(None), ServeLayouts.build(tp=8, batch=32))
    static = evaluate_serving(_llama2_7b_on_v5e8(200), ServeLayouts.build(tp=8, batch=32))
    assert static.decode["time/decode/kv_read"][0] == pytest.approx(
        paged.decode["time/decode/kv_read"][0], rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(256, 4096), st.integers(1, 2048))
def test_a_longer_static_cache_never_decodes_faster(cache, extra):
    layouts = ServeLayouts.build(tp=8, batch=16)
    short = evaluate_serving(_llama2_7b_on_v5e8(cache), layouts).tpot_decode_s[0]
    long = evaluate_serving(_llama2_7b_on_v5e8(cache + extra), layouts).tpot_decode_s[0]
    assert long >= short > 0


def test_static_cache_rows_name_csv_rows_and_reach_their_problems():
    table = read_table_file(builtin_file("validation/infer_static_cache.toml"))["static_cache"]
    with builtin_file("validation/infer_measurements.csv").open(newline="") as f:
        ids = {row["id"] for row in csv.DictReader(f)}
    expected = {i: r["kv_cache_tokens"] for r in table for i in r["ids"]}
    assert set(expected) <= ids and all(r["source"] and r["retrieved"] for r in table)
    rows, skipped = infer_rows()
    got = {r.id: r.problem.kv_cache_tokens for r in rows if r.id in expected}
    assert got == {i: c for i, c in expected.items() if i not in skipped}
    # the rest are paged, or Neuron exports whose compiled sequence length is the cache
    assert all(r.problem.kv_cache_tokens is None or r.problem.pad_prompt_to_cache
               for r in rows if r.id not in expected)
    assert np.all([c in (1280, 2048) for c in got.values()])
