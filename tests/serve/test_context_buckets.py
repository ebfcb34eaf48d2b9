"""Neuron context-encoding buckets (serve.static.context_encoding_tokens): a prompt is
prefilled in the smallest compiled bucket that holds it, hand-worked against the NxD
Inference tutorials' compiles and its autobucketing rule."""

from __future__ import annotations

import csv
from dataclasses import replace
from math import log2

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.data import data_table, validated
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.measurements import StackRecord, stack_records
from xpuplan.errors import CatalogError
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve import static
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts

# trn2-llama3.1-405b-speculative-tutorial.rst and trn2-llama3.3-70b-tutorial.rst compiles
BUCKETS_405B = (2048, 4096, 10240, 12288)
BUCKETS_70B = (2048, 4096, 8192, 12288)


def _nxdi_min() -> int:
    rec = next(r for r in stack_records() if r.engine == "nxd-inference")
    assert rec.context_bucket_min_tokens is not None and rec.context_buckets_source
    return rec.context_bucket_min_tokens


def test_a_prompt_runs_in_the_smallest_bucket_that_holds_it():
    # LLMPerf's 10000-token prompt: 10240 in the 405B compile, 12288 in the 70B one (no 10240
    # there: 8192 is too small); an exact fit pads nothing.
    assert static.context_encoding_tokens(10000, None, BUCKETS_405B) == 10240
    assert static.context_encoding_tokens(10000, None, BUCKETS_70B) == 12288
    assert static.context_encoding_tokens(4096, None, BUCKETS_70B) == 4096
    assert static.context_encoding_tokens(100, None, BUCKETS_70B) == 2048
    assert static.context_encoding_tokens(13000, None, BUCKETS_70B) == 13000  # above all: I
    # a bucketing-off export's one length comes first; no rule at all keeps I
    assert static.context_encoding_tokens(1500, 4096, BUCKETS_70B, 128) == 4096
    assert static.context_encoding_tokens(1500, None) == 1500
    assert not static.bucketed((), None) and static.bucketed(BUCKETS_70B, None)


def test_the_default_rule_is_the_next_power_of_two_from_the_engines_smallest_bucket():
    b_min = _nxdi_min()  # 128 (NxD Inference generate_buckets(128, max_context_length))
    assert stack_rules("aws", "serve").context_bucket_min_tokens == b_min
    got = [static.context_encoding_tokens(n, None, (), b_min) for n in (1, 100, 128, 129,
                                                                        1500, 4096, 10000)]
    assert got == [b_min, b_min, 128, 256, 2048, 4096, 16384]


def test_the_sd_rows_buckets_are_nxdi_autobucketing_of_max_model_len_6400():
    # generate_buckets(128, 6400) = [2**i for i in range(7, round(log2(6400)))] + [6400]
    table = data_table("validation/infer_context_buckets.toml")["context_buckets"]
    sd = next(r for r in table if "neuronsd_trn2_qwen3_32b_bf16_ttft" in r["ids"])
    assert sd["buckets_tokens"] == [2**i for i in range(7, round(log2(6400)))] + [6400]
    assert sd["buckets_tokens"] == [128, 256, 512, 1024, 2048, 4096, 6400]


def test_context_bucket_rows_name_csv_rows_fit_their_prompts_and_reach_their_problems():
    table = data_table("validation/infer_context_buckets.toml")["context_buckets"]
    with builtin_file("validation/infer_measurements.csv").open(newline="") as f:
        ids = {row["id"] for row in csv.DictReader(f)}
    expected = {i: tuple(r["buckets_tokens"]) for r in table for i in r["ids"]}
    assert set(expected) <= ids and all(r["source"] and r["retrieved"] for r in table)
    rows, skipped = infer_rows()
    got = {r.id: r.problem for r in rows if r.id in expected}
    assert {i: p.context_buckets for i, p in got.items()} == {
        i: b for i, b in expected.items() if i not in skipped}
    assert all(p.input_len <= max(p.context_buckets) for p in got.values())
    assert {i: static.context_encoding_tokens(p.input_len, None, p.context_buckets)
            for i, p in got.items() if i.endswith("_ttft")} == {
        "neuron_trn2_llama405b_bf16_nospec_ttft": 10240,
        "neuron_trn2_llama405b_fp8_fusedspec_ttft": 10240,
        "neuron_trn2_llama33_70b_bf16_ttft": 12288, "neuronsd_trn2_qwen3_32b_bf16_ttft": 128}


