"""What a training run costs: time, chip-hours, dollars and energy for a token budget.

time = tokens / (tokens/s);  chip_hours = chips · time / 3600;
cost = chip_hours · price per chip-hour of the cheapest instance of that chip under the
asked price term (on-demand by default; the next priced term when that one has no price, and
the result says which); energy = chips · TDP · time, J (chip power only:
no host, network or facility PUE; None where the catalog has no TDP).
"""

from __future__ import annotations

from xpuplan.catalog.registry import HardwareCatalog
from xpuplan.specs.hardware import ChipSpec
from xpuplan.train.result import RunCost


def training_run_cost(tokens: float, tokens_per_s: float, n_chips: int, chip: ChipSpec,
                      catalog: HardwareCatalog, term: str = "on_demand",
                      usd_per_chip_hour: float | None = None, fallback: bool = True) -> RunCost:
    """Time, chip-hours, cost and energy of training on `tokens` tokens (see module doc).
    `usd_per_chip_hour` overrides the catalog; `fallback=False` prices under `term` only."""
    seconds = tokens / tokens_per_s
    chip_hours = n_chips * seconds / 3600
    instance = None
    if usd_per_chip_hour is not None:
        term = "given"
    else:
        system = chip.system.id if chip.system else None
        if fallback:
            found = catalog.price_for(chip.id, term, system)
        else:
            cheapest = catalog.cheapest_instance(chip.id, term, system)
            found = (cheapest, term) if cheapest is not None else None
        if found is not None:
            instance, term = found
            usd_per_chip_s = instance.usd_per_chip_s(term)
            assert usd_per_chip_s is not None  # the catalog hands out priced instances only
            usd_per_chip_hour = usd_per_chip_s * 3600
    return RunCost(
        tokens=tokens, time_to_train_s=seconds, chip_hours=chip_hours,
        usd_per_chip_hour=usd_per_chip_hour,
        cost_usd=None if usd_per_chip_hour is None else chip_hours * usd_per_chip_hour,
        price_term=term, instance=instance.id if instance else None,
        price_source=(instance.sources.get(f"{term}_usd_per_s", instance.source)
                      if instance else "given" if term == "given" else None),
        energy_j=None if chip.tdp_w is None else n_chips * chip.tdp_w * seconds,
    )
