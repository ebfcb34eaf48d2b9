"""Serving quantity functions (serve.memory, serve.step) against hand-worked cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.memory import batch_limit, engine_batch, max_concurrency, running_batch
from xpuplan.serve.step import (
    DecodeStage,
    cycle_throughput,
    decode_step_time,
    disaggregated_throughput,
    dp_prefill_straggler,
    experts_touched,
    host_step_time,
    usd_per_mtok,
)
from xpuplan.specs.layouts import ServeLayouts


def test_experts_touched_by_hand():
    # E = 8, k = 2: one token touches exactly its 2 experts; two tokens miss a given expert
    # with probability (6/8)² = 0.5625, so they touch 8·0.4375 = 3.5 on average.
    assert experts_touched(8, 2, np.array([1.0]))[0] == pytest.approx(2.0)
    assert experts_touched(8, 2, np.array([2.0]))[0] == pytest.approx(3.5)
    assert experts_touched(8, 0, np.array([5.0])) == 0.0  # dense model
    assert experts_touched(256, 8, np.array([1e4]))[0] == pytest.approx(256.0)


def test_max_concurrency_by_hand():
    # 10 GB free, 1 MB per token, 2,000 resident tokens per request: 10e9/2e9 = 5 requests;
    # a request of 20,000 tokens at full length (20 GB) does not fit at all: 0.
    free, kv = np.array([10e9]), np.array([1e6])
    assert max_concurrency(free, kv, 2000.0, 4000.0)[0] == 5.0
    assert max_concurrency(free, kv, 2000.0, 20000.0)[0] == 0.0
    assert running_batch(np.array([64.0]), np.array([5.0]), paged=True)[0] == 5.0
    assert running_batch(np.array([64.0]), np.array([5.0]), paged=False)[0] == 64.0


def test_engine_batch_and_its_limit_by_hand():
    # 5,000 requested, an engine cap of 2,048 and room for 3,000 in the KV cache: the
    # scheduler lets 2,048 run (the cap binds); with room for 1,000 the KV cache binds; a
    # batch of 64 runs whole; no cap leaves the batch to the KV cache.
    requested = np.array([5000.0, 5000.0, 64.0])
    engine = engine_batch(requested, 2048)
    assert engine.tolist() == [2048.0, 2048.0, 64.0]
    running = running_batch(engine, np.array([3000.0, 1000.0, 3000.0]), paged=True)
    assert running.tolist() == [2048.0, 1000.0, 64.0]
    assert batch_limit(requested, engine, running).tolist() == [
        "engine_max_batch", "kv_capacity", "requested"]
    assert engine_batch(requested, None) is requested


def test_cycle_and_pool_throughput_by_hand():
    # B = 10, O = 100, TPOT = 20 ms, t_pf = 50 ms: cycle = 2 s + 0.5 s = 2.5 s, so
    # 1,000 tokens / 2.5 s = 400 tok/s and an effective TPOT of 25 ms. Disaggregated: one
    # request costs 50 ms + 100·20 ms/10 = 250 ms of the replica: 100/0.25 = 400 tok/s.
    tokens, tpot = cycle_throughput(10.0, 100, 0.020, 0.050)
    assert tokens == pytest.approx(400.0) and tpot == pytest.approx(0.025)
    assert disaggregated_throughput(10.0, 100, 0.020, 0.050) == pytest.approx(400.0)
    # $3.6 per replica-hour = $1e-3/s; 20 ms per step for 10 tokens: $2e-6/token = $2/Mtok.
    assert usd_per_mtok(1e-3, 0.020, 10.0) == pytest.approx(2.0)


def test_dp_prefill_straggler_by_hand():
    # B = O = 1000: λ = 1 prompt per rank per step; over d = 2 ranks, with the Poisson(1) CDF
    # F(0..5) = 0.3679, 0.7358, 0.9197, 0.9810, 0.9963, 0.9994, E[max] = Σ_j (1 − F(j−1)²) =
    # 0.8647 + 0.4587 + 0.1542 + 0.0376 + 0.0073 + 0.0012 + 0.0002 = 1.524 prompts.
    gamma = dp_prefill_straggler(np.array([1000.0, 1000.0]), 1000, np.array([2.0, 1.0]))
    assert gamma[0] == pytest.approx(1.524, abs=1e-3)
    assert gamma[1] == 1.0  # no attention data parallelism: nothing to wait for
    # λ = 0.5 over 8 ranks: P(N ≥ 1, 2, 3) = 0.3935, 0.0902, 0.0144; the busiest rank has
    # E[max] = Σ_j (1 − (1 − P(N ≥ j))⁸) ≈ 0.9813 + 0.5302 + 0.1099 + 0.0141 + 0.0014 = 1.637.
    assert dp_prefill_straggler(np.array([500.0]), 1000, 8)[0] == pytest.approx(
        1.637 / 0.5, rel=2e-3)


@given(st.floats(0.01, 500.0), st.integers(2, 64))
def test_dp_prefill_straggler_is_at_least_one_and_grows_with_ranks(lam, ranks):
    g = dp_prefill_straggler(np.array([lam * 100.0, lam * 100.0]), 100,
                             np.array([ranks, 2 * ranks]))
    assert 1.0 <= g[0] <= g[1] + 1e-9


positive = st.floats(1e-6, 1.0)


@given(positive, positive, positive, positive, positive, positive, positive, st.integers(1, 8))
def test_decode_parts_sum_to_the_step(w, kv, gemm, attn, tp, ep, over, pp):
    arr = [np.array([v]) for v in (w, kv, gemm, attn, tp, ep, over)]
    stage = DecodeStage(t_gemm=arr[2], t_attn=arr[3], t_weights=arr[0], t_kv=arr[1],
                        t_tp=arr[4], t_ep=arr[5], t_pp=arr[5] / 2, t_overhead=arr[6])
    total = sum(v[0] for v in stage.parts(pp).values())
    assert total == pytest.approx(decode_step_time(stage, pp)[0], rel=1e-12)
    # Serial kernels: never faster than one roofline over the whole step, never slower
    # than every byte and every FLOP in turn.
    whole = decode_step_time(stage, pp)[0]
    step, eps = whole - pp * (tp + ep * 1.5 + over), 1e-12 * whole  # rounding of the subtraction
    assert pp * max(w + kv, gemm + attn) - eps <= step <= pp * (w + kv + gemm + attn) + eps


def test_decode_kv_read_waits_for_compute_bound_gemms_by_hand():
    # GEMMs compute-bound (6 ms of FLOPs over 2 ms of weights), attention memory-bound (3 ms
    # of KV over 0.5 ms of FLOPs): the kernels run in turn, 6 + 3 = 9 ms, not max(5, 6.5).
    ms = [np.array([v * 1e-3]) for v in (6.0, 0.5, 2.0, 3.0)]
    zero = np.zeros(1)
    stage = DecodeStage(t_gemm=ms[0], t_attn=ms[1], t_weights=ms[2], t_kv=ms[3], t_tp=zero,
                        t_ep=zero, t_pp=zero, t_overhead=zero)
    assert decode_step_time(stage, 1)[0] == pytest.approx(9e-3)
    parts = stage.parts(1)
    assert parts["time/decode/compute"][0] == pytest.approx(6e-3)
    assert parts["time/decode/kv_read"][0] == pytest.approx(3e-3)
    assert parts["time/decode/weights_read"][0] == 0.0


def test_host_step_time_by_hand():
    # 4 ms per step plus 32 µs for each of 256 running sequences: 4 + 8.192 = 12.192 ms.
    assert host_step_time(4e-3, 32e-6, np.array([256.0]))[0] == pytest.approx(12.192e-3)


def test_decode_overhead_part_is_the_host_step_of_the_running_batch():
    # Llama 3.1 70B on 8 H100 (TensorRT-LLM: a GPU engine, its fixed overhead per layer),
    # batch 64, with a calibration of known costs: the overhead part of the decode step is
    # L·t_o + B·t_seq = 80·25 µs + 64·10 µs = 2.64 ms, and pp = 2 stages charge it once per
    # token (each stage its 40 layers and half the host cost, pp·(40·t_o + t/pp)).
    p = api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8)[0]
    cal = replace(p.calibration, step_overhead_s=1.0, layer_overhead_s=25e-6,
                  seq_overhead_s=10e-6)  # the per-step figure is not a GPU engine's
    ev = evaluate_serving(replace(p, calibration=cal), ServeLayouts.build(tp=4, pp=2, batch=64))
    assert ev.running_batch[0] == 64
    assert ev.decode["time/decode/overhead"][0] == pytest.approx(2.64e-3)
    assert sum(v[0] for v in ev.decode.values()) == pytest.approx(ev.tpot_decode_s[0])