def _llama70b_trn2(n_in, **kw):
    p = api.serve_problem("llama-3.1-70b", chip="trn2", n_chips=16, input_len=n_in,
                          output_len=1500)[0]
    return replace(p, **kw)


def test_a_padded_prompt_prefills_as_a_prompt_of_its_bucket():
    # 10000 tokens in the 70B compile: the pass of a 12288-token prompt (its GEMM and
    # attention FLOPs, collectives and workspace), slower than the 10000 tokens alone.
    lay = ServeLayouts.build(tp=16, batch=1)
    padded = evaluate_serving(_llama70b_trn2(10000, context_buckets=BUCKETS_70B), lay)
    bucket = evaluate_serving(_llama70b_trn2(12288, context_buckets=BUCKETS_70B), lay)
    alone = evaluate_serving(_llama70b_trn2(10000, context_buckets=(10000,)), lay)
    assert padded.ttft_s[0] == pytest.approx(bucket.ttft_s[0], rel=1e-12)
    assert padded.memory["mem/workspace"][0] == pytest.approx(
        bucket.memory["mem/workspace"][0], rel=1e-12)
    assert padded.ttft_s[0] > alone.ttft_s[0]
    # the engine's default rule pads 10000 to 16384 when no compile names its buckets
    default = evaluate_serving(_llama70b_trn2(10000), lay)
    assert default.ttft_s[0] == pytest.approx(
        evaluate_serving(_llama70b_trn2(16384), lay).ttft_s[0], rel=1e-12)


def test_a_bucketed_engine_prefills_one_prompt_per_call():
    # vLLM's NxD Inference config sets ctx_batch_size = 1: under load a prompt still costs a
    # whole prefill pass, so the input price is the lone prefill's, $·t_pf/I·1e6.
    p = replace(_llama70b_trn2(10000, context_buckets=BUCKETS_70B), usd_per_chip_s=1e-3)
    ev = evaluate_serving(p, ServeLayouts.build(tp=16, batch=8))
    assert ev.usd_per_mtok_input[0] == pytest.approx(
        1e-3 * 16 * ev.prefill_s[0] / 10000 * 1e6, rel=1e-12)


def test_a_gpu_engine_prefills_the_prompt_itself():
    assert stack_rules("nvidia", "serve").context_bucket_min_tokens is None
    p = api.serve_problem("llama-3.1-8b", chip="h100-sxm", n_chips=1, input_len=1500,
                          output_len=100)[0]
    q = api.serve_problem("llama-3.1-8b", chip="h100-sxm", n_chips=1, input_len=2048,
                          output_len=100)[0]
    lay = ServeLayouts.build(tp=1, batch=1)
    assert evaluate_serving(p, lay).ttft_s[0] < evaluate_serving(q, lay).ttft_s[0]


def test_a_bucket_rule_needs_its_source():
    base = {"vendor": "x", "name": "n", "heads": "pad", "tp_counts": "chips", "source": "s",
            "retrieved": "2026-12-01", "workload": "serve", "engine": "e",
            "kv_admission": "full_sequence", "context_bucket_min_tokens": 128}
    with pytest.raises(CatalogError, match="context_buckets_source"):
        validated(StackRecord, base, "stacks.toml", "stack[0]")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20000), st.integers(0, 5000),
       st.lists(st.integers(1, 32768), min_size=1, max_size=6, unique=True))
def test_bucket_choice_holds_the_prompt_and_never_shrinks_as_it_grows(n, extra, buckets):
    bs = tuple(sorted(buckets))
    a, b = (static.context_encoding_tokens(m, None, bs) for m in (n, n + extra))
    assert a >= n and b >= a
    assert a in bs or a == n  # a bucket, or the prompt itself above every bucket
    d = static.context_encoding_tokens(n, None, (), 128)
    assert n <= d < 2 * max(n, 128) and d & (d - 1) == 0  # the next power of two
