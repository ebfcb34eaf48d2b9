"""Collective times against the nccl-tests bus-bandwidth formulas (doc/PERFORMANCE.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan.hardware.collectives import Fabric, collective_time, ranks_per_domain

FAB = Fabric(scaleup_bw=450e9, scaleup_eff=0.8, scaleup_latency_s=20e-6, scaleout_bw=50e9,
             scaleout_eff=0.9, scaleout_latency_s=30e-6, domain_chips=8)


def test_all_reduce_inside_domain_matches_busbw_formula():
    # 8 ranks, 1 GB: t = α + 2·7/8 · S / (B·η)
    t = collective_time("all_reduce", np.array([1e9]), np.array([8]), np.array([8]), FAB)
    assert t[0] == pytest.approx(20e-6 + 1.75 * 1e9 / (450e9 * 0.8))


def test_all_reduce_across_domains_uses_per_nic_share():
    # 64 ranks on 8 domains: B_bus = min(B_up·η, B_nic·η·(n−1)/(k−1)) = min(360, 45·63/7) GB/s
    t = collective_time("all_reduce", np.array([1e9]), np.array([64]), np.array([8]), FAB)
    bus = min(360e9, 45e9 * 63 / 7)
    assert t[0] == pytest.approx(30e-6 + 2 * 63 / 64 * 1e9 / bus)


def test_ranks_per_domain_follows_stride():
    # tp = 4 innermost: a dp group (stride 4) has 2 ranks in each 8-chip domain.
    assert ranks_per_domain(np.array([4]), np.array([16]), 8)[0] == 2
    assert ranks_per_domain(np.array([16]), np.array([16]), 8)[0] == 1


@given(op=st.sampled_from(["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "p2p"]),
       size=st.floats(1.0, 1e10))
def test_group_of_one_is_free(op, size):
    assert collective_time(op, np.array([size]), np.array([1]), np.array([1]), FAB)[0] == 0.0


@given(n=st.sampled_from([2, 4, 8, 16, 64, 512]), size=st.floats(1e3, 1e10),
       factor=st.floats(1.0, 10.0))
def test_more_bandwidth_never_slower(n, size, factor):
    g = ranks_per_domain(np.array([1]), np.array([n]), 8)
    faster = Fabric(FAB.scaleup_bw * factor, 0.8, 20e-6, FAB.scaleout_bw * factor, 0.9, 30e-6, 8)
    for op in ("all_reduce", "all_to_all", "p2p"):
        assert (collective_time(op, np.array([size]), np.array([n]), g, faster)[0]
                <= collective_time(op, np.array([size]), np.array([n]), g, FAB)[0])
