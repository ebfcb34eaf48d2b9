"""MLPerf Server/Interactive rows: the latency limits file and the latency-bounded batch."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import numpy as np
import pytest

from xpuplan.calibrate.infer_set import infer_rows, latency_bound_batch, mlperf_latency_limits
from xpuplan.catalog.hardware import builtin_file
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts


def test_limits_are_the_records_in_seconds():
    raw = tomllib.loads(builtin_file("validation/mlperf_latency.toml").read_text())["benchmark"]
    limits = mlperf_latency_limits()
    assert len(limits) == len(raw)
    for rec in raw:
        assert rec["source"] and rec["retrieved"]
        ttft, tpot = limits[(rec["model"], rec["scenario"])]
        assert (ttft, tpot) == (pytest.approx(rec["ttft_ms"] / 1e3),
                                pytest.approx(rec["tpot_ms"] / 1e3))


def _server_rows():
    return [r for r in infer_rows()[0] if r.latency_limits_s is not None]


def test_server_rows_carry_their_benchmark_limits_and_offline_rows_none():
    rows = infer_rows()[0]
    server = _server_rows()
    assert server, "the validation set has MLPerf Server rows"
    assert all(r.mode == "server" for r in server)
    assert all(r.latency_limits_s is None for r in rows if r.mode != "server")


def test_latency_bound_batch_is_the_largest_meeting_the_tpot_limit():
    # The bisection's answer B meets the limit and B + 1 does not (or B is the capacity):
    # checked by evaluating both batches directly.
    for r in _server_rows()[:3]:
        p = r.problem
        ttft_max, tpot_max = r.latency_limits_s
        cap = int(evaluate_serving(p, ServeLayouts.build(r.tp, r.pp, r.ep, 1)).max_concurrency[0])
        b = int(latency_bound_batch(p, r, cap)[0])
        ev = evaluate_serving(p, ServeLayouts.build(r.tp, r.pp, r.ep, [b, b + 1]))
        assert 1 <= b <= cap
        assert ev.tpot_s[0] <= tpot_max and ev.ttft_s[0] <= ttft_max
        assert b == cap or ev.tpot_s[1] > tpot_max or ev.ttft_s[1] > ttft_max


def test_a_tighter_limit_never_allows_a_larger_batch():
    r = _server_rows()[0]
    loose = latency_bound_batch(r.problem, r, 4096)[0]
    tight = latency_bound_batch(r.problem, replace(r, latency_limits_s=(0.45, 0.04)), 4096)[0]
    assert tight <= loose
    # An unreachable limit leaves batch 1 (the engine still serves one request).
    assert latency_bound_batch(r.problem, replace(r, latency_limits_s=(1e-9, 1e-9)), 4096)[0] == 1
    assert np.issubdtype(np.asarray(loose).dtype, np.integer)
