"""What a plan needs from the layers above it, passed in (plans never import the API).

`PlanContext` carries the catalog and two functions: `train(job, chip, n_chips)` and
`serve(job, chip)`, which `xpuplan.api` binds to the training and inference models, so a
plan's every throughput comes from the same model the `train` and `infer` commands use.
Each runner returns a `PlanAnswer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from xpuplan.catalog.economics import EconomicsCatalog, economics_catalog
from xpuplan.catalog.registry import HardwareCatalog, system_of
from xpuplan.economics.scenario import ServingJob, Spreads, TrainingJob
from xpuplan.errors import SpecError
from xpuplan.train.result import RunCost

HOURS_PER_YEAR = 8766.0  # 365.25 days
SECONDS_PER_DAY = 86400.0
# Chips one training run uses when a scenario does not say: a 4,096-chip job by default, and
# never more than 16,384, the largest published single run (Llama 3 405B, 16K H100s).
DEFAULT_RUN_CHIPS = 4096
MAX_RUN_CHIPS = 16384


class TrainRun(Protocol):
    """What a plan reads of a training prediction (api.TrainResult)."""

    @property
    def n_chips(self) -> int: ...
    @property
    def mfu(self) -> float: ...
    @property
    def run(self) -> RunCost | None: ...  # time to train, chip-hours, ... for a token budget


class ServeRate(Protocol):
    """What a plan reads of a serving prediction (api.ServeResult)."""

    @property
    def output_tokens_per_s_per_chip(self) -> float: ...


def run_chip_hours(result: TrainRun) -> float:
    """Chip-hours of the run (plans always give a token budget, so `run` is filled)."""
    assert result.run is not None, "a plan's training job always has a token budget"
    return result.run.chip_hours


@dataclass
class PlanContext:
    """What a plan runs against: catalogs, train and serve evaluators, seed and notes."""
    catalog: HardwareCatalog
    train: Callable[[TrainingJob, str, int], TrainRun]
    serve: Callable[[ServingJob, str], ServeRate]
    efficiency_sd: Callable[[str], float]  # chip -> calibration spread (log sd)
    seed: int = 0
    notes: list[str] = field(default_factory=list)
    econ: EconomicsCatalog = field(default_factory=economics_catalog)

    def price(self, chip: str, term: str, override: float | None) -> tuple[float, str]:
        """$/chip-hour: the override, else the catalog's cheapest under the term (or the next
        priced term); SpecError if the chip has no price anywhere."""
        if override is not None:
            return override, "scenario input"
        c = self.catalog.chip(chip)
        found = self.catalog.price_for(c.id, term, system_of(c).id)
        if found is None:
            raise SpecError("usd_per_chip_hour", None,
                            f"{c.id} has no price in the catalog; give usd_per_chip_hour")
        instance, used = found
        usd_per_chip_s = instance.usd_per_chip_s(used)
        assert usd_per_chip_s is not None  # the catalog hands out priced instances only
        return usd_per_chip_s * 3600, f"{instance.id} ({used.replace('_', '-')})"


@dataclass
class PlanAnswer:
    """What one scenario runner returns; `run_scenario` wraps it, with the inputs and their
    sources, into a PlanResult."""

    outputs: dict  # SI or unit-named keys (`*_usd`, `*_s`, `n_chips`, `chip_hours`)
    explain: list[str]  # the arithmetic, one step a line, built from `outputs`
    interval: dict = field(default_factory=dict)  # output -> [P10, P50, P90]
    sensitivity: list = field(default_factory=list)  # vendor mix: the price-step table

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def samples(spreads: Spreads, sd_efficiency: float, seed: int) -> dict[str, np.ndarray]:
    """Vectorised draws: price and efficiency multipliers (log-normal), utilisation offset."""
    rng = np.random.default_rng(seed)
    n = spreads.samples
    eff_sd = spreads.efficiency if spreads.efficiency is not None else sd_efficiency
    return {"price": np.exp(rng.normal(0.0, spreads.price, n)),
            "efficiency": np.exp(rng.normal(0.0, eff_sd, n)),
            "utilization": rng.normal(0.0, spreads.utilization, n)}


def quantiles(x: np.ndarray) -> list[float]:
    """P10, P50, P90."""
    return [float(v) for v in np.percentile(x, (10, 50, 90))]


def pow2_floor(x: float) -> int:
    """Largest power of two ≤ x (at least 1)."""
    return int(2 ** np.floor(np.log2(max(x, 1.0))))
