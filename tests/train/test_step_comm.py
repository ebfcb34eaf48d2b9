"""TP collective-matmul overlap (train/comms.py tp_comm_time, data/stacks.toml) and expert data
parallelism (data_parallel_sync_time), hand-worked."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from xpuplan import api
from xpuplan.catalog.data import validated
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.measurements import StackRecord
from xpuplan.errors import CatalogError
from xpuplan.hardware import stacks
from xpuplan.hardware.collectives import Fabric
from xpuplan.hardware.roofline import chip_rates
from xpuplan.specs.layouts import Layouts
from xpuplan.train.comms import data_parallel_sync_time, tp_comm_time
from xpuplan.train.evaluate import evaluate
from xpuplan.train.microbatch import micro_batch
from xpuplan.train.step import step_time
from xpuplan.workload.layer import layer_shape

# A switch fabric of 8 chips at 100 GB/s per direction, η = 1, α = 0: one all-reduce of
# S bytes over t ranks takes 2(t−1)/t · S / 1e11 s.
FABRIC = Fabric(scaleup_bw=1e11, scaleup_eff=1.0, scaleup_latency_s=0.0, scaleout_bw=1e10,
                scaleout_eff=1.0, scaleout_latency_s=0.0, domain_chips=8)


def _toy():
    m = api.load_model("llama-3.1-8b")  # D = 4096, 32 layers
    s = layer_shape(m)
    lay = Layouts.build(tp=[4, 1], pp=1, dp=1, micro_batch=1, recompute=0)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=1)
    # Per layer: 4 all-reduces of 2 B · 2048 tokens · 4096 = 16 MiB; at t = 4 each takes
    # 1.5 · 2^24 / 1e11 s.
    one = 2 * (4 - 1) / 4 * (2 * 2048 * 4096) / 1e11
    return s, lay, mb, 32 * 4 * one


def test_no_overlap_exposes_all_of_the_tp_comm():
    s, lay, mb, raw = _toy()
    t = tp_comm_time(s, lay, mb, FABRIC, t_gemm=np.array([1.0, 1.0]), overlap=0.0)
    assert t == pytest.approx([raw, 0.0], rel=1e-12)


def test_full_overlap_hides_tp_comm_under_a_longer_gemm():
    s, lay, mb, raw = _toy()
    # 32 layers × 3 passes × 1 s of GEMMs is far longer than the comm: nothing exposed.
    t = tp_comm_time(s, lay, mb, FABRIC, t_gemm=np.array([1.0, 1.0]), overlap=1.0)
    assert t == pytest.approx([0.0, 0.0], abs=0.0)


def test_overlap_leaves_what_the_gemm_cannot_cover():
    s, lay, mb, raw = _toy()
    gemm = raw / (32 * 3) / 4  # the GEMMs of the micro-batch cover a quarter of the comm
    for o, left in ((1.0, 0.75), (0.5, 0.875)):
        t = tp_comm_time(s, lay, mb, FABRIC, t_gemm=np.array([gemm, gemm]), overlap=o)
        assert t[0] == pytest.approx(left * raw, rel=1e-12)
        assert t[1] == 0.0  # a group of one rank communicates for 0 s


def test_full_recompute_overlaps_under_four_passes():
    s, _, _, raw = _toy()
    lay = Layouts.build(tp=4, pp=1, dp=1, micro_batch=1, recompute=2)
    mb = micro_batch(s, lay, seq_len=2048, global_batch=1)
    gemm = 1e-6
    t = tp_comm_time(s, lay, mb, FABRIC, t_gemm=np.array([gemm]), overlap=1.0)
    # 6 all-reduces per layer instead of 4, hidden under 4 GEMM passes instead of 3.
    assert t[0] == pytest.approx(raw * 6 / 4 - 32 * 4 * gemm, rel=1e-12)


def test_stack_overlap_is_read_from_stacks_toml():
    rows = tomllib.loads(builtin_file("stacks.toml").read_text())["stack"]
    shipped = {(r["vendor"], r["workload"]): r.get("tp_comm_overlap", 0.0) for r in rows}
    assert shipped[("google", "train")] > 0
    for (vendor, workload), value in shipped.items():
        assert stacks.stack_rules(vendor, workload).tp_comm_overlap == value


def test_evaluate_applies_the_chip_stacks_overlap():
    for chip, hidden in (("tpu-v5p", True), ("h100", False)):
        p = api.train_problem("llama-3.1-70b", chip=chip, n_chips=64)
        lay = Layouts.build(tp=8, pp=1, dp=8, micro_batch=1, zero=1, recompute=1)
        serial = step_time(layer_shape(p.model), lay, p.seq_len, p.global_batch,
                           chip_rates(p.chip, p.efficiency, p.precision))["time/comm/tp"][0]
        got = evaluate(p, lay).time["time/comm/tp"][0]
        assert serial > 0
        assert (got < serial) if hidden else (got == pytest.approx(serial, rel=1e-12))


@pytest.mark.parametrize("change,value", [("tp_comm_overlap", 1.5),
                                          ("tp_comm_overlap_source", None)])
def test_overlap_outside_zero_to_one_or_unsourced_is_a_catalog_error(change, value,
                                                                  builtin_stack_row):
    bad = builtin_stack_row("google", "train", change, value)
    with pytest.raises(CatalogError, match="tp_comm_overlap"):
        validated(StackRecord, bad, "stacks.toml", "stack[0]")


# --- expert data parallelism (train/comms.py data_parallel_sync_time) -------------------------

def test_dense_model_syncs_once_over_all_data_parallel_ranks():
    lay = Layouts.build(tp=1, pp=1, dp=8, ep=1, micro_batch=1)
    dense, expert = np.array([1e9]), np.array([0.0])
    got = data_parallel_sync_time("all_gather", 2.0, lay, FABRIC, dense, expert)
    # One all-gather of 2 GB over 8 ranks in one switch domain: 7/8 · 2e9 / 1e11 s.
    assert got[0] == pytest.approx(7 / 8 * 2e9 / 1e11, rel=1e-12)


def test_experts_sync_only_over_their_expert_data_parallel_group():
    dense, expert = np.array([1e9]), np.array([4e9])
    # 16 ranks over two 8-chip domains, ep = 8: dense weights reduce over all 16 (two
    # domains, hierarchical), experts over t·d·c/e = 2 ranks 8 apart, one per domain, at the
    # NIC rate 1e10: 1/2 · 2·4e9 / 1e10 s.
    lay = Layouts.build(tp=1, pp=1, dp=16, ep=8, micro_batch=1)
    dense_only = data_parallel_sync_time("all_gather", 2.0, lay, FABRIC, dense, np.array([0.0]))
    got = data_parallel_sync_time("all_gather", 2.0, lay, FABRIC, dense, expert)
    assert got[0] - dense_only[0] == pytest.approx(0.5 * 2 * 4e9 / 1e10, rel=1e-12)
    # ep = every rank: each expert lives on one rank, nothing to sync for it.
    lay = Layouts.build(tp=1, pp=1, dp=16, ep=16, micro_batch=1)
    got = data_parallel_sync_time("all_gather", 2.0, lay, FABRIC, dense, expert)
    assert got[0] == pytest.approx(dense_only[0], rel=1e-12)
