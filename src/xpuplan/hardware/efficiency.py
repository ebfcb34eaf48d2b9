"""Achievable fractions of peak, per chip: measured (efficiency.toml) and fitted (calibration.toml).

Measured, each from a cited microbenchmark:
  gemm[p]       = MAMF / dense peak            (largest achievable matmul, stas00 mamf-finder)
  hbm           = STREAM triad / HBM peak
  scaleup_link  = all-reduce ring busbw / per-direction link rate   (nccl-tests definition)
  scaleout_link = per-chip NIC throughput in an all-reduce / NIC rate
  *_latency_s   = small-message collective time (alpha)
A chip without its own measurement takes the median of its vendor's chips, else of all chips;
`provenance` says which, so `explain` can show it.

Fitted (scripts/calibrate_train.py on the development set): per vendor software stack, the
fraction of the microbenchmark GEMM rate that whole training steps sustain (`compute_scale`),
the dimension at which a GEMM reaches half its peak rate (`gemm_half_dim`), and a fixed cost
per expert GEMM call (`gemm_overhead_us`: launch and tail effects that dominate MoE layers
whose many small expert GEMMs each run for microseconds).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

import numpy as np

from xpuplan.catalog.calibration import InferGroup, infer_groups, train_groups
from xpuplan.catalog.measurements import (
    collective_measurements,
    matmul_measurements,
    memory_measurements,
    moe_blockwise_kernels,
    moe_kernels,
    runtime_memory,
    serving_engines,
    tensor_engines,
)
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.precision import precision_class


def _check_floats(params: object) -> None:
    """Every float field of a fitted-parameter record holds one number: per-sample values
    travel in a specs.samples.Samples, never in the record (TypeError naming the field)."""
    for f in fields(params):  # type: ignore[arg-type]
        value = getattr(params, f.name)
        if f.type == "float" and (isinstance(value, bool)
                                  or not isinstance(value, int | float | np.floating)):
            raise TypeError(f"{type(params).__name__}.{f.name} = {type(value).__name__} "
                            f"{np.shape(value)}: must be one float; pass per-sample values "
                            "as specs.samples.Samples to the evaluator")


@dataclass(frozen=True)
class StackCalibration:
    """Fitted parameters of one vendor's training software stack, with their spread."""

    compute_scale: float  # sustained GEMM rate in a full step / MAMF
    compute_scale_sd: float  # spread (std. dev. of the log residuals), for intervals
    gemm_half_dim: float  # GEMM dimension at which the rate halves: eff ∝ d/(d + d_half)
    gemm_overhead_s: float  # fixed time per expert GEMM call (launch, tail, bookkeeping), s
    n_rows: int  # development rows it was fitted on
    source: str

    def __post_init__(self) -> None:
        _check_floats(self)


@dataclass(frozen=True)
class ServeCalibration:
    """Fitted serving-stack parameters (scripts/calibrate_infer.py), with spreads."""

    # One float each; intervals and the calibration grid sample them with specs.samples.
    compute_scale: float  # sustained GEMM rate in prefill / MAMF
    memory_scale: float  # sustained decode read bandwidth / STREAM bandwidth
    step_overhead_s: float  # fixed host cost per decode step (graph launch, sync, sampling)
    layer_overhead_s: float  # fixed device time per decoder layer (fixed_overhead_per = "layer")
    seq_overhead_s: float  # host cost per running sequence per step (scheduling, outputs)
    latency_scale: float  # serving collectives' α / the measured nccl-tests α
    log_sd: float  # spread of the log residuals, for intervals
    n_rows: int
    source: str

    def __post_init__(self) -> None:
        _check_floats(self)


@dataclass(frozen=True)
class ChipEfficiency:
    """Efficiencies of one chip (fractions of the catalog's peak figures)."""

    gemm: dict[str, float]  # precision -> MAMF / peak
    hbm: float
    scaleup_link: float
    scaleout_link: float
    scaleup_latency_s: float
    scaleout_latency_s: float
    stack: StackCalibration
    provenance: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _calibration() -> dict[str, StackCalibration]:
    return {key: StackCalibration(
        compute_scale=g.compute_scale, compute_scale_sd=g.compute_scale_sd,
        gemm_half_dim=g.gemm_half_dim, gemm_overhead_s=g.gemm_overhead_s, n_rows=g.n_rows,
        source=g.source) for key, g in train_groups().items()}


def reserved_fraction(stack: str = "default") -> float:
    """Share of HBM the runtime keeps (context, comm buffers, fragmentation): data, cited."""
    rows = runtime_memory()
    return rows.get(stack, rows["default"]).reserved_fraction_of_hbm


