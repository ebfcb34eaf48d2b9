"""One training layout's prediction, broken down and explained: TrainResult."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

from xpuplan.hardware.roofline import mfu_peak_flops
from xpuplan.train.evaluate import TrainEval, TrainProblem, TrainReason

BREAKDOWN_NAMES = {  # slash keys of the evaluator -> JSON keys
    "time/compute/gemm": "compute_gemm",
    "time/compute/gemm_call_overhead": "compute_gemm_call_overhead",
    "time/compute/attention": "compute_attention",
    "time/compute/memory_bound": "compute_memory_bound",
    "time/compute/recompute": "compute_recompute", "time/comm/tp": "comm_tp",
    "time/comm/cp": "comm_cp", "time/comm/ep": "comm_ep", "time/comm/pp": "comm_pp",
    "time/comm/zero3": "comm_zero3", "time/comm/dp": "comm_dp", "time/bubble": "pipeline_bubble",
    "time/optimizer": "optimizer",
}


@dataclass
class RunCost:
    """Time, chip-hours, cost and chip energy of training on a token budget
    (economics/run_cost.py computes it)."""

    tokens: float
    time_to_train_s: float
    chip_hours: float  # n_chips · time_to_train_s / 3600, what prices per chip-hour multiply
    usd_per_chip_hour: float | None
    cost_usd: float | None
    price_term: str
    instance: str | None
    price_source: str | None
    energy_j: float | None  # chips · TDP · time; None where the catalog has no TDP

    def to_dict(self) -> dict:
        """JSON-ready, SI keys (merged into `xpuplan train --json`)."""
        return asdict(self)

    @property
    def energy_kwh(self) -> float | None:
        """Deprecated: `energy_j` / 3.6e6."""
        warnings.warn("RunCost.energy_kwh is deprecated; use energy_j", DeprecationWarning,
                      stacklevel=2)
        return None if self.energy_j is None else self.energy_j / 3.6e6

    def __getitem__(self, key: str) -> object:
        """Deprecated dict access (the run was a dict): `run["cost_usd"]` -> `run.cost_usd`."""
        warnings.warn(f"TrainResult.run[{key!r}] is deprecated; use run.{key}",
                      DeprecationWarning, stacklevel=2)
        return getattr(self, key)


@dataclass
class TrainResult:
    """Prediction for one layout; breakdown_s parts sum to step_time_s, memory_bytes to
    memory_per_chip_bytes."""

    model: str
    chip: str
    n_chips: int
    seq_len: int
    global_batch: int
    precision: str
    step_time_s: float
    tokens_per_s: float
    tokens_per_s_per_chip: float
    mfu: float
    hfu: float
    fits: bool
    memory_per_chip_bytes: float
    hbm_bytes: float
    parallelism: dict
    breakdown_s: dict
    memory_bytes: dict
    takeaway: str
    efficiency_provenance: dict = field(default_factory=dict)
    run: RunCost | None = None  # time, chip-hours, cost, energy for a token budget
    confidence: dict | None = None  # calibrate.confidence: validated or extrapolated, and why
    mfu_peak_flops: float | None = None  # per chip, what MFU/HFU divide by (roofline)
    # Host memory per chip holding offloaded activations (a MaxText policy's offloaded
    # tensors, Megatron CPU-offloaded layers; not in memory_per_chip_bytes nor in `fits`:
    # train/memory.py host_offload_bytes), B.
    host_offload_bytes: float = 0.0

    def to_dict(self) -> dict:
        """The result as JSON-ready SI keys, the run's merged in (`xpuplan train --json`)."""
        out = asdict(self)
        run = out.pop("run") or {}
        return {**out, **run}


def train_result(p: TrainProblem, ev: TrainEval, i: int) -> TrainResult:
    """The i-th evaluated layout as a TrainResult with its one-line takeaway."""
    breakdown = {BREAKDOWN_NAMES[k]: float(v[i]) for k, v in ev.time.items()}
    memory = {k.split("/", 1)[1]: float(v[i]) for k, v in ev.memory.items()}
    row = ev.layouts.row(i)
    parallelism = {k: row[k] for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "micro_batch",
                                       "zero", "recompute", "sp", "recompute_fraction")}
    step = float(ev.step_time_s[i])
    host = float(ev.extra["host_offload_bytes"][i]) if "host_offload_bytes" in ev.extra else 0.0
    return TrainResult(
        model=p.model.name, chip=p.chip.id, n_chips=p.n_chips, seq_len=p.seq_len,
        global_batch=p.global_batch, precision=p.precision.value, step_time_s=step,
        tokens_per_s=float(ev.tokens_per_s[i]),
        tokens_per_s_per_chip=float(ev.tokens_per_s[i]) / p.n_chips,
        mfu=float(ev.mfu[i]), hfu=float(ev.hfu[i]), fits=bool(ev.fits[i]),
        memory_per_chip_bytes=float(ev.memory_per_chip_bytes[i]), hbm_bytes=p.chip.hbm_bytes,
        parallelism=parallelism, breakdown_s=breakdown, memory_bytes=memory,
        takeaway=takeaway(breakdown, step, int(ev.reason[i]),
                          float(ev.memory_per_chip_bytes[i]) / p.chip.hbm_bytes) + (
            _host_note(host) if host > 0 else ""),
        efficiency_provenance=dict(p.efficiency.provenance),
        mfu_peak_flops=mfu_peak_flops(p.chip, p.precision),
        host_offload_bytes=host,
    )


def _host_note(host_bytes: float) -> str:
    """The takeaway's note on offloaded activations: host memory is not checked, since the
    catalog states no host DRAM per chip or instance with a source."""
    return (f"; {host_bytes / 1e9:.1f} GB per chip of offloaded activations in host memory "
            "(not checked: the catalog has no host-memory figure)")


def takeaway(breakdown: dict, step: float, reason: int, memory_share: float = 0.0) -> str:
    """What binds, by how much: the largest part of the step and the compute share; for a
    stated layout over HBM by the memory estimate (`memory_share` = need / HBM > 1), that
    first, since its speed assumes the run fits as published."""
    if reason == TrainReason.MEMORY:
        return (f"over HBM by the memory estimate ({memory_share:.2f}x the chip's HBM): "
                "predicted as stated, as if it fit; the run needs offload or recompute "
                "the layout does not state, at a cost not counted here")
    if reason != TrainReason.OK:
        return f"infeasible: {TrainReason(reason).message}"
    biggest = max(breakdown, key=lambda k: breakdown[k])
    compute = sum(v for k, v in breakdown.items() if k.startswith("compute"))
    exposed = step - compute
    return (f"{biggest.replace('_', ' ')} is the largest part ({breakdown[biggest] / step:.0%} "
            f"of the step); compute {compute / step:.0%}, exposed communication, bubble and "
            f"optimizer {exposed / step:.0%}")
