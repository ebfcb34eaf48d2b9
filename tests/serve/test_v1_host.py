"""vLLM V1's serial host work between decode steps without async scheduling (the vllm records
of data/stacks.toml, serve.host.serial_host_time) against hand-worked cases, and the rows
that pay it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.host import serial_host_time
from xpuplan.specs.layouts import ServeLayouts


def test_v1_serial_figures_by_hand():
    # Issue #10634: a 5-6 ms gap between V1 decode steps at batch 256; less the 0.2 ms per
    # call, (5.5 - 0.2) / 256 = 20.7 us per sequence, 21 taken. The ROCm perf page's 3200
    # sequences then wait 0.2 + 3200 x 0.021 = 67.4 ms per decode step.
    for vendor in ("amd", "nvidia"):
        rules = stack_rules(vendor, "serve", "vllm")
        assert rules.serial_host_seq_s == pytest.approx((5.5e-3 - 0.2e-3) / 256, rel=0.02)
        assert rules.serial_host_step_s == pytest.approx(0.2e-3)
    assert serial_host_time(200e-6, 21e-6, 3200, 1)[()] == pytest.approx(67.4e-3)


def _sync_and_async(batch: int):
    # Llama 3.1 70B FP8 at TP8 on eight MI300X, the perf page's layout.
    p = api.serve_problem("llama-3.1-70b", chip="mi300x", n_chips=8, input_len=128,
                          output_len=2048, weights="fp8", kv="fp8")[0]
    lay = ServeLayouts.build(tp=8, batch=batch)
    p = replace(p, engine="vllm", max_running_batch=batch)  # --max-num-seqs 3200
    return p, evaluate_serving(p, lay), evaluate_serving(replace(p, async_scheduling=True), lay)


def test_sync_v1_step_waits_for_its_host_work_and_async_hides_it():
    batch = 3200
    p, sync, asyn = _sync_and_async(batch)
    assert sync.running_batch[0] == asyn.running_batch[0] == batch
    cal = p.calibration
    host = (batch * cal.seq_overhead_s  # fitted, serve.step (the fixed part is per layer)
            + 0.2e-3 + batch * 21e-6)  # this record's serial work
    fixed = p.model.n_layers * cal.layer_overhead_s  # device time: vLLM runs layer by layer
    assert sync.decode["time/decode/overhead"][0] == pytest.approx(fixed + host, rel=1e-9)
    device = sync.tpot_decode_s[0] - host  # includes the fixed device time
    assert asyn.decode["time/decode/overhead"][0] == pytest.approx(
        fixed + max(0.0, host - device), rel=1e-9, abs=1e-12)
    assert asyn.tpot_decode_s[0] == pytest.approx(max(device, host), rel=1e-9)


def test_rows_that_pay_it():
    # The perf page ran vLLM 0.10.2's LLM class without --async-scheduling; the MLPerf v6.1
    # MI355X harness set async_scheduling True.
    rows = {r.id: r.problem for r in infer_rows()[0]}
    page = rows["amd_perfpage_mi300x_Llama-3.1-70B_128_2048"]
    assert (page.engine, page.async_scheduling) == ("vllm", False)
    mlperf = rows["mlperf61_amd_8xmi355x_l270b_interactive"]
    assert (mlperf.engine, mlperf.async_scheduling) == ("vllm", True)
