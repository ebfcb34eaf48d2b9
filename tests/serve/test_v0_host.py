"""vLLM V0's serial host work between decode steps (serve.host.serial_host_time, the vllm-v0
records of data/stacks.toml) against hand-worked cases, and the rows that run it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.measurements import StackRecord
from xpuplan.hardware.stacks import engine_for_framework, stack_rules
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.host import serial_host_time
from xpuplan.specs.layouts import ServeLayouts


def test_serial_host_time_by_hand():
    # 200 µs per scheduler call + 99 µs per sequence: at 256 sequences one scheduler step
    # waits 0.2 + 256·0.099 = 25.544 ms per decode step; 11 steps per call pay 2.3222 ms each.
    assert serial_host_time(200e-6, 99e-6, 256, 1)[()] == pytest.approx(25.544e-3)
    assert serial_host_time(200e-6, 99e-6, np.array([256.0]), 11)[0] == pytest.approx(
        25.544e-3 / 11)
    assert serial_host_time(200e-6, 99e-6, 1, 1)[()] == pytest.approx(0.299e-3)


@given(st.floats(0, 1e-2), st.floats(0, 1e-3), st.integers(1, 4096), st.integers(1, 64))
def test_serial_host_time_grows_with_the_batch_and_shrinks_with_the_steps(t0, ts, b, n):
    one = serial_host_time(t0, ts, b, n)[()]
    assert serial_host_time(t0, ts, b + 1, n)[()] >= one
    assert serial_host_time(t0, ts, b, n + 1)[()] <= one
    assert n * one == pytest.approx(serial_host_time(t0, ts, b, 1)[()], rel=1e-12, abs=1e-15)


def _v0_and_v1(steps: int | None = None):
    # Llama 3.1 8B bf16 at TP1 on one MI300X, batch 64 (under both engines' caps): the two
    # vLLM engines read, compute and launch the same; only their serial host work differs.
    p = api.serve_problem("llama-3.1-8b", chip="mi300x", n_chips=1, input_len=128,
                          output_len=128)[0]
    lay = ServeLayouts.build(tp=1, batch=64)
    v1 = evaluate_serving(replace(p, engine="vllm"), lay)
    v0 = evaluate_serving(replace(p, engine="vllm-v0", scheduler_steps=steps), lay)
    return v0, v1


def _serial(engine: str, batch: int, steps: int = 1) -> float:
    rules = stack_rules("amd", "serve", engine)
    return (rules.serial_host_step_s + batch * rules.serial_host_seq_s) / steps


def test_v0_decode_step_adds_its_serial_host_work():
    rules = stack_rules("amd", "serve", "vllm-v0")
    v0, v1 = _v0_and_v1()
    assert v0.running_batch[0] == v1.running_batch[0] == 64
    extra = _serial("vllm-v0", 64) - _serial("vllm", 64)  # n = 1 (V0's default); V1's own
    assert rules.scheduler_steps == 1
    assert v0.tpot_decode_s[0] - v1.tpot_decode_s[0] == pytest.approx(extra, rel=1e-9)
    assert (v0.decode["time/decode/overhead"][0] - v1.decode["time/decode/overhead"][0]
            == pytest.approx(extra, rel=1e-9))
    assert sum(v[0] for v in v0.decode.values()) == pytest.approx(v0.tpot_decode_s[0])


def test_multi_step_scheduling_pays_the_host_work_once_per_call():
    v0, v1 = _v0_and_v1(steps=11)
    extra = _serial("vllm-v0", 64, 11) - _serial("vllm", 64)
    assert v0.tpot_decode_s[0] - v1.tpot_decode_s[0] == pytest.approx(extra, rel=1e-9)


def test_engines_without_serial_figures_add_none():
    for vendor, engine in (("amd", "sglang"), ("nvidia", "tensorrt-llm"), ("google", "vllm"),
                           ("aws", None)):
        rules = stack_rules(vendor, "serve", engine)
        assert rules.serial_host_step_s is None and rules.serial_host_seq_s is None


def test_v0_defaults_are_the_v0_engine_args():
    # vLLM 0.6's EngineArgs: max_num_seqs 256 on every device (no >= 70 GiB tier as V1 has).
    from xpuplan.catalog.registry import hardware_catalog

    v0, v1 = stack_rules("amd", "serve", "vllm-v0"), stack_rules("amd", "serve", "vllm")
    mi300x = hardware_catalog().chip("mi300x")
    assert v0.max_batch_on(mi300x) == 256 < v1.max_batch_on(mi300x)


def test_framework_versions_pick_the_engine_version():
    # The longest framework word wins: "vllm 0.6" (V0) over "vllm" (V1) on NVIDIA.
    assert engine_for_framework("amd", "vLLM 0.6.4.dev4+gc9fc1608 (ROCm 6.2)") == "vllm-v0"
    assert engine_for_framework("amd", "vLLM (ROCm, V0 engine), benchmark_latency.py") == (
        "vllm-v0")
    assert engine_for_framework("amd", "vLLM 0.10.2 (ROCm 7.0.0 docker)") == "vllm"
    assert engine_for_framework("nvidia", "vLLM 0.6.3.post1") == "vllm-v0"
    assert engine_for_framework("nvidia", "vLLM 0.11.0") == "vllm"
    assert engine_for_framework("google", "vLLM (TPU backend)") == "vllm"


def test_validation_rows_carry_their_scheduler_steps():
    # dstack passed --num-scheduler-step 1; the MLPerf v5.1 harness yamls set 11 (Offline) and
    # 9 (Server); the OCI rows leave V0's default.
    rows = {r.id: r.problem for r in infer_rows()[0]}
    dstack = [p for i, p in rows.items() if i.startswith("dstack_")]
    assert dstack and all((p.engine, p.scheduler_steps) == ("vllm-v0", 1) for p in dstack)
    assert rows["mlperf51_dell_8xmi300x_l270b99_offline"].scheduler_steps == 11
    assert rows["mlperf51_gigacomputing_8xmi325x_l270b99_server"].scheduler_steps == 9
    oci = rows["oci_mi300x8_llama31_405b_fp8_b256"]
    assert (oci.engine, oci.scheduler_steps) == ("vllm-v0", None)


def test_a_stack_record_gives_both_serial_host_figures_with_a_source(serve_stack_fields):
    base = serve_stack_fields
    for extra in ({"serial_host_seq_us": 99.0},
                  {"serial_host_step_us": 200.0, "serial_host_seq_us": 99.0}):
        with pytest.raises(ValidationError, match="serial_host_source"):
            StackRecord(**base, **extra)
    with pytest.raises(ValidationError):
        StackRecord(**base, scheduler_steps=0)
    ok = StackRecord(**base, serial_host_step_us=200.0, serial_host_seq_us=99.0,
                     serial_host_source="s", scheduler_steps=8)
    assert (ok.serial_host_seq_us, ok.scheduler_steps) == (99.0, 8)
