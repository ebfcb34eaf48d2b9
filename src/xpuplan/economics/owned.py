"""Owned cost of one chip as a finance team computes it, USD per chip-year and chip-hour.

Capital is recovered as an annuity, not straight-line depreciation:
  CRF(r, n) = r·(1+r)^n / ((1+r)^n − 1)   (capital recovery factor; CRF(0, n) = 1/n)
  (Brealey, Myers & Allen, Principles of Corporate Finance, ch. 2 "annuities"; NREL, Short,
  Packey & Holt, "A Manual for the Economic Evaluation of Energy Efficiency and Renewable
  Energy Technologies", NREL/TP-462-5173, 1995, eq. 4-4.)
Per chip-year:
  capital/systems  = rack capex per chip · CRF(r, n_IT)
  capital/network  = rack capex per chip · f_net · CRF(r, n_IT)    (scale-out fabric)
  capital/storage  = rack capex per chip · f_sto · CRF(r, n_IT)
  capital/facility = facility $/W · IT W · CRF(r, n_facility)
  opex/energy      = IT W · u · PUE · 8766 h · $/kWh
  opex/non_power   = IT kW · $/kW-year (staff, maintenance, insurance, tax)
$/chip-hour held = Σ / 8766;  $/chip-hour sold = Σ / (8766 · sell-through).
Margins, each with its definition (`MARGIN_DEFINITIONS`), against a rental price p:
  margin/price_over_owned_cost = 1 − ($/chip-hour held) / p       (every hour sold)
  margin/gross_at_sell_through = 1 − Σ / (p · 8766 · sell-through)
Neglects taxes, residual value, working capital and price changes over the life.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOURS_PER_YEAR = 8766.0  # 365.25 days

MARGIN_DEFINITIONS = {
    "margin/price_over_owned_cost": "1 - owned cost per chip-hour held / rental price: the "
    "share of the price left if every hour is sold at that price (no idle hours)",
    "margin/gross_at_sell_through": "1 - owned cost per chip-year / (rental price x 8,766 h x "
    "sell-through): gross margin when only the sold share of hours earns the price",
}


def capital_recovery_factor(rate: float, years: float) -> float:
    """Capital recovery factor, 1/year: the level yearly payment that repays 1 at rate r.

    r·(1+r)^n / ((1+r)^n − 1)  (NREL/TP-462-5173 eq. 4-4); 1/n when r = 0.

    >>> round(capital_recovery_factor(0.08, 5), 4)
    0.2505
    >>> capital_recovery_factor(0.0, 4)
    0.25
    """
    if rate == 0:
        return 1.0 / years
    growth_less_one = math.expm1(years * math.log1p(rate))  # (1+r)^n − 1, exact for tiny r
    return rate * (growth_less_one + 1) / growth_less_one


@dataclass(frozen=True)
class OwnedInputs:
    """Everything the owned cost of one chip needs, in SI or the unit in the name."""

    rack_capex_per_chip_usd: float
    it_watts_per_chip: float
    pue: float
    electricity_usd_per_kwh: float
    facility_usd_per_w: float  # 0 when the capex is an all-in figure
    life_systems_years: float
    life_facility_years: float
    cost_of_capital: float
    network_capex_fraction: float  # 0 when the capex already holds the network
    storage_capex_fraction: float
    non_power_opex_usd_per_kw_year: float
    utilization: float  # fraction of hours the chip draws full power
    sell_through: float  # fraction of hours sold


def owned_cost(x: OwnedInputs) -> dict:
    """Breakdown per chip-year (slash keys that sum to `total_usd_per_chip_year`), per
    chip-hour held and sold, and the straight-line figure for comparison (module doc)."""
    crf_it = capital_recovery_factor(x.cost_of_capital, x.life_systems_years)
    crf_fac = capital_recovery_factor(x.cost_of_capital, x.life_facility_years)
    capex = x.rack_capex_per_chip_usd
    kw = x.it_watts_per_chip / 1e3
    parts = {
        "capital/systems": capex * crf_it,
        "capital/network": capex * x.network_capex_fraction * crf_it,
        "capital/storage": capex * x.storage_capex_fraction * crf_it,
        "capital/facility": x.facility_usd_per_w * x.it_watts_per_chip * crf_fac,
        "opex/energy": kw * x.utilization * x.pue * HOURS_PER_YEAR * x.electricity_usd_per_kwh,
        "opex/non_power": kw * x.non_power_opex_usd_per_kw_year,
    }
    total = sum(parts.values())
    straight = (capex * (1 + x.network_capex_fraction + x.storage_capex_fraction)
                / x.life_systems_years + x.facility_usd_per_w * x.it_watts_per_chip
                / x.life_facility_years + parts["opex/energy"] + parts["opex/non_power"])
    return {"breakdown_usd_per_chip_year": parts, "total_usd_per_chip_year": total,
            "capital_recovery_factor_systems": crf_it,
            "capital_recovery_factor_facility": crf_fac,
            "usd_per_chip_hour_held": total / HOURS_PER_YEAR,
            "usd_per_chip_hour_sold": total / (HOURS_PER_YEAR * x.sell_through),
            "straight_line_usd_per_chip_hour": straight / HOURS_PER_YEAR}


def margins(owned: dict, price_usd_per_chip_hour: float, sell_through: float) -> dict:
    """The two named margins of the module doc, each with its definition."""
    held = owned["usd_per_chip_hour_held"]
    values = {"margin/price_over_owned_cost": 1 - held / price_usd_per_chip_hour,
              "margin/gross_at_sell_through":
                  1 - owned["total_usd_per_chip_year"] / (price_usd_per_chip_hour
                                                          * HOURS_PER_YEAR * sell_through)}
    return {k: {"value": v, "definition": MARGIN_DEFINITIONS[k]} for k, v in values.items()}


def owned_inputs(fac, basis, rate: float, rack_capex_per_chip_usd: float,
                 it_watts_per_chip: float, utilization: float, sell_through: float,
                 facility_life_years: float | None = None, all_in: bool = False,
                 includes: tuple[str, ...] = (), facility_scale: float = 1.0) -> OwnedInputs:
    """OwnedInputs from a facility record, an owned-cost basis record and a rate. `all_in`:
    the capex already holds facility, network and storage (a published $/GW); `includes`:
    the parts ("network", "storage") a system's published price already holds;
    `facility_scale`: facility watts built per IT watt installed (≥ 1 when a power envelope
    is not filled to the last watt)."""
    return OwnedInputs(
        rack_capex_per_chip_usd=rack_capex_per_chip_usd, it_watts_per_chip=it_watts_per_chip,
        pue=fac.pue, electricity_usd_per_kwh=fac.electricity_usd_per_kwh,
        facility_usd_per_w=0.0 if all_in else fac.capex_usd_per_w * facility_scale,
        life_systems_years=fac.depreciation_years_systems,
        life_facility_years=(facility_life_years or fac.depreciation_years_facility
                             or basis.facility_life_years),
        cost_of_capital=rate,
        network_capex_fraction=0.0 if all_in or "network" in includes
        else basis.network_capex_fraction,
        storage_capex_fraction=0.0 if all_in or "storage" in includes
        else basis.storage_capex_fraction,
        non_power_opex_usd_per_kw_year=basis.non_power_opex_usd_per_kw_year,
        utilization=utilization, sell_through=sell_through)
