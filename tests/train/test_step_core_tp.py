"""TP collectives among the logical cores of one chip (train/comms.py core_tp_comm_time).

A TP group inside one Trainium2 chip (tp = 1 chip, 4 logical cores at LNC = 2, AXLearn's
`model=4` mesh on trn2) all-reduces through the chip's HBM: the Neuron runtime's ring reads
and writes every chunk at each hop (reduce-scatter 2R1W, all-gather 1R1W), stacks.toml
core_all_reduce_hbm_touches = 5.
"""

from __future__ import annotations

import tomllib

import pytest

from xpuplan import api
from xpuplan.catalog.data import validated
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.measurements import StackRecord
from xpuplan.errors import CatalogError
from xpuplan.hardware.roofline import chip_rates
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.layouts import Layouts
from xpuplan.train.comms import core_tp_comm_time
from xpuplan.train.evaluate import evaluate
from xpuplan.train.microbatch import micro_batch
from xpuplan.workload.layer import layer_shape

# Llama 2 7B (D = 4096, 32 layers), one sequence of 2048 tokens per chip: one all-reduce
# carries S = 2 B · 2048 · 4096 = 16,777,216 B; over T = 4 cores a ring moves
# 5 · (4 − 1) · S = 251,658,240 B through HBM; 4 all-reduces a layer without recompute.
S_BYTES = 2 * 2048 * 4096
AR_HBM_BYTES = 5 * 3 * S_BYTES
assert AR_HBM_BYTES == 251_658_240


def _setup(tp: int, ranks: int, recompute: int = 0, fraction: float | None = None):
    p = api.train_problem("llama-2-7b", chip="trn2", n_chips=8 * tp, seq_len=2048,
                          global_batch=8)
    s = layer_shape(p.model)
    lay = Layouts.build(tp=tp, pp=1, dp=8, micro_batch=1, zero=3, recompute=recompute,
                        recompute_fraction=fraction)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=8, ranks_per_chip=ranks)
    return p, s, lay, mb, chip_rates(p.chip, p.efficiency, p.precision)


def test_hand_worked_on_chip_all_reduces():
    p, s, lay, mb, r = _setup(tp=1, ranks=4)
    got = core_tp_comm_time(s, lay, mb, r, 5.0)[0]
    assert got == pytest.approx(32 * 4 * AR_HBM_BYTES / r.hbm_bw, rel=1e-12)
    # 252 MB through Trainium2's 2.9 TB/s at its HBM efficiency: about 0.1 ms an all-reduce.
    assert 8.7e-5 < got / (32 * 4) < 2e-4


def test_recompute_share_adds_its_all_reduces():
    p, s, lay, mb, r = _setup(tp=1, ranks=4, recompute=2, fraction=0.5)
    got = core_tp_comm_time(s, lay, mb, r, 5.0)[0]
    assert got == pytest.approx(32 * (4 + 2 * 0.5) * AR_HBM_BYTES / r.hbm_bw, rel=1e-12)


@pytest.mark.parametrize("tp,ranks,touches", [(2, 4, 5.0), (1, 1, 5.0), (1, 4, None)])
def test_nothing_when_the_group_spans_chips_has_one_rank_or_the_stack_has_no_figure(
        tp, ranks, touches):
    p, s, lay, mb, r = _setup(tp=tp, ranks=ranks)
    assert core_tp_comm_time(s, lay, mb, r, touches)[0] == 0.0


def test_touches_are_read_from_stacks_toml():
    rows = tomllib.loads(builtin_file("stacks.toml").read_text())["stack"]
    for row in rows:
        if row["workload"] == "train":
            got = stack_rules(row["vendor"], "train").core_all_reduce_hbm_touches
            assert got == row.get("core_all_reduce_hbm_touches")
    assert stack_rules("aws", "train").core_all_reduce_hbm_touches == 5.0


def test_evaluate_charges_on_chip_tp_on_trainium2_not_on_h100():
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=1, zero=3, recompute=0)
    for chip, charged in (("trn2", True), ("h100", False)):
        p = api.train_problem("llama-2-7b", chip=chip, n_chips=8, seq_len=2048, global_batch=8)
        tp = evaluate(p, lay).time["time/comm/tp"][0]
        if charged:  # m = 1 micro-batch
            r = chip_rates(p.chip, p.efficiency, p.precision)
            assert tp == pytest.approx(32 * 4 * AR_HBM_BYTES / r.hbm_bw, rel=1e-12)
        else:
            assert tp == 0.0


def test_touches_without_a_source_is_a_catalog_error(builtin_stack_row):
    bad = builtin_stack_row("aws", "train", "core_collective_source", None)
    with pytest.raises(CatalogError, match="core_all_reduce_hbm_touches"):
        validated(StackRecord, bad, "stacks.toml", "stack[0]")
    bad = builtin_stack_row("aws", "train", "core_all_reduce_hbm_touches", 0.0)
    with pytest.raises(CatalogError, match="core_all_reduce_hbm_touches"):
        validated(StackRecord, bad, "stacks.toml", "stack[0]")
