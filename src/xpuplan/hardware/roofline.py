"""Roofline rates of one chip at one precision, after measured efficiency: what ops divide by.

  t_math = FLOP / (P · η · φ(M,N,K)),   t_mem = bytes / (B_hbm · η_hbm)
P the dense peak at the precision, η the measured matmul ceiling (MAMF) times the stack's
calibrated scale c, φ the GEMM shape factor below (the half-rate law, or the instruction
tiles of a systolic matmul unit where efficiency.toml records one), B_hbm the HBM bandwidth
and η_hbm its STREAM ratio. The fabric is the chip's two network tiers for hardware.collectives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.collectives import Fabric, Topology
from xpuplan.hardware.efficiency import ChipEfficiency
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.precision import BYTES_PER_ELEMENT, Precision


def chip_topology(chip: ChipSpec) -> Topology:
    """The wiring of the chip's scale-up domain, from its system (a ring is a one-axis torus
    that closes over the whole domain)."""
    sys_ = chip.system
    if sys_ is None:
        return Topology()
    if sys_.topology == "ring" and sys_.scaleup_bw_unidir:
        return Topology("ring", (sys_.domain_chips,), (sys_.scaleup_bw_unidir / 2,),
                        sys_.domain_chips)
    if sys_.topology == "full_mesh" and sys_.link_bw_unidir:
        return Topology("full_mesh", link_bw=sys_.link_bw_unidir)
    if sys_.topology == "torus" and sys_.torus_dims and sys_.axis_links():
        return Topology("torus", sys_.torus_dims, sys_.axis_links(), sys_.torus_wrap_unit)
    return Topology()


def chip_fabric(chip: ChipSpec, eff: ChipEfficiency, latency_scale: float = 1.0) -> Fabric:
    """The chip's scale-up and scale-out tiers; `latency_scale` multiplies both α (serving
    engines' one-shot all-reduce kernels beat nccl-tests' small-message time)."""
    return Fabric(scaleup_bw=chip.scaleup_bw_unidir or chip.scaleout_bw_unidir or 0.0,
                  scaleup_eff=eff.scaleup_link,
                  scaleup_latency_s=eff.scaleup_latency_s * latency_scale,
                  scaleout_bw=chip.scaleout_bw_unidir or chip.scaleup_bw_unidir or 0.0,
                  scaleout_eff=eff.scaleout_link,
                  scaleout_latency_s=eff.scaleout_latency_s * latency_scale,
                  domain_chips=chip.scaleup_domain_chips or 1, topology=chip_topology(chip))


@dataclass(frozen=True)
class Rates:
    """The chip's rates at one precision, after efficiency: what an op is divided by."""

    peak_flops: float  # dense FLOP/s at the GEMM precision
    gemm_eff: float | np.ndarray  # η_mamf · c (per configuration when c is sampled)
    attention_flops: float | np.ndarray  # achievable FLOP/s of bf16 flash attention, before φ
    half_dim: float  # d½
    gemm_overhead_s: float  # fixed cost per GEMM call
    hbm_bw: float  # achievable byte/s
    fabric: Fabric
    quantized_bytes: float  # bytes/element GEMM inputs are cast to (0 when GEMMs run in bf16)
    attention_peak_flops: float = np.inf  # dense peak of the attention kernels' precision


def chip_rates(chip: ChipSpec, eff: ChipEfficiency, precision: Precision,
               compute_scale: float | np.ndarray | None = None) -> Rates:
    """Effective rates; `compute_scale` (per flat configuration, from specs.samples) replaces
    the stack's calibrated one when given."""
    assert chip.hbm_bw is not None, "problems refuse a chip without HBM bandwidth"
    c = eff.stack.compute_scale if compute_scale is None else compute_scale
    return Rates(
        peak_flops=chip.dense_flops(precision),
        gemm_eff=eff.gemm[gemm_key(precision)] * c,
        # Flash attention runs in bf16 whatever the GEMM precision (Transformer Engine keeps
        # FP8/FP4 recipes' attention in bf16 by default).
        attention_flops=chip.dense_flops(Precision.bf16) * eff.gemm["bf16"] * c,
        half_dim=eff.stack.gemm_half_dim,
        gemm_overhead_s=eff.stack.gemm_overhead_s,
        hbm_bw=chip.hbm_bw * eff.hbm,
        fabric=chip_fabric(chip, eff),
        quantized_bytes=(BYTES_PER_ELEMENT[precision]
                         if precision in (Precision.fp8, Precision.fp4) else 0.0),
        attention_peak_flops=chip.dense_flops(Precision.bf16),
    )


