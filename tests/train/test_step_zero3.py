"""ZeRO-3 / FSDP collectives and the stack's overlap of them (train/comms.py zero3_comm_time).

The Neuron rule comes from the Neuron runtime's 'Compute-Communication Overlap in Neuron'
(aws-neuron/aws-neuron-sdk neuron-runtime/explore/compute-comm-overlap.rst, stacks.toml
zero3_overlap_source): the compiler places the FSDP reduce-scatters at the end of the backward
(in series), and its FSDP all-gathers, issued at the earliest point, hold back the TP
collectives that block the compute, so beside TP collectives they are exposed too.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.catalog.data import validated
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.measurements import StackRecord
from xpuplan.errors import CatalogError
from xpuplan.hardware.collectives import Fabric
from xpuplan.hardware.roofline import chip_rates
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.layouts import Layouts
from xpuplan.train.comms import (
    Zero3Overlap,
    data_parallel_sync_time,
    zero3_comm_time,
)
from xpuplan.train.evaluate import evaluate
from xpuplan.train.memory import params_per_chip
from xpuplan.train.microbatch import micro_batch
from xpuplan.workload.heads import head_split
from xpuplan.workload.layer import layer_shape

FABRIC = Fabric(scaleup_bw=1e11, scaleup_eff=1.0, scaleup_latency_s=0.0, scaleout_bw=1e10,
                scaleout_eff=1.0, scaleout_latency_s=0.0, domain_chips=8)
# Φ = 1e9 dense weights over dp = 8 ranks of one 100 GB/s domain (η = 1, α = 0): one
# all-gather or reduce-scatter of 2 B·Φ takes 7/8 · 2e9 / 1e11 = 17.5 ms, so per micro-batch
# T_G = 2 · 17.5 = 35 ms (forward and backward gathers) and T_R = 17.5 ms.
T_ONE = 7 / 8 * 2e9 / 1e11
DENSE, EXPERT = np.array([1e9]), np.array([0.0])
NEURON = Zero3Overlap(reduce_scatter=0.0, all_gather_with_tp=0.0, per_layer=True)


def _z3(ranks_per_chip: int, t_compute: float, overlap: Zero3Overlap, zero: int = 3) -> float:
    s = layer_shape(api.load_model("llama-3.1-8b"))
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=1, zero=zero, recompute=0)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=8, ranks_per_chip=ranks_per_chip)
    return float(zero3_comm_time(lay, mb, FABRIC, DENSE, EXPERT, np.array([t_compute]),
                                 overlap)[0])


def test_hand_worked_group_times():
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=1, zero=3)
    for op in ("all_gather", "reduce_scatter"):
        got = data_parallel_sync_time(op, 2.0, lay, FABRIC, DENSE, EXPERT)[0]
        assert got == pytest.approx(T_ONE, rel=1e-12)


def test_prefetch_hides_everything_under_a_longer_compute():
    assert _z3(1, 1.0, Zero3Overlap()) == 0.0
    # 35 + 17.5 ms of collectives under 20 ms of compute: 32.5 ms left exposed.
    assert _z3(1, 0.020, Zero3Overlap()) == pytest.approx(3 * T_ONE - 0.020, rel=1e-12)


def test_neuron_reduce_scatter_runs_in_series_after_the_backward():
    # No TP collective (one rank): the gathers still prefetch under 1 s of compute, the
    # reduce-scatter's 17.5 ms is added in series.
    assert _z3(1, 1.0, NEURON) == pytest.approx(T_ONE, rel=1e-12)
    # Under 20 ms of compute: 17.5 ms + (35 − 20) ms = 32.5 ms.
    assert _z3(1, 0.020, NEURON) == pytest.approx(T_ONE + 2 * T_ONE - 0.020, rel=1e-12)


def test_neuron_all_gathers_are_exposed_beside_tp_collectives():
    # Four TP ranks on the chip (Trainium2's logical cores at tp = 1 chip): 52.5 ms in series
    # however long the compute.
    for t_compute in (0.020, 1.0, 100.0):
        assert _z3(4, t_compute, NEURON) == pytest.approx(3 * T_ONE, rel=1e-12)
    # Other stacks' prefetch does not look at the TP ranks.
    assert _z3(4, 1.0, Zero3Overlap()) == 0.0


def test_every_layer_pays_the_collective_latency():
    # Llama 3.1 8B has 32 layers: with α = 1 ms and no bandwidth term to speak of (Φ = 1 B),
    # the 2 all-gathers and 1 reduce-scatter of each layer cost 3 · 32 · 1 ms in series
    # (Neuron, TP ranks on the chip), not the 3 ms of one collective over the whole model.
    s = layer_shape(api.load_model("llama-3.1-8b"))
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=1, zero=3, recompute=0)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=8, ranks_per_chip=4)
    slow = Fabric(scaleup_bw=1e11, scaleup_eff=1.0, scaleup_latency_s=1e-3, scaleout_bw=1e10,
                  scaleout_eff=1.0, scaleout_latency_s=1e-3, domain_chips=8)
    got = zero3_comm_time(lay, mb, slow, np.array([1.0]), EXPERT, np.array([1.0]), NEURON)
    assert got[0] == pytest.approx(3 * 32 * 1e-3 + 3 * 7 / 8 * 2.0 / 1e11, rel=1e-12)
    # A stack without the per-layer schedule gathers the model at once: α three times.
    once = Zero3Overlap(reduce_scatter=0.0, all_gather_with_tp=0.0)
    got = zero3_comm_time(lay, mb, slow, np.array([1.0]), EXPERT, np.array([1.0]), once)
    assert got[0] == pytest.approx(3 * 1e-3 + 3 * 7 / 8 * 2.0 / 1e11, rel=1e-12)


def test_below_zero3_no_per_micro_batch_collectives():
    for zero in (0, 1, 2):
        assert _z3(4, 1.0, NEURON, zero=zero) == 0.0


def test_overlaps_are_read_from_stacks_toml():
    rows = tomllib.loads(builtin_file("stacks.toml").read_text())["stack"]
    for r in rows:
        if r["workload"] != "train":
            continue
        rules = stack_rules(r["vendor"], "train")
        assert rules.zero3_reduce_scatter_overlap == r.get("zero3_reduce_scatter_overlap", 1.0)
        assert rules.zero3_all_gather_overlap_with_tp == r.get(
            "zero3_all_gather_overlap_with_tp", 1.0)
        assert rules.zero3_per_layer == r.get("zero3_per_layer", False)
    aws = stack_rules("aws", "train")
    assert (aws.zero3_reduce_scatter_overlap, aws.zero3_all_gather_overlap_with_tp) == (0, 0)
    assert aws.zero3_per_layer


def test_evaluate_exposes_fsdp_on_trainium2_only():
    lay = Layouts.build(tp=1, pp=1, dp=64, micro_batch=1, zero=3, recompute=1)
    for chip, exposed in (("trn2", True), ("h100", False)):
        p = api.train_problem("llama-2-7b", chip=chip, n_chips=64, seq_len=4096,
                              global_batch=64)
        s = layer_shape(p.model)
        rules = stack_rules(p.chip.vendor, "train")
        heads = head_split(s, lay.tp, rules.ranks_per_chip(p.chip), rules.heads)
        L = s.n_layers  # one collective of each kind per layer, Φ/L bytes each
        phi = tuple(x / L for x in params_per_chip(s, lay, heads))
        fab = replace(chip_rates(p.chip, p.efficiency, p.precision).fabric,
                      serial_stages=rules.collective_stages_serial)  # Neuron: stages add
        raw = L * (2 * data_parallel_sync_time("all_gather", 2.0, lay, fab, *phi)
                   + data_parallel_sync_time("reduce_scatter", 2.0, lay, fab, *phi))[0]
        got = evaluate(p, lay).time["time/comm/zero3"][0]
        assert raw > 0
        if exposed:  # m = 1 micro-batch: the whole FSDP traffic is in the step
            assert got == pytest.approx(raw, rel=1e-12)
        else:
            assert got < raw


@pytest.mark.parametrize("change,value", [("zero3_reduce_scatter_overlap", -0.5),
                                          ("zero3_all_gather_overlap_with_tp", 1.5),
                                          ("zero3_overlap_source", None)])
def test_overlap_outside_zero_to_one_or_unsourced_is_a_catalog_error(change, value,
                                                                  builtin_stack_row):
    bad = builtin_stack_row("aws", "train", change, value)
    with pytest.raises(CatalogError, match="zero3"):
        validated(StackRecord, bad, "stacks.toml", "stack[0]")


@pytest.mark.parametrize("overlap", [Zero3Overlap(), NEURON])
def test_a_chip_without_link_bandwidth_gets_an_infinite_not_a_nan_time(overlap):
    s = layer_shape(api.load_model("llama-3.1-8b"))
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=1, zero=3, recompute=0)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=8, ranks_per_chip=4)
    no_links = Fabric(scaleup_bw=0.0, scaleup_eff=1.0, scaleup_latency_s=0.0, scaleout_bw=0.0,
                      scaleout_eff=1.0, scaleout_latency_s=0.0, domain_chips=8)
    got = zero3_comm_time(lay, mb, no_links, DENSE, EXPERT, np.array([1.0]), overlap)
    assert np.isposinf(got[0])


def test_per_layer_schedule_without_a_source_is_a_catalog_error(builtin_stack_row):
    bad = {**builtin_stack_row("aws", "train", "zero3_overlap_source", None),
           "zero3_reduce_scatter_overlap": 1.0, "zero3_all_gather_overlap_with_tp": 1.0}
    assert bad["zero3_per_layer"] is True
    with pytest.raises(CatalogError, match="zero3_per_layer"):
        validated(StackRecord, bad, "stacks.toml", "stack[0]")
