"""Neuron training mechanisms (train/step.py, microbatch.py), hand-worked: GEMM shapes per
NeuronCore rank (`micro_batch` T = t·r) and dense, checkpointed core attention
(`core_attention_recompute_time`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.hardware.roofline import chip_rates
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.layouts import Layouts
from xpuplan.train.evaluate import evaluate
from xpuplan.train.microbatch import micro_batch
from xpuplan.train.step import (
    attention_time,
    core_attention_recompute_time,
    mlp_time,
    step_time,
)
from xpuplan.workload.heads import head_split
from xpuplan.workload.layer import layer_shape

SEQ = 8192


def _h100_rates():
    # A chip far below its peak at these shapes, so min(P·η·c·φ, P) is the φ branch.
    p = api.train_problem("llama-3.1-8b", chip="h100", n_chips=16, seq_len=SEQ)
    return p, layer_shape(p.model), chip_rates(p.chip, p.efficiency, p.precision)


def test_each_rank_runs_its_own_slice_of_the_mlp_gemm():
    p, s, r = _h100_rates()
    lay = Layouts.build(tp=16, pp=1, dp=1, micro_batch=1)
    one = mlp_time(s, lay, micro_batch(s, lay, SEQ, 1, ranks_per_chip=1), r)[0]
    two = mlp_time(s, lay, micro_batch(s, lay, SEQ, 1, ranks_per_chip=2), r)[0]
    # b = 8192, D = 4096, F = 14336, t = 16: F/t = 896 per chip, F/T = 448 per rank at r = 2.
    # Same FLOPs per chip; φ ∝ 1/(1 + Σ d½/d), so the time ratio is the ratio of the sums.
    d = r.half_dim
    assert d > 0
    ratio = (1 + d / 8192 + d / 448 + d / 4096) / (1 + d / 8192 + d / 896 + d / 4096)
    assert two / one == pytest.approx(ratio, rel=1e-12)
    assert two > one


def test_tp_ranks_are_chips_times_ranks_per_chip():
    _, s, _ = _h100_rates()
    lay = Layouts.build(tp=[1, 4, 16], pp=1, dp=1, micro_batch=1)
    assert micro_batch(s, lay, SEQ, 1).tp_ranks.tolist() == [1, 4, 16]
    assert micro_batch(s, lay, SEQ, 1, ranks_per_chip=2).tp_ranks.tolist() == [2, 8, 32]


def test_dense_attention_computes_the_masked_half():
    p, s, r = _h100_rates()
    lay = Layouts.build(tp=4, pp=1, dp=1, micro_batch=1)
    mb, heads = micro_batch(s, lay, SEQ, 1), head_split(s, lay.tp)
    flash = attention_time(s, lay, mb, SEQ, r, heads, causal=True)[0]
    dense = attention_time(s, lay, mb, SEQ, r, heads, causal=False)[0]
    # Causal context (S + 1)/2 against the full S: 2·8192/8193.
    assert dense / flash == pytest.approx(2 * SEQ / (SEQ + 1), rel=1e-12)


def test_checkpointed_core_attention_reruns_only_when_dense_and_selective():
    _, s, _ = _h100_rates()
    lay = Layouts.build(tp=4, pp=[1, 1, 4], dp=1, micro_batch=1, recompute=[1, 2, 1])
    mb = micro_batch(s, lay, SEQ, 1)
    t_attn = np.array([1e-3, 1e-3, 1e-3])
    # L_s = 32, 32 and 8 layers; full recompute (2) already reruns the whole layer.
    got = core_attention_recompute_time(lay, mb, t_attn, dense_attention=True)
    assert got.tolist() == pytest.approx([32e-3, 0.0, 8e-3], rel=1e-12)
    assert core_attention_recompute_time(lay, mb, t_attn, dense_attention=False).tolist() == [0, 0, 0]


def test_step_with_dense_attention_adds_two_attention_forwards_per_micro_batch():
    p, s, r = _h100_rates()
    lay = Layouts.build(tp=4, pp=1, dp=4, micro_batch=1, recompute=1)
    flash = step_time(s, lay, SEQ, 64, r)
    dense = step_time(s, lay, SEQ, 64, r, dense_attention=True)
    k = 2 * SEQ / (SEQ + 1)
    att = flash["time/compute/attention"][0]  # m · 3 · L_s · t_attn
    assert dense["time/compute/attention"][0] == pytest.approx(k * att, rel=1e-12)
    # Selective recompute reruns the dense attention forward once: + m · L_s · k·t_attn.
    extra = dense["time/compute/recompute"][0] - flash["time/compute/recompute"][0]
    assert extra == pytest.approx(k * att / 3, rel=1e-12)
    for part in ("time/compute/gemm", "time/compute/memory_bound", "time/comm/tp"):
        assert dense[part][0] == pytest.approx(flash[part][0], rel=1e-12)


def test_evaluate_splits_gemms_over_neuroncores_on_trainium_only():
    lay = Layouts.build(tp=16, pp=1, dp=2, micro_batch=1, zero=1, recompute=1)
    for chip, r_expected in (("trn1", 2), ("h100", 1)):
        p = api.train_problem("llama-3.1-8b", chip=chip, n_chips=32, seq_len=SEQ,
                              global_batch=32)
        r = stack_rules(p.chip.vendor, "train").ranks_per_chip(p.chip)
        assert r == r_expected
        rates = chip_rates(p.chip, p.efficiency, p.precision)
        heads = head_split(layer_shape(p.model), lay.tp, r,
                           stack_rules(p.chip.vendor, "train").heads)
        want = step_time(layer_shape(p.model), lay, SEQ, 32, rates, heads=heads,
                         tp_overlap=stack_rules(p.chip.vendor, "train").tp_comm_overlap,
                         ranks_per_chip=r)["time/compute/gemm"][0]
        assert evaluate(p, lay).time["time/compute/gemm"][0] == pytest.approx(want, rel=1e-12)
        dense = evaluate(replace(p, dense_attention=True), lay).time
        assert dense["time/compute/attention"][0] > evaluate(p, lay).time[
            "time/compute/attention"][0]
