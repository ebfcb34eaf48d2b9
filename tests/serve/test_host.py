"""Eager kernel launches (serve.host) against hand-worked cases, and their place in a step."""

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
from xpuplan.serve.host import eager_launch_time, launch_wait
from xpuplan.serve.step import DecodeStage, decode_step_time
from xpuplan.specs.layouts import ServeLayouts


def test_eager_launch_time_by_hand():
    # Llama 3.1 405B, one stage of 126 layers, 16 kernels each at 8.4 µs per launch:
    # 126·16 = 2016 launches, 2016·8.4 µs = 16.9344 ms; two stages of 63 layers: half each.
    assert eager_launch_time(np.array([126.0]), 16, 8.4e-6)[0] == pytest.approx(16.9344e-3)
    assert eager_launch_time(np.array([63.0]), 16, 8.4e-6)[0] == pytest.approx(8.4672e-3)


def test_launch_wait_only_when_the_host_is_slower():
    # Device 12 ms, launches 16.9 ms: the step waits 4.9 ms; launches of 10 ms hide under it.
    assert launch_wait(np.array([12e-3]), 16.9e-3)[0] == pytest.approx(4.9e-3)
    assert launch_wait(np.array([12e-3]), 10e-3)[0] == 0.0


positive = st.floats(1e-6, 1.0)


@given(positive, positive, positive, positive, st.integers(1, 8))
def test_eager_step_is_the_slower_of_device_and_host_plus_overhead(mem, math, launch, over,
                                                                   pp):
    one = [np.array([v]) for v in (mem, math, over)]
    zero = np.zeros(1)
    stage = DecodeStage(t_gemm=one[1], t_attn=zero, t_weights=one[0], t_kv=zero, t_tp=zero,
                        t_ep=zero, t_pp=zero, t_overhead=one[2], t_launch=launch)
    step = decode_step_time(stage, pp)[0]
    assert step == pytest.approx(pp * (max(mem, math, launch) + over), rel=1e-12)
    assert sum(v[0] for v in stage.parts(pp).values()) == pytest.approx(step, rel=1e-12)


def test_eager_run_waits_for_its_launches_on_mi300x():
    # GPT-2 (12 layers, 0.25 GB of bf16 weights) at TP1 on one MI300X, batch 1: the stack's
    # figures (stacks.toml amd/serve) launch 12·k kernels at t_k each (1.6 ms at 16 and
    # 8.4 µs); its weights read in far less, so the eager step waits L·k·t_k − t_device,
    # and the run with graphs does not wait. The device's own time includes its 12 layers'
    # fixed time (serve.step.fixed_device_time), the rest of the overhead part is host time.
    rules = stack_rules("amd", "serve")
    p = api.serve_problem("gpt2", chip="mi300x", n_chips=1, input_len=256,
                            output_len=256)[0]
    lay = ServeLayouts.build(tp=1, batch=1)
    graphs = evaluate_serving(p, lay)
    eager = evaluate_serving(replace(p, cuda_graphs=False), lay)
    launch = 12 * rules.eager_kernels_per_layer * rules.eager_launch_s
    host = graphs.decode["time/decode/overhead"][0] - 12 * p.calibration.layer_overhead_s
    device = graphs.tpot_decode_s[0] - host
    assert launch > device  # the case this test is about
    assert graphs.decode["time/decode/launch_wait"][0] == 0.0
    assert eager.decode["time/decode/launch_wait"][0] == pytest.approx(launch - device)
    assert eager.tpot_decode_s[0] == pytest.approx(launch + host)


def test_a_stack_without_eager_figures_adds_no_launch_floor():
    # The Neuron serving stack compiles whole graphs and has no eager figures: cuda_graphs
    # False changes nothing there.
    assert stack_rules("aws", "serve").eager_launch_s is None
    p = api.serve_problem("gpt2", chip="trn2", n_chips=1, input_len=256, output_len=256)[0]
    lay = ServeLayouts.build(tp=1, batch=1)
    a, b = evaluate_serving(p, lay), evaluate_serving(replace(p, cuda_graphs=False), lay)
    assert b.tpot_decode_s[0] == a.tpot_decode_s[0]


def test_a_stack_record_gives_both_eager_figures_with_a_source(serve_stack_fields):
    # Kernels without a launch time (or either without eager_source) cannot be applied.
    base = serve_stack_fields
    for extra in ({"eager_kernels_per_layer": 16},
                  {"eager_kernels_per_layer": 16, "eager_launch_us": 8.4}):
        with pytest.raises(ValidationError, match="eager_source"):
            StackRecord(**base, **extra)
    ok = StackRecord(**base, eager_kernels_per_layer=16, eager_launch_us=8.4, eager_source="s")
    assert ok.eager_launch_us == 8.4