def gemm_rate(r: Rates, phi: np.ndarray) -> np.ndarray:
    """FLOP/s of a GEMM of shape factor φ: min(P·η·c·φ, P), never above the dense peak."""
    return np.minimum(r.peak_flops * r.gemm_eff * phi, r.peak_flops)


def attention_rate(r: Rates, phi: np.ndarray) -> np.ndarray:
    """FLOP/s of flash attention of shape factor φ, never above the bf16 dense peak."""
    return np.minimum(r.attention_flops * phi, r.attention_peak_flops)


def mfu_peak_flops(chip: ChipSpec, precision: Precision) -> float:
    """The dense peak MFU and HFU are stated against, FLOP/s per chip.

    max(P_precision, P_bf16): the fastest rate any op of a step runs at (GEMMs at the GEMM
    precision, attention at bf16), so a precision whose peak is below bf16's (INT8 on B300:
    0.15 vs 2.25 POP/s) cannot give MFU > 1 from attention running faster than the peak.
    """
    return max(chip.dense_flops(precision), chip.dense_flops(Precision.bf16))


def gemm_key(precision: Precision) -> str:
    """The matmul-efficiency class a GEMM precision is measured in (int8 runs as bf16)."""
    return {Precision.fp8: "fp8", Precision.fp4: "fp4"}.get(precision, "bf16")


MAMF_REFERENCE_DIM = 8192.0  # MAMF searches peak near M = N = K ≈ 8k (stas00 mamf-finder)


def shape_factor(half_dim: float, *dims: np.ndarray | float) -> np.ndarray:
    """φ(M,N,K) / φ(8k,8k,8k), φ = 1/(1 + Σ d½/d): a GEMM's rate relative to the MAMF shape."""
    reference = 1.0 + len(dims) * half_dim / MAMF_REFERENCE_DIM
    return np.asarray(reference / (1.0 + sum(half_dim / np.maximum(d, 1.0) for d in dims)))


def tile_shape_factor(tiles: tuple[int, int, int, int], m: np.ndarray | float,
                      n: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """GEMM rate of a systolic matmul unit relative to full instruction tiles, 1.

    φ = K/(R·⌈K/R⌉) · N/(C·⌈N/C⌉) · M/(F·⌊M/F⌋ + max(M − F·⌊M/F⌋, I)·[M mod F > 0])
    (NKI Trainium/Inferentia2 architecture guide, Tensor Engine 'Tile Size' and 'Cost Model';
    efficiency.toml tensor_engine): the contraction K fills R partition rows and the weight
    shard's N outputs fill C columns of the array per instruction, so a partial last tile idles
    its rows or columns; the M tokens stream as the moving operand in instructions of up to F
    columns, each issued every max(columns, I) cycles, so only a remainder chunk shorter than
    I costs idle cycles. A GEMM of M = 8192 and N, K multiples of 128 gives φ = 1 (the MAMF
    shape). Neglects the stationary loads (hidden by background and fast LoadStationary) and
    the engines around the array (PSUM eviction, transposes).
    """
    rows, cols, free, init = tiles
    m, n, k = (np.maximum(np.asarray(v, dtype=float), 1.0) for v in (m, n, k))
    full = np.floor(m / free)
    rest = m - free * full
    cycles = free * full + np.where(rest > 0, np.maximum(rest, init), 0.0)
    return np.asarray(k / (rows * np.ceil(k / rows)) * n / (cols * np.ceil(n / cols))
                      * m / cycles)