def _serve_calibration(g: InferGroup) -> ServeCalibration:
    return ServeCalibration(
        compute_scale=g.compute_scale, memory_scale=g.memory_scale,
        step_overhead_s=g.step_overhead_s, layer_overhead_s=g.layer_overhead_s,
        seq_overhead_s=g.seq_overhead_s, latency_scale=g.latency_scale, log_sd=g.log_sd,
        n_rows=g.n_rows, source=g.source)


def group_keys(chip: ChipSpec, precision: str) -> tuple[str, ...]:
    """Calibration groups of a chip at a precision, most specific first."""
    cls = precision_class(precision)
    return (f"{chip.family}/{cls}", f"{chip.vendor}/{cls}", chip.family, chip.vendor, "default")


def rate_floor(chip: ChipSpec, gemm: dict[str, float], precision: str, bf16_scale: float
               ) -> float:
    """The smallest compute scale at `precision` whose GEMM rate matches bf16's, c_p ≥
    c_bf16 · P_bf16 · η_bf16 / (P_p · η_p): a format with a higher peak is never slower."""
    cls = precision_class(precision)
    if cls == "bf16" or not chip.supports(precision) or not chip.supports("bf16"):
        return 0.0
    return bf16_scale * chip.dense_flops("bf16") * gemm["bf16"] / (
        chip.dense_flops(precision) * gemm[cls])


def serve_calibration_for(chip: ChipSpec, precision: str = "bf16",
                          gemm: dict[str, float] | None = None) -> ServeCalibration:
    """The fitted serving parameters of the chip's most specific group (family or vendor at
    the weight precision, family, vendor, default).

    Below bf16 (fp8, fp4) the group's parameters are never worse than the chip's bf16 group:
    the same engine reads fewer bytes through the same memory system and scheduler, and runs
    GEMMs at least at the bf16 rate (`rate_floor`, with the chip's MAMF ratios `gemm`), so a
    precision with a higher peak is never predicted slower for a calibration artefact; what
    remains (the FP8 KV cache's attention rate, memory) is physics the result shows. The
    memory scale and the two host costs are fitted together (a faster read trades against a
    larger step cost on the same rows), so they are kept or replaced as one set: the bf16
    group's unless the precision group's are all at least as good; mixing the parts of two
    fits would predict faster than either.
    """
    groups = infer_groups()
    own = next(groups[k] for k in group_keys(chip, precision) if k in groups)
    if precision_class(precision) == "bf16":
        return _serve_calibration(own)
    base = next(groups[k] for k in group_keys(chip, "bf16") if k in groups)
    floor = rate_floor(chip, gemm, precision, base.compute_scale) if gemm else 0.0
    host = own if (own.memory_scale >= base.memory_scale
                   and own.step_overhead_s <= base.step_overhead_s
                   and own.layer_overhead_s <= base.layer_overhead_s
                   and own.seq_overhead_s <= base.seq_overhead_s) else base
    return replace(_serve_calibration(own), compute_scale=max(own.compute_scale, floor),
                   memory_scale=host.memory_scale, step_overhead_s=host.step_overhead_s,
                   layer_overhead_s=host.layer_overhead_s, seq_overhead_s=host.seq_overhead_s)


def prefill_chunk_tokens() -> int:
    """Tokens a serving engine schedules per forward pass when its stacks.toml record gives no
    max_batched_tokens (efficiency.toml, the default serving_engine)."""
    return serving_engines()["default"].prefill_chunk_tokens


def moe_tile_rows(stack: str = "default") -> tuple[int, int]:
    """Smallest and largest rows of a grouped-GEMM tile of the MoE kernels (efficiency.toml,
    moe_kernel)."""
    rows = moe_kernels()
    row = rows.get(stack, rows["default"])
    return row.grouped_gemm_tile_rows_min, row.grouped_gemm_tile_rows_max


def moe_blockwise_dispatch(stack: str) -> tuple[float, int] | None:
    """(selective-loading threshold θ, block rows b) of a static-shape stack's MoE dispatch,
    None for a grouped-GEMM stack (efficiency.toml, moe_blockwise_kernel)."""
    row = moe_blockwise_kernels().get(stack)
    return None if row is None else (row.selective_loading_threshold, row.block_size_tokens)


