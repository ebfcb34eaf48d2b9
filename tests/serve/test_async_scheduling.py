"""Asynchronous scheduling (serve.step DecodeStage.host_wait) against hand-worked cases, its
place in a serving evaluation, and the MI355X MLPerf rows that run it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.data import builtin_file
from xpuplan.catalog.measurements import matmul_measurements
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.hardware.efficiency import chip_efficiency
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.step import DecodeStage, decode_step_time
from xpuplan.specs.layouts import ServeLayouts


def _stage(gemm: float, kv: float, host: float, launch: float = 0.0,
           overlap: bool = True) -> DecodeStage:
    zero = np.zeros(1)
    return DecodeStage(t_gemm=np.array([gemm]), t_attn=zero, t_weights=zero,
                       t_kv=np.array([kv]), t_tp=zero, t_ep=zero, t_pp=zero,
                       t_overhead=np.array([host]), t_launch=launch, host_overlap=overlap)


def test_async_step_hides_the_host_under_the_device_by_hand():
    # Device 20 ms of GEMMs + 10 ms of KV read = 30 ms. A 12 ms host step hides under it:
    # the step is 30 ms and no overhead is exposed; serial it would be 42 ms. A 45 ms host
    # step is the longer: the step is 45 ms, 15 ms of it the host's.
    hidden, serial = _stage(20e-3, 10e-3, 12e-3), _stage(20e-3, 10e-3, 12e-3, overlap=False)
    assert decode_step_time(hidden, 1)[0] == pytest.approx(30e-3)
    assert hidden.parts(1)["time/decode/overhead"][0] == 0.0
    assert decode_step_time(serial, 1)[0] == pytest.approx(42e-3)
    slow_host = _stage(20e-3, 10e-3, 45e-3)
    assert decode_step_time(slow_host, 1)[0] == pytest.approx(45e-3)
    assert slow_host.parts(1)["time/decode/overhead"][0] == pytest.approx(15e-3)


def test_async_step_counts_eager_launches_as_busy_host_time_by_hand():
    # Eager launches of 40 ms outlast the 30 ms device: the step waits 10 ms for them, and a
    # 35 ms scheduling step overlaps the 40 ms of busy time entirely.
    stage = _stage(20e-3, 10e-3, 35e-3, launch=40e-3)
    assert decode_step_time(stage, 1)[0] == pytest.approx(40e-3)
    assert stage.parts(1)["time/decode/launch_wait"][0] == pytest.approx(10e-3)
    assert stage.parts(1)["time/decode/overhead"][0] == 0.0


positive = st.floats(1e-6, 1.0)


@given(positive, positive, positive, st.integers(1, 8))
def test_async_step_is_the_slower_of_device_and_host(gemm, kv, host, pp):
    hidden, serial = _stage(gemm, kv, host), _stage(gemm, kv, host, overlap=False)
    step = decode_step_time(hidden, pp)[0]
    assert step == pytest.approx(pp * max(gemm + kv, host), rel=1e-12)
    assert sum(v[0] for v in hidden.parts(pp).values()) == pytest.approx(step, rel=1e-12)
    assert step <= decode_step_time(serial, pp)[0]


def test_async_engine_hides_its_host_cost_at_a_large_batch():
    # Llama-2-70B MXFP4 on one MI355X at 2048 sequences: the device step (GEMMs, KV read) is
    # far longer than the host step, so the async step is the device's alone, and the serial
    # one is longer by exactly its host part. The overhead part keeps the 80 layers' fixed
    # device time (a GPU engine's, serve.step.fixed_device_time), which no scheduler hides.
    p = api.serve_problem("llama-2-70b", chip="mi355x", n_chips=1, input_len=222,
                          output_len=283, weights="fp4", kv="fp8")[0]
    p = replace(p, max_running_batch=2048)
    lay = ServeLayouts.build(tp=1, batch=2048)
    serial, hidden = evaluate_serving(p, lay), evaluate_serving(
        replace(p, async_scheduling=True), lay)
    fixed = 80 * p.calibration.layer_overhead_s
    host = serial.decode["time/decode/overhead"][0] - fixed
    assert host > 0.0
    assert hidden.decode["time/decode/overhead"][0] == pytest.approx(fixed, rel=1e-12)
    assert hidden.tpot_decode_s[0] == pytest.approx(serial.tpot_decode_s[0] - host)
    assert hidden.output_tokens_per_s_per_chip[0] > serial.output_tokens_per_s_per_chip[0]


def test_validation_rows_take_their_scheduler_and_cap_from_the_csv():
    # Every predicted row's async_scheduling and max_running_batch are its CSV cells; the
    # AMD MLPerf v6.1 MI355X Llama-2-70B rows are the ones that set async_scheduling.
    frame = pd.read_csv(builtin_file("validation/infer_measurements.csv")).set_index("id")
    rows, _ = infer_rows()
    for r in rows:
        cell = frame.loc[r.id, "async_scheduling"]
        assert r.problem.async_scheduling == (str(cell).lower() == "true")
        cap = frame.loc[r.id, "max_running_batch"]
        assert r.problem.max_running_batch == (None if pd.isna(cap) else int(cap))
    on = {r.id for r in rows if r.problem.async_scheduling}
    assert on and all(i.startswith("mlperf61_amd_8xmi355x_l270b") for i in on)


def test_mi355x_fp4_gemm_efficiency_is_its_own_measurement():
    # The MXFP4 GEMM record (AITER's tuned a4w4 table) replaces the bf16 fallback.
    cat = hardware_catalog()
    record = next(m for m in matmul_measurements()
                  if m.chip == "mi355x" and m.precision == "fp4")
    eff = chip_efficiency(cat.chip("mi355x"), {k: v.vendor for k, v in cat.chips.items()})
    assert eff.gemm["fp4"] == pytest.approx(record.fraction_of_peak)
    assert eff.provenance["gemm/fp4"] == "measured on mi355x"
    assert eff.gemm["fp4"] < eff.gemm["bf16"]
