"""Neuron's static MoE dispatch (serve/moe.py, Neuron section): hand-worked selective loading,
all-experts and blockwise row counts at the Qwen3 MoE shapes, and their effect on a Trainium
decode step and prefill."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.catalog.measurements import moe_blockwise_kernels
from xpuplan.hardware.efficiency import moe_blockwise_dispatch
from xpuplan.serve import moe
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.workload.layer import layer_shape

E, K = 128, 8  # Qwen3-30B-A3B and Qwen3-235B-A22B: 128 routed experts, top-8


def _dispatch():
    kernel = moe_blockwise_kernels()["aws"]  # read from the record, never a copy of it
    return kernel.selective_loading_threshold, kernel.block_size_tokens


def test_decode_loads_each_tokens_experts_below_the_threshold_and_all_above():
    theta, _ = _dispatch()
    assert theta == 1.0
    # compiled batch 4 (the 235B export): 4·8/128 = 0.25 < 1, selective: 4·8 = 32 loads
    # (a token's experts are gathered again even if another token chose them); batch 16
    # (the 30B export): 16·8/128 = 1 ≥ 1, every expert: 128.
    loads = moe.neuron_expert_loads(np.array([4.0, 16.0, 64.0]), K, E, theta)
    assert loads.tolist() == [32, 128, 128]
    assert float(moe.neuron_expert_loads(10.0, 0, 1, theta)) == 0  # dense model


def test_prefill_rows_by_dispatch_path():
    theta, block = _dispatch()
    assert block == 512
    # 8 tokens: 64/128 < 1, selective, 64 rows. 32 tokens: 256 < 512 routed copies, all
    # experts, 128·32 = 4,096 rows. 4,096 tokens (a padded 4k context): blockwise,
    # ⌈(32,768 − 127)/512⌉ + 127 = 64 + 127 = 191 blocks of 512 = 97,792 rows (3× the
    # 32,768 routed copies: every expert may own a part-filled block).
    n = np.array([8.0, 32.0, 4096.0])
    rows = moe.neuron_expert_rows(n, K, E, theta, block, prefill=True)
    assert rows.tolist() == [64, 4096, 191 * 512]
    # decode never runs blockwise: the same 4,096 tokens run every expert
    assert float(moe.neuron_expert_rows(4096.0, K, E, theta, block, prefill=False)) == E * 4096
    pad = moe.neuron_padding_flops_per_token(4096.0, K, E, 1e6, theta, block, prefill=True)
    assert float(pad) == pytest.approx(2e6 * (191 * 512 - 4096 * 8) / 4096)


def test_blockwise_gemms_have_one_block_of_rows():
    theta, block = _dispatch()
    M = moe.neuron_expert_gemm_rows(np.array([32.0, 4096.0]), K, theta, block, E)
    assert M.tolist() == [32, 512]


def test_combined_shape_factor_weights_each_part_by_its_flops():
    # half the FLOPs at φ = 1 and half at φ = 0.25 take 0.5 + 2 = 2.5 units: φ = 0.4
    assert float(moe.combined_shape_factor(1.0, 0.25, 0.5)) == pytest.approx(0.4)
    assert float(moe.combined_shape_factor(0.7, 0.2, 0.0)) == pytest.approx(0.7)
    assert float(moe.combined_shape_factor(0.7, 0.2, 1.0)) == pytest.approx(0.2)


def test_only_the_neuron_stack_dispatches_this_way():
    assert moe_blockwise_dispatch("aws") is not None
    assert moe_blockwise_dispatch("nvidia") is None


def test_trainium_decode_at_the_all_experts_batch_reads_every_expert():
    # Qwen3-30B-A3B on one Trainium2 chip (tp = 1 chip = 4 logical cores): at 16 rows the
    # step reads all 128 experts of all 48 layers, 128/8 = 16x the expert bytes of the
    # batch-1 step's 8 selectively loaded experts.
    p = api.serve_problem("qwen3-30b-a3b", chip="trn2", n_chips=1, input_len=1500,
                          output_len=250)[0]
    one = evaluate_serving(p, ServeLayouts.build(tp=1, batch=1))
    full = evaluate_serving(replace(p, compiled_batch=16), ServeLayouts.build(tp=1, batch=1))
    bw = p.chip.hbm_bw * p.efficiency.hbm * p.calibration.memory_scale
    s = layer_shape(p.model)
    expert_bytes = 2 * s.n_layers * s.expert_params  # bf16, one expert in every layer
    extra = full.decode["time/decode/weights_read"][0] - one.decode["time/decode/weights_read"][0]
    assert extra == pytest.approx((E - K) * expert_bytes / bw, rel=1e-6)


def test_nvidia_moe_decode_is_unchanged_by_the_neuron_rule():
    # The same model on an H200 keeps the grouped-GEMM path: batch 16 touches
    # E·(1 − (1 − k/E)^16) = 83.6 experts, not all 128.
    p = api.serve_problem("qwen3-30b-a3b", chip="h200", n_chips=1, input_len=1500,
                          output_len=250)[0]
    one = evaluate_serving(p, ServeLayouts.build(tp=1, batch=1))
    b16 = evaluate_serving(p, ServeLayouts.build(tp=1, batch=16))
    s = layer_shape(p.model)
    bw = p.chip.hbm_bw * p.efficiency.hbm * p.calibration.memory_scale
    touched = E * (1 - (1 - K / E) ** 16)
    extra = b16.decode["time/decode/weights_read"][0] - one.decode["time/decode/weights_read"][0]
    assert extra == pytest.approx((touched - K) * 2 * s.n_layers * s.expert_params / bw,
                                  rel=1e-6)
