"""Collective times by the alpha-beta model, vectorised over group sizes and paths.

t = α + f(n) · S / (B · η)
  S bytes per chip, n ranks, B per-direction link bandwidth per chip (byte/s), η the measured
  busbw / link ratio, α the measured small-message time. f(n) is the nccl-tests bus factor
  (NVIDIA nccl-tests doc/PERFORMANCE.md): all-reduce 2(n−1)/n; all-gather, reduce-scatter
  and all-to-all (n−1)/n; point-to-point 1. A group of one rank takes 0 s.
B inside a domain depends on its topology (`domain_bandwidth`): a switch gives every group the
chip's full bandwidth; a full mesh only the links among the group; a torus the links along the
axes the group spans. Neglects: congestion between different concurrent collectives, trees and
NVLS in-switch reduction, and message-size-dependent efficiency between α and the plateau.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BUS_FACTOR = {
    "all_reduce": lambda n: 2.0 * (n - 1) / n,
    "all_gather": lambda n: (n - 1) / n,
    "reduce_scatter": lambda n: (n - 1) / n,
    "all_to_all": lambda n: (n - 1) / n,
    "p2p": lambda n: np.ones_like(n, dtype=float),
}


@dataclass(frozen=True)
class Topology:
    """How the chips of one scale-up domain are wired (specs.system.SystemSpec, in SI)."""

    kind: str = "switch"  # switch | full_mesh | torus | ring
    torus_dims: tuple[int, ...] = ()  # axis lengths, fastest-varying rank first
    axis_link_bw: tuple[float, ...] = ()  # byte/s per link per direction, per axis
    wrap_unit: int = 0  # an axis span that is a multiple of this closes into a ring
    link_bw: float = 0.0  # full mesh: byte/s per peer link per direction


@dataclass(frozen=True)
class Fabric:
    """The two network tiers a chip's collectives can take."""

    scaleup_bw: float  # byte/s per chip per direction inside the scale-up domain
    scaleup_eff: float
    scaleup_latency_s: float
    scaleout_bw: float  # byte/s per chip per direction across domains
    scaleout_eff: float
    scaleout_latency_s: float
    domain_chips: int
    topology: Topology = Topology()
    serial_stages: bool = False  # a multi-domain collective's two stages add (`collective_time`)


def domain_bandwidth(topo: Topology, chip_bw: float, g: np.ndarray) -> np.ndarray:
    """Per-chip per-direction bandwidth a group of g ranks gets inside one scale-up domain,
    byte/s.

    switch, or a torus of unknown shape: B = B_chip (every group gets the chip's links).
    full mesh (AMD 8-GPU Infinity Fabric, each GPU one link to each peer; AMD MI300X/MI355X
    platform briefs, ROCm blog 'RCCL bandwidth and xGMI performance'): B = (g − 1)·b_link,
    so TP = 2 gets 1/7 of the node's 7 links.
    torus (Scaling Book ch.2 'TPU networking' and ch.3 'collectives'): the group takes the
    block of the torus with the most bandwidth (a slice or mesh shaped to it, `torus_block`),
    axis extents e_i; each axis runs a bidirectional ring, both neighbour links busy:
    B_i = 2·b_i·w_i, w_i = 1 if e_i is a multiple of the wraparound unit (a closed ring: the
    full 16-chip axis of v5e/v6e, any multiple of 4 with v4/v5p optical switches) else ½ (a
    line: the book's 2× without wraparound). Axes run in parallel on split data (the book's
    multi-axis AllGather): B = Σ_i B_i.
    Neglects: other collectives sharing the links at the same time (groups of different kinds
    cannot all be compact), and uneven axis times.
    """
    g = np.asarray(g)
    if topo.kind == "full_mesh" and topo.link_bw > 0:
        return np.where(g > 1, np.minimum((g - 1) * topo.link_bw, chip_bw), chip_bw)
    if topo.kind not in ("torus", "ring") or not topo.torus_dims:
        return np.full(g.shape, chip_bw, dtype=float)
    sizes = np.maximum(g, 1).astype(np.int64)
    total = np.zeros(sizes.shape)
    for size in np.unique(sizes):  # a handful of group sizes, not one pass per config
        total[sizes == size] = block_bandwidth(torus_block(int(size), topo), topo)
    return np.where(total > 0, total, chip_bw)


def torus_block(size: int, topo: Topology) -> tuple[int, ...]:
    """Axis extents of the block of `size` chips (product of extents, each within its axis)
    with the most bandwidth, the most compact among equals: how a slice or mesh is shaped to
    a group."""
    best: tuple[float, int, tuple[int, ...]] | None = None
    for ext in _factorizations(size, topo.torus_dims):
        key = (block_bandwidth(ext, topo), -max(ext), ext)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else (1,) * len(topo.torus_dims)


