"""Collective times by the alpha-beta model, vectorised over group sizes and paths.

t = α + f(n) · S / (B · η)
  S bytes per chip, n ranks, B per-direction link bandwidth per chip (byte/s), η the measured
  busbw / link ratio, α the measured small-message time. f(n) is the nccl-tests bus factor
  (NVIDIA nccl-tests doc/PERFORMANCE.md): all-reduce 2(n−1)/n; all-gather, reduce-scatter
  and all-to-all (n−1)/n; point-to-point 1. A group of one rank takes 0 s.
Neglects: congestion between concurrent collectives, topology-specific algorithms (trees,
NVLS in-switch reduction), and message-size-dependent efficiency between α and the plateau.
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
class Fabric:
    """The two network tiers a chip's collectives can take."""

    scaleup_bw: float  # byte/s per chip per direction inside the scale-up domain
    scaleup_eff: float
    scaleup_latency_s: float
    scaleout_bw: float  # byte/s per chip per direction across domains
    scaleout_eff: float
    scaleout_latency_s: float
    domain_chips: int


def collective_time(op: str, bytes_per_chip: np.ndarray | float, n: np.ndarray,
                    per_domain: np.ndarray, fabric: Fabric) -> np.ndarray:
    """Seconds for one collective of `op` per config, s; 0 when n = 1.

    t = α + f(n)·S / B_bus. Inside one domain (g = n ranks per domain) B_bus = B_up·η_up.
    Across k = n/g domains, hierarchical (rail-aligned) algorithms move only the share that
    must leave the domain over each chip's NIC, so B_bus = min(B_up·η_up, B_nic·η_nic·r) with
    r = (n−1)/(k−1) for all-reduce / all-gather / reduce-scatter (the nccl-tests busbw to
    per-NIC conversion, stas00 ml-engineering network/README) and r = (n−1)/(n−g) for
    all-to-all (the off-domain share of each chip's data); point-to-point across domains runs
    at the NIC rate. α is the scale-out latency as soon as a group leaves its domain.
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    g = np.clip(np.asarray(per_domain, dtype=float), 1.0, n)
    k = n / g
    up = fabric.scaleup_bw * fabric.scaleup_eff
    nic = fabric.scaleout_bw * fabric.scaleout_eff
    crosses = k > 1.0
    if op == "all_to_all":
        ratio = (n - 1) / np.maximum(n - g, 1.0)
    elif op == "p2p":
        ratio = np.ones_like(n)
    else:
        ratio = (n - 1) / np.maximum(k - 1, 1.0)
    bw = np.where(crosses, np.minimum(up, nic * ratio), up)
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
