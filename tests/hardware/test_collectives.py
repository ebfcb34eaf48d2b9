"""Collective times against the nccl-tests bus-bandwidth formulas (doc/PERFORMANCE.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan.catalog.measurements import StackRecord
from xpuplan.hardware.collectives import (
    Fabric,
    Topology,
    collective_time,
    domain_bandwidth,
    ranks_per_domain,
    torus_block,
)

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


# Topology inside the domain (hardware.collectives.domain_bandwidth), worked by hand.
MESH = Topology("full_mesh", link_bw=64e9)  # AMD MI300X platform: 7 peer links x 64 GB/s
V5E = Topology("torus", (16, 16), (50e9, 50e9), 16)  # v5e pod, wraparound on a full axis
V5P = Topology("torus", (16, 20, 28), (100e9,) * 3, 4)  # v5p pod, OCS wraparound per 4


def test_full_mesh_group_uses_only_its_own_links():
    # k of 8 GPUs: (k−1) links; TP = 2 gets 1/7 of the node's 448 GB/s.
    bw = domain_bandwidth(MESH, 448e9, np.array([2, 4, 8]))
    assert bw.tolist() == pytest.approx([64e9, 192e9, 448e9])


def test_full_mesh_tp2_all_reduce_is_seven_times_slower_than_a_switch():
    mesh = Fabric(448e9, 1.0, 0.0, 50e9, 1.0, 0.0, 8, MESH)
    switch = Fabric(448e9, 1.0, 0.0, 50e9, 1.0, 0.0, 8)
    n = np.array([2])
    t_mesh = collective_time("all_reduce", np.array([1e9]), n, n, mesh)[0]
    t_switch = collective_time("all_reduce", np.array([1e9]), n, n, switch)[0]
    assert t_mesh / t_switch == pytest.approx(7.0)


T2U = Topology("torus", (4, 4, 4), (128e9, 128e9, 64e9), 4)  # Trn2 UltraServer


def test_torus_block_takes_the_fastest_shape():
    assert torus_block(256, V5E) == (16, 16)
    assert torus_block(16, V5E) == (4, 4)  # ties (16x1: one closed axis) go to the compact one
    assert torus_block(64, V5E) == (4, 16)  # one closed 16-axis + a line of 4: 100 + 50 GB/s
    assert torus_block(64, V5P) == (4, 4, 4)
    assert torus_block(8, V5P) == (2, 2, 2)
    # 16 Trainium2 stay in one instance (4x4, fast links) rather than cross the thin axis.
    assert torus_block(16, T2U) == (4, 4, 1)


def test_trn2_ultraserver_axes_differ():
    # 4x4 in one instance: 2 closed axes x 2 x 128 = 512 GB/s; all 64: + 2 x 64 = 640.
    bw = domain_bandwidth(T2U, 640e9, np.array([16, 64]))
    assert bw.tolist() == pytest.approx([512e9, 640e9])


def test_v5e_full_pod_gets_all_four_links_and_a_block_without_wraparound_half():
    # 16x16: both axes wrap, 2 links x 50 GB/s each = 200 GB/s (the chip's total per direction).
    # 4x4: no wraparound below 16 on v5e, each axis a line: 2 x 50 x 1/2 per axis = 100 GB/s.
    # 4 chips (2x2): 2 lines of 2 = 2 x 50 = 100 GB/s.
    bw = domain_bandwidth(V5E, 200e9, np.array([256, 16, 4]))
    assert bw.tolist() == pytest.approx([200e9, 100e9, 100e9])


def test_v5p_cube_wraps_and_a_2x2x2_does_not():
    # 4x4x4 (OCS closes every axis of 4): 3 axes x 2 x 100 = 600 GB/s. 2x2x2: 3 x 100 = 300.
    bw = domain_bandwidth(V5P, 600e9, np.array([64, 8]))
    assert bw.tolist() == pytest.approx([600e9, 300e9])


def test_torus_all_gather_matches_the_book_bidirectional_ring():
    # Scaling Book ch.3: an AllGather over one full, wrapped v5e axis of 16 is a
    # bidirectional ring, T = V·(n−1)/n / (2·W_link) = V·15/16 / 100 GB/s. The compact 4x4
    # block (two lines, no wraparound) gets the same 2·(2·50·½) = 100 GB/s.
    fab = Fabric(200e9, 1.0, 0.0, 3.125e9, 1.0, 0.0, 256, V5E)
    n = np.array([16])
    t = collective_time("all_gather", np.array([1e9]), n, n, fab)[0]
    assert t == pytest.approx(15 / 16 * 1e9 / 100e9)


def test_switch_topology_unchanged():
    bw = domain_bandwidth(Topology(), 450e9, np.array([2, 8]))
    assert bw.tolist() == [450e9, 450e9]


@given(g=st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128, 256]))
def test_torus_group_never_beats_the_chip_total(g):
    assert domain_bandwidth(V5E, 200e9, np.array([g]))[0] <= 200e9 + 1e-3


SERIAL = Fabric(**{**FAB.__dict__, "serial_stages": True})


def test_serial_stages_add_the_inter_and_intra_node_all_gather():
    # Neuron's global AllGather, X = 8 nodes of Y = 8 ranks, S = 1 GB gathered, C = S/64:
    # inter-node AllGather receives (X−1)·C over the NIC, then intra-node AllGather receives
    # (Y−1)·X·C over the scale-up links, one after the other.
    c = 1e9 / 64
    inter = 7 * c / (50e9 * 0.9)  # 109.375 MB at 45 GB/s = 2.431 ms
    intra = 7 * 8 * c / (450e9 * 0.8)  # 875 MB at 360 GB/s = 2.431 ms
    t = collective_time("all_gather", np.array([1e9]), np.array([64]), np.array([8]), SERIAL)
    assert t[0] == pytest.approx(30e-6 + inter + intra)
    piped = collective_time("all_gather", np.array([1e9]), np.array([64]), np.array([8]), FAB)
    assert piped[0] == pytest.approx(30e-6 + 63 / 64 * 1e9 / 360e9)  # the slower stage only


def test_serial_all_reduce_is_intra_rs_inter_ar_intra_ag():
    # intra RS (Y−1)/Y·S, inter AR 2(X−1)/X·S/Y, intra AG (Y−1)/Y·S, X = 4 nodes, Y = 8
    s = 1e9
    intra = 2 * 7 / 8 * s / (450e9 * 0.8)
    inter = 2 * 3 / 4 * s / 8 / (50e9 * 0.9)
    t = collective_time("all_reduce", np.array([s]), np.array([32]), np.array([8]), SERIAL)
    assert t[0] == pytest.approx(30e-6 + intra + inter)


@pytest.mark.parametrize("op, n, g", [("all_gather", 8, 8), ("all_to_all", 64, 8),
                                      ("p2p", 16, 1)])
def test_serial_stages_leave_one_domain_and_other_ops_alone(op, n, g):
    args = (np.array([1e8]), np.array([n]), np.array([g]))
    assert collective_time(op, *args, SERIAL)[0] == collective_time(op, *args, FAB)[0]


def test_serial_stages_need_their_source():
    with pytest.raises(ValueError, match="collective_stages_source"):
        StackRecord(vendor="x", workload="train", name="x", heads="pad", tp_counts="chips",
                    source="s", retrieved="2026-12-02", collective_stages_serial=True)