def tensor_engine_tiles(stack: str) -> tuple[int, int, int, int] | None:
    """(contraction rows, stationary columns, moving free max, initiation cycles) of a
    stack's systolic matmul unit, None where the stack's GEMMs follow the calibrated d½
    (efficiency.toml, tensor_engine)."""
    row = tensor_engines().get(stack)
    return None if row is None else (row.contraction_rows, row.stationary_columns,
                                     row.moving_free_max, row.mm_init_latency_cycles)


def calibration_for(chip: ChipSpec, precision: str = "bf16") -> StackCalibration:
    """The fitted training parameters of the chip's most specific group (family or vendor at
    the GEMM precision, family, vendor, default)."""
    stacks = _calibration()
    return next(stacks[k] for k in group_keys(chip, precision) if k in stacks)


def _monotone_stack(chip: ChipSpec, gemm: dict[str, float], precision: str,
                    prov: dict[str, str]) -> StackCalibration:
    """The training group's parameters, the compute scale raised to `rate_floor` (bf16's
    GEMM rate) where the fitted group would make a higher-peak format slower; noted."""
    own = calibration_for(chip, precision)
    floor = rate_floor(chip, gemm, precision, calibration_for(chip, "bf16").compute_scale)
    if floor <= own.compute_scale:
        return own
    prov["stack"] = (f"{precision} compute scale raised to {floor:.3f} (the bf16 group's GEMM "
                     "rate): a format with a higher peak is never slower")
    return replace(own, compute_scale=floor)


def _pick(values: dict[str, float], chip: ChipSpec, vendor_of: dict[str, str],
          what: str, provenance: dict[str, str]) -> float:
    """The chip's own value, else its vendor's median, else the median of all; noted."""
    if chip.id in values:
        provenance[what] = f"measured on {chip.id}"
        return values[chip.id]
    same_vendor = [v for c, v in values.items() if vendor_of.get(c) == chip.vendor]
    pool = same_vendor or list(values.values())
    provenance[what] = (f"median of {len(pool)} {'same-vendor' if same_vendor else 'all'} "
                        f"chips (no measurement on {chip.id})")
    return statistics.median(pool)


def _gemm_fractions(chip: ChipSpec, vendor_of: dict[str, str],
                    prov: dict[str, str]) -> dict[str, float]:
    """MAMF / peak per precision: the chip's own, else its bf16 one (the same silicon beats
    another chip at this precision), else the vendor's or everyone's median; noted."""
    matmul = matmul_measurements()
    bf16 = {r.chip: r.fraction_of_peak for r in matmul if r.precision == "bf16"}
    gemm: dict[str, float] = {}
    for fmt in ("bf16", "fp8", "fp4"):
        ratios = {r.chip: r.fraction_of_peak for r in matmul if r.precision == fmt}
        if fmt != "bf16" and chip.id not in ratios and chip.id in bf16:
            gemm[fmt] = bf16[chip.id]
            prov[f"gemm/{fmt}"] = f"bf16 measurement of {chip.id} (no {fmt} one)"
        else:
            gemm[fmt] = _pick(ratios, chip, vendor_of, f"gemm/{fmt}", prov)
    return gemm


def chip_efficiency(chip: ChipSpec, vendor_of: dict[str, str],
                    stack: StackCalibration | None = None,
                    precision: str = "bf16") -> ChipEfficiency:
    """Every efficiency a step-time model needs for `chip` (see module doc)."""
    prov: dict[str, str] = {}
    gemm = _gemm_fractions(chip, vendor_of, prov)
    coll = collective_measurements()
    hbm = {r.chip: r.fraction_of_peak for r in memory_measurements()}
    up = {r.chip: f for r in coll if r.tier == "scaleup" and r.op == "all_reduce"
          and r.algo == "ring" and (f := r.busbw_fraction) is not None}
    out = {r.chip: f for r in coll if r.tier == "scaleout" and (f := r.nic_fraction) is not None}
    up_lat = {r.chip: t for r in coll if r.tier == "scaleup" and (t := r.latency_s) is not None}
    out_lat = {r.chip: t for r in coll if r.tier == "scaleout" and (t := r.latency_s) is not None}
    return ChipEfficiency(
        gemm=gemm,
        hbm=_pick(hbm, chip, vendor_of, "hbm", prov),
        scaleup_link=_pick(up, chip, vendor_of, "scaleup_link", prov),
        scaleout_link=_pick(out, chip, vendor_of, "scaleout_link", prov),
        scaleup_latency_s=_pick(up_lat, chip, vendor_of, "scaleup_latency", prov),
        scaleout_latency_s=_pick(out_lat or up_lat, chip, vendor_of, "scaleout_latency", prov),
        stack=stack or _monotone_stack(chip, gemm, precision, prov),
        provenance=prov,
    )
