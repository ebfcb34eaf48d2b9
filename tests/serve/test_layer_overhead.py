"""The fitted fixed overhead charged per decoder layer on GPU engines, per step elsewhere
(serve.step.fixed_device_time, stacks.toml fixed_overhead_per), against hand-worked cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pydantic import ValidationError

from xpuplan import api
from xpuplan.catalog.measurements import StackRecord
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.step import fixed_device_time
from xpuplan.specs.layouts import ServeLayouts


def test_fixed_device_time_by_hand():
    # 50 us per layer: Llama 3.1 405B's 126 layers pay 6.3 ms a step, a 70B's 80 pay 4.0 ms;
    # two pipeline stages of 63 layers pay 3.15 ms each. A per-step stack pays none here.
    assert fixed_device_time(50e-6, 126, True)[()] == pytest.approx(6.3e-3)
    assert fixed_device_time(50e-6, np.array([80.0, 63.0]), True) == pytest.approx(
        [4.0e-3, 3.15e-3])
    assert fixed_device_time(50e-6, 126, False)[()] == 0.0


def test_gpu_engines_charge_it_per_layer_compiled_stacks_per_step():
    for vendor, engine in (("amd", "vllm"), ("amd", "vllm-v0"), ("amd", "sglang"),
                           ("nvidia", "tensorrt-llm"), ("nvidia", "vllm"),
                           ("nvidia", "vllm-v0"), ("nvidia", "sglang")):
        assert stack_rules(vendor, "serve", engine).overhead_per_layer, (vendor, engine)
    for vendor, engine in (("google", "jetstream"), ("google", "vllm"),
                           ("aws", "nxd-inference")):
        assert not stack_rules(vendor, "serve", engine).overhead_per_layer, (vendor, engine)


def _tpot(model: str, chip: str, n_chips: int, overhead_s: float, tp: int, pp: int = 1,
          **kw):
    # The same figure as both fitted overheads: a stack charges one of them, per layer or step.
    p = api.serve_problem(model, chip=chip, n_chips=n_chips, input_len=128, output_len=128,
                          **kw)[0]
    p = replace(p, calibration=replace(p.calibration, step_overhead_s=overhead_s,
                                       layer_overhead_s=overhead_s))
    ev = evaluate_serving(p, ServeLayouts.build(tp=tp, pp=pp, batch=4))
    return ev.tpot_decode_s[0], ev.decode["time/decode/overhead"][0], ev


def test_llama_405b_on_mi300x_pays_its_126_layers():
    # vLLM (ROCm) at TP8: 40 us a layer adds 126 x 40 us = 5.04 ms to the decode step, all of
    # it device time (the overhead part of the breakdown, which still sums to the TPOT).
    t0, o0, _ = _tpot("llama-3.1-405b", "mi300x", 8, 0.0, tp=8, weights="fp8")
    t1, o1, ev = _tpot("llama-3.1-405b", "mi300x", 8, 40e-6, tp=8, weights="fp8")
    assert t1 - t0 == pytest.approx(126 * 40e-6, rel=1e-9)
    assert o1 - o0 == pytest.approx(126 * 40e-6, rel=1e-9)
    assert sum(v[0] for v in ev.decode.values()) == pytest.approx(t1)


def test_pipeline_stages_share_the_layers():
    # Two stages of 63 layers: a token passes both, so the step still pays 126 layers' worth.
    t0, _, _ = _tpot("llama-3.1-405b", "mi300x", 8, 0.0, tp=4, pp=2, weights="fp8")
    t1, _, _ = _tpot("llama-3.1-405b", "mi300x", 8, 40e-6, tp=4, pp=2, weights="fp8")
    assert t1 - t0 == pytest.approx(126 * 40e-6, rel=1e-9)


def test_the_device_floor_can_expose_or_hide_eager_launches():
    # Device time includes the floor, so eager launches (max(device, launch)) hide behind it
    # rather than add to it: the eager step is never the graph step plus the whole floor twice.
    _, _, graph = _tpot("llama-3.1-405b", "mi300x", 8, 40e-6, tp=8, weights="fp8")
    _, _, eager = _tpot("llama-3.1-405b", "mi300x", 8, 40e-6, tp=8, weights="fp8",
                        cuda_graphs=False)
    assert eager.tpot_decode_s[0] >= graph.tpot_decode_s[0]
    assert eager.decode["time/decode/overhead"][0] == pytest.approx(
        graph.decode["time/decode/overhead"][0])


def test_a_compiled_step_pays_the_overhead_once():
    # JetStream on TPU v5e: 2 ms of fitted overhead is a host cost per step, whatever the layers.
    t0, _, _ = _tpot("llama-2-7b", "tpu-v5e", 8, 0.0, tp=8)
    t1, _, _ = _tpot("llama-2-7b", "tpu-v5e", 8, 2e-3, tp=8)
    assert t1 - t0 == pytest.approx(2e-3, rel=1e-9)


def test_a_per_layer_overhead_needs_its_source(serve_stack_fields):
    with pytest.raises(ValidationError, match="fixed_overhead_source"):
        StackRecord(**serve_stack_fields, fixed_overhead_per="layer")
    with pytest.raises(ValidationError):
        StackRecord(**serve_stack_fields, fixed_overhead_per="kernel")
    ok = StackRecord(**serve_stack_fields, fixed_overhead_per="layer", fixed_overhead_source="s")
    assert ok.fixed_overhead_per == "layer"