def block_bandwidth(ext: tuple[int, ...], topo: Topology) -> float:
    """Σ_i 2·b_i·w_i over the axes a block spans, byte/s (see domain_bandwidth)."""
    return sum(2.0 * b * (1.0 if topo.wrap_unit and e % topo.wrap_unit == 0 else 0.5)
               for e, b in zip(ext, topo.axis_link_bw, strict=True) if e > 1)


def _factorizations(size: int, dims: tuple[int, ...]):
    """Every tuple of extents e_i ≤ dims_i whose product is `size`."""
    if not dims:
        if size == 1:
            yield ()
        return
    for e in range(1, min(size, dims[0]) + 1):
        if size % e == 0:
            for rest in _factorizations(size // e, dims[1:]):
                yield (e, *rest)


def collective_time(op: str, bytes_per_chip: np.ndarray | float, n: np.ndarray,
                    per_domain: np.ndarray, fabric: Fabric) -> np.ndarray:
    """Seconds for one collective of `op` per config, s; 0 when n = 1.

    t = α + f(n)·S / B_bus. Inside one domain (g = n ranks per domain) B_bus = B_up·η_up.
    Across k = n/g domains, hierarchical (rail-aligned) algorithms move only the share that
    must leave the domain over each chip's NIC, so B_bus = min(B_up·η_up, B_nic·η_nic·r) with
    r = (n−1)/(k−1) for all-reduce / all-gather / reduce-scatter (the nccl-tests busbw to
    per-NIC conversion, stas00 ml-engineering network/README) and r = (n−1)/(n−g) for
    all-to-all (the off-domain share of each chip's data); point-to-point across domains runs
    at the NIC rate. α is the scale-out latency as soon as a group leaves its domain. B_up is
    what the group's g in-domain ranks get from the domain's topology (`domain_bandwidth`).

    With `fabric.serial_stages` (a stack whose hierarchical collectives run their stages one
    after the other, data/stacks.toml collective_stages_serial) an all-gather, reduce-scatter
    or all-reduce across k > 1 domains instead adds its two stages: of the f(n)·S bytes a chip
    moves, the share (k−1)/(n−1) crosses the NIC and (n−k)/(n−1) stays in the domain,
    t = α + f(n)·S·[(k−1)/((n−1)·B_nic·η_nic) + (n−k)/((n−1)·B_up·η_up)]
    (AWS Neuron runtime, 'Inter-node Collective Communications': global AllGather = inter-node
    AllGather over the k ranks of one local index, chunk C, then intra-node AllGather of the
    k·C each then holds; ReduceScatter the reverse; AllReduce = intra RS + inter AR + intra
    AG; aws-neuron/aws-neuron-sdk @3afa0fdf:neuron-runtime/explore/internode-collective-comm.rst).
    The NIC term equals the pipelined one's; α stays the measured cross-domain time.
    All-to-all and point-to-point keep the pipelined form (the note covers neither).
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    g = np.clip(np.asarray(per_domain, dtype=float), 1.0, n)
    k = n / g
    up = domain_bandwidth(fabric.topology, fabric.scaleup_bw, g) * fabric.scaleup_eff
    nic = fabric.scaleout_bw * fabric.scaleout_eff
    crosses = k > 1.0
    if op == "all_to_all":
        ratio = (n - 1) / np.maximum(n - g, 1.0)
    elif op == "p2p":
        ratio = np.ones_like(n)
    else:
        ratio = (n - 1) / np.maximum(k - 1, 1.0)
    bw = np.where(crosses, np.minimum(up, nic * ratio), up)
    if fabric.serial_stages and op not in ("all_to_all", "p2p"):
        # 1/B_bus = (k−1)/((n−1)·nic) + (n−k)/((n−1)·up): the two stages in series
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = ((k - 1) / (np.maximum(n - 1, 1.0) * nic)
                   + (n - k) / (np.maximum(n - 1, 1.0) * up))
        bw = np.where(crosses, np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), 0.0), up)
    alpha = np.where(crosses, fabric.scaleout_latency_s, fabric.scaleup_latency_s)
    # A chip whose catalog has no link bandwidth cannot run the collective: infinite time.
    with np.errstate(divide="ignore", invalid="ignore"):
        t = alpha + np.where(bw > 0, BUS_FACTOR[op](n) * bytes_per_chip / np.where(bw > 0, bw, 1),
                             np.inf)
    return np.where(n > 1, t, 0.0)


def ranks_per_domain(stride: np.ndarray, size: np.ndarray, domain_chips: int) -> np.ndarray:
    """How many of a group's ranks share one scale-up domain, g.

    Ranks are laid out tp (innermost), cp, dp/ep, pp (outermost) as in Megatron-Core, so the
    members of a group are `stride` ranks apart: g = clamp(domain // stride, 1, size).
    """
    return np.clip(domain_chips // np.maximum(stride, 1), 1, size)
