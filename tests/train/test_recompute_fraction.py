"""A partial recompute (a share f of each layer's forward, specs.layouts) in the step, memory,
HFU, API and CLI; f = 1 is full recompute and f = 0 no recompute, as before."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.calibrate.train_set import train_rows
from xpuplan.errors import SpecError
from xpuplan.specs.layouts import Layouts
from xpuplan.train.evaluate import evaluate
from xpuplan.workload.layer import layer_shape
from xpuplan.workload.remat import recompute_fraction

BASE = dict(tp=8, pp=2, dp=4, micro_batch=1, zero=1)  # Llama 3.1 70B on 64 H100


@pytest.fixture(scope="module")
def problem():
    return api.train_problem("llama-3.1-70b", chip="h100", n_chips=64)


def test_full_is_fraction_one_and_none_is_fraction_zero(problem):
    full = evaluate(problem, Layouts.build(**BASE, recompute=2))
    one = evaluate(problem, Layouts.build(**BASE, recompute=2, recompute_fraction=1.0))
    none = evaluate(problem, Layouts.build(**BASE, recompute=0))
    zero = evaluate(problem, Layouts.build(**BASE, recompute=2, recompute_fraction=0.0))
    for part in full.time:
        assert one.time[part][0] == full.time[part][0], part
        assert zero.time[part][0] == none.time[part][0], part
    assert one.memory_per_chip_bytes[0] == full.memory_per_chip_bytes[0]
    assert zero.hfu[0] == none.hfu[0] == none.mfu[0]


def test_half_recompute_runs_half_of_full_and_its_tp_collectives(problem):
    full = evaluate(problem, Layouts.build(**BASE, recompute=2))
    none = evaluate(problem, Layouts.build(**BASE, recompute=0))
    half = evaluate(problem, Layouts.build(**BASE, recompute=2, recompute_fraction=0.5))
    assert half.time["time/compute/recompute"][0] == pytest.approx(
        0.5 * full.time["time/compute/recompute"][0])
    # TP: 4 all-reduces per layer + 2·f recomputed (Megatron serialises them: o = 0)
    assert half.time["time/comm/tp"][0] == pytest.approx(
        none.time["time/comm/tp"][0] * (4 + 2 * 0.5) / 4)
    assert half.hfu[0] == pytest.approx((half.mfu[0] + full.hfu[0] / full.mfu[0] * half.mfu[0])
                                        / 2)


@settings(max_examples=25, deadline=None)
@given(f=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6))
def test_step_time_rises_and_memory_falls_with_the_recomputed_share(problem, f):
    f = np.sort(np.array(f))
    ev = evaluate(problem, Layouts.build(**BASE, recompute=2, recompute_fraction=f))
    assert np.all(np.diff(ev.step_time_s) >= -1e-12 * ev.step_time_s[:-1])
    assert np.all(np.diff(ev.memory_per_chip_bytes) <= 1e-9 * ev.memory_per_chip_bytes[:-1])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_fraction_outside_zero_one_is_refused(bad):
    with pytest.raises(SpecError, match="recompute_fraction"):
        Layouts.build(**BASE, recompute=2, recompute_fraction=bad)


def test_api_takes_a_share_and_keeps_the_names():
    share = api.train("llama-3.1-70b", chip="h100", n_chips=64, **BASE, recompute=0.25)
    full = api.train("llama-3.1-70b", chip="h100", n_chips=64, **BASE, recompute="full")
    assert share.parallelism["recompute"] == "full"
    assert share.parallelism["recompute_fraction"] == 0.25
    assert full.parallelism["recompute_fraction"] == 1.0
    assert share.step_time_s < full.step_time_s
    with pytest.raises(SpecError, match="recompute"):
        api.train("llama-3.1-70b", chip="h100", n_chips=64, **BASE, recompute=2.5)


def test_cli_share_and_its_one_line_error(run_cli, run_json):
    args = ["train", "llama-3.1-70b", "--chip", "h100", "--chips", "64", "--tp", "8", "--pp",
            "2", "--dp", "4", "--zero", "1", "--micro-batch", "1"]
    d = run_json(*args, "--recompute", "0.4")
    assert d["parallelism"]["recompute_fraction"] == 0.4
    code, out, err = run_cli(*args, "--recompute", "1.2")
    assert code == 2 and out == ""
    assert err.startswith("error: recompute = '1.2'") and err.count("\n") == 1


def test_tpu_recipe_rows_carry_their_policy_share():
    rows = {r.id: r for r in train_rows()[0]}
    r = rows["tpurecipes_v6e_llama-3.1-8b_8c"]  # Q/K/V/O offloaded (MaxText custom policy)
    f = recompute_fraction(layer_shape(r.problem.model), r.problem.seq_len,
                           "custom:decoder_layer_input=offload;query_proj=offload;"
                           "key_proj=offload;value_proj=offload;out_proj=offload")
    assert r.layout.recompute[0] == 2
    assert r.layout.recompute_fraction[0] == pytest.approx(f)
    assert 0.5 < f < 0.7
    megatron = next(r for r in rows.values() if r.source_group == "narayanan21")
    assert megatron.layout.recompute_fraction[0] in (0.0, 1.0)  # no policy: the enum's share


def test_nxd_70b_rows_recompute_their_mlp_gate_up_share():
    # Neuron's and the HyperPod sample's Llama 3 70B runs checkpoint LlamaMLP at seq 8192:
    # each row's layout carries the share of its policy, not selective's zero GEMM share.
    rows = {r.id: r for r in train_rows()[0]}
    ids = ("neuron_trn1_llama3-70b_32nodes", "neuron_trn1_llama3.1-70b_32nodes_v2240",
           "awsome_trn1_llama3-70b_16nodes_v2210")
    for row_id in ids:
        r = rows[row_id]
        f = recompute_fraction(layer_shape(r.problem.model), r.problem.seq_len,
                               "custom:query_proj=device;key_proj=device;value_proj=device;"
                               "context=device;out_proj=device")
        assert r.layout.recompute[0] == 2, row_id
        assert r.layout.recompute_fraction[0] == pytest.approx(f), row_id
    assert rows["neuron_trn1_llama3.1-8b_32nodes"].layout.recompute[0] == 1  # CoreAttention only
    assert {rows[i].source_group for i in ids} == {"neuron", "awsome-distributed-training"}


def test_token_dropping_moe_pays_its_capacity_buffers():
    # Mixtral 8x7B, S 4096, k 2 of E 8, c_f 1.25 (MaxText dense_matmul): C = 1024·1.25 = 1280
    # slots; dispatch + combine 2·2·D·E·C = 168 MFLOP/token; experts 1.25 x dropless.
    import dataclasses

    from xpuplan.hardware.roofline import chip_rates
    from xpuplan.train.microbatch import micro_batch
    from xpuplan.train.step import capacity_dispatch_time, expert_time

    p = api.train_problem("mixtral-8x7b", chip="tpu-v6e", n_chips=256, seq_len=4096,
                          global_batch=3072)
    lay = Layouts.build(tp=1, pp=1, dp=256, micro_batch=12, zero=3, recompute=2)
    s, r = layer_shape(p.model), chip_rates(p.chip, p.efficiency, p.precision)
    mb = micro_batch(s, lay, 4096, 3072)
    extra = capacity_dispatch_time(s, lay, mb, r, 4096, 1.25)[0]
    D, E, C, b = 4096, 8, 1280, 12 * 4096
    dispatch_flops = 4 * b * D * E * C
    assert extra > 0.25 * expert_time(s, lay, mb, r)[0]  # at least the padded slots
    assert extra < 0.25 * expert_time(s, lay, mb, r)[0] + dispatch_flops / (0.5 * r.peak_flops)
    assert capacity_dispatch_time(s, lay, mb, r, 4096, None)[0] == 0.0
    dropless = evaluate(p, lay)
    dropping = evaluate(dataclasses.replace(p, moe_capacity_factor=1.25), lay)
    assert dropping.step_time_s[0] > 1.2 * dropless.step_time_s[0]
    assert dropping.mfu[0] < dropless.mfu[0]  # same model FLOPs, more time
