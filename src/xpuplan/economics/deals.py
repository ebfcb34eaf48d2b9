"""Owned-versus-bought cost and spend forecasts (deals: economics/investment.py).

Owned cost: $/chip-hour from economics/owned.py (annuity at the cost of capital), with capex
from an all-in $/GW (× the chip's share of a GW: IT watts × PUE) when given, else the
system's price plus network, storage and the facility's $/MW; per training token =
$/chip-hour · chip-hours/token.
Forecast: FLOP demand ×g per year, FLOP per $ doubling every d years, so spend_y =
spend_0 · g^y / 2^(y/d) and chips held_y = chips_0 · g^y (same chip, same efficiency).
"""

from __future__ import annotations

import numpy as np

from xpuplan.catalog.economics import HOURS_PER_YEAR, Facility, OwnedCostBasis, OwnedSystem
from xpuplan.economics.context import (
    DEFAULT_RUN_CHIPS,
    PlanAnswer,
    PlanContext,
    quantiles,
    run_chip_hours,
    samples,
)
from xpuplan.economics.fleets import finance_basis, published, require_published
from xpuplan.economics.owned import margins, owned_cost, owned_inputs
from xpuplan.economics.scenario import SpendForecast, TcoCompare, TcoOption
from xpuplan.errors import SpecError
from xpuplan.specs.hardware import ChipSpec
from xpuplan.units import fmt_usd


def tco_compare(ctx: PlanContext, s: TcoCompare) -> PlanAnswer:
    """Owned cost of each option, USD per chip-hour and per million tokens trained."""
    fac = ctx.econ.record("facility", s.facility)
    require_published(fac, ("pue", "electricity_usd_per_kwh", "depreciation_years_systems"))
    basis, rate, rate_source = finance_basis(ctx, s)
    reported = ctx.econ.record("reported_margin", s.reported_margin)
    rows: list[dict] = []
    lines = [f"capital recovered as an annuity at {rate:.1%} ({rate_source}); "
                       f"network {basis.network_capex_fraction:.1%}, storage "
                       f"{basis.storage_capex_fraction:.1%} of rack capex; non-power opex "
                       f"{fmt_usd(basis.non_power_opex_usd_per_kw_year)}/kW-yr "
                       f"(owned_cost {basis.id})"]
    for opt in s.options:
        row, option_lines = _tco_option(ctx, s, opt, fac, basis, rate, ctx.seed + len(rows))
        rows.append(row)
        lines += option_lines
    best = min(rows, key=lambda r: r["owned_usd_per_mtok_trained"])
    if any("margins" in r for r in rows):
        lines.append(f"compare: {reported.id} reported gross margin {reported.gross_margin:.0%}"
                     f" ({reported.definition})")
    return PlanAnswer(outputs={
        "options": rows, "cheapest_per_token": best["label"], "cost_of_capital": rate,
        "cost_of_capital_source": rate_source,
        "non_power_opex_usd_per_kw_year": basis.non_power_opex_usd_per_kw_year,
        "reported_margin": {"id": reported.id, "value": reported.gross_margin,
                            "definition": reported.definition}}, explain=lines)


def _tco_option(ctx: PlanContext, s: TcoCompare, opt: TcoOption, fac: Facility,
                basis: OwnedCostBasis, rate: float, seed: int) -> tuple[dict, list[str]]:
    """One option's row and explain lines: owned $/chip-hour, training tokens per chip-hour
    (training model) and their ratio, $/M tokens, with its P10-P90 from draws at `seed`."""
    chip = ctx.catalog.chip(opt.chip)
    sys_ = ctx.econ.record("system", opt.system) if opt.system else None
    watts_per_chip = _it_watts_per_chip(opt, chip, sys_)
    capex_per_chip, all_in, basis_text = _capex_per_chip(opt, fac, sys_, watts_per_chip)
    x = owned_inputs(fac, basis, rate, capex_per_chip, watts_per_chip, s.utilization,
                     s.sell_through, s.facility_life_years, all_in=all_in,
                     includes=sys_.includes if sys_ is not None else ())
    owned = owned_cost(x)
    per_hour = owned["usd_per_chip_hour_held"]
    run = ctx.train(s.training, chip.id, s.training.chips or DEFAULT_RUN_CHIPS)
    tokens_per_chip_hour = s.training.tokens / run_chip_hours(run)
    usd_per_mtok = per_hour / tokens_per_chip_hour * 1e6
    row = {"label": opt.label, "chip": chip.id, "capex_per_chip_usd": capex_per_chip,
           "rack_capex_usd": sys_.capex_usd if sys_ is not None and not all_in else None,
           "usd_per_gw": opt.usd_per_gw, "owned_usd_per_chip_hour": per_hour,
           "owned_usd_per_sold_chip_hour": owned["usd_per_chip_hour_sold"],
           "straight_line_usd_per_chip_hour": owned["straight_line_usd_per_chip_hour"],
           "breakdown_usd_per_chip_year": owned["breakdown_usd_per_chip_year"],
           "training_tokens_per_chip_hour": tokens_per_chip_hour,
           "owned_usd_per_mtok_trained": usd_per_mtok, "mfu": run.mfu, "basis": basis_text}
    if opt.list_usd_per_chip_hour:
        row["list_usd_per_chip_hour"] = opt.list_usd_per_chip_hour
        row["margins"] = margins(owned, opt.list_usd_per_chip_hour, s.sell_through)
    row["owned_usd_per_mtok_trained_p10_p50_p90"] = _usd_per_mtok_interval(
        ctx, s, chip.id, owned, tokens_per_chip_hour, seed)
    return row, _tco_option_lines(opt, sys_, all_in, x.life_systems_years, row)


def _it_watts_per_chip(opt: TcoOption, chip: ChipSpec, sys_: OwnedSystem | None) -> float:
    """IT watts per chip: its share of the system's published power, else the chip's TDP."""
    if sys_ is not None and sys_.power_kw is not None:
        return published(sys_, "power_w") / sys_.chips  # IT W per chip, its share
    if chip.tdp_w is not None:
        return chip.tdp_w
    raise SpecError(f"{opt.label}.system", opt.system,
                    f"no published power for {chip.id}: give a system with power_kw")


def _capex_per_chip(opt: TcoOption, fac: Facility, sys_: OwnedSystem | None,
                    watts_per_chip: float) -> tuple[float, bool, str]:
    """(capex per chip in USD, whether it is all-in, how it was found): the system's price
    per chip, else the chip's share of an all-in $/GW."""
    if not opt.usd_per_gw and sys_ is not None and sys_.capex_usd is not None:
        require_published(fac, ("capex_usd_per_mw",))
        return (sys_.capex_usd / sys_.chips, False,
                f"{sys_.id}: {fmt_usd(sys_.capex_usd)} / {sys_.chips} chips")
    if opt.usd_per_gw:
        # All-in $/GW of facility power includes the building, network and storage: per
        # chip, its share of the GW is IT watts x PUE.
        capex_per_chip = opt.usd_per_gw * watts_per_chip * published(fac, "pue") / 1e9
        return (capex_per_chip, True, f"{fmt_usd(opt.usd_per_gw)}/GW all-in x "
                f"{watts_per_chip:,.0f} W x PUE {fac.pue:g}")
    raise SpecError(opt.label, None, "give a system with capex_usd, or usd_per_gw")


def _usd_per_mtok_interval(ctx: PlanContext, s: TcoCompare, chip_id: str, owned: dict,
                           tokens_per_chip_hour: float, seed: int) -> list[float]:
    """P10/P50/P90 of owned USD per million training tokens over the scenario's draws."""
    draw = samples(s.spreads, ctx.efficiency_sd(chip_id), seed)
    u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
    # Capital varies with the price draw; energy with utilisation; tokens with efficiency.
    parts = owned["breakdown_usd_per_chip_year"]
    capital = sum(v for k, v in parts.items() if k.startswith("capital/"))
    annual_mc = capital * draw["price"] + parts["opex/energy"] * u / s.utilization \
        + parts["opex/non_power"]
    return quantiles(
        annual_mc / HOURS_PER_YEAR / (tokens_per_chip_hour * draw["efficiency"]) * 1e6)


def _tco_option_lines(opt: TcoOption, sys_: OwnedSystem | None, all_in: bool,
                      life_years: float, row: dict) -> list[str]:
    """The explain lines of one option's row: its basis and chain of figures, its margins."""
    basis_text = row["basis"]
    held = ", ".join(sys_.includes) if sys_ is not None and sys_.includes else ""
    if all_in:
        basis_text += "; network, storage and facility in the $/GW"
    elif held:
        basis_text += f"; {held} in the system price"
    lines = [f"{opt.label}: ({basis_text}; life {life_years:g} y) -> "
             f"{fmt_usd(row['owned_usd_per_chip_hour'])}/chip-h owned (straight-line "
             f"{fmt_usd(row['straight_line_usd_per_chip_hour'])}); "
             f"{row['training_tokens_per_chip_hour']:,.0f} training tokens/chip-h "
             f"(MFU {row['mfu']:.0%}) -> {fmt_usd(row['owned_usd_per_mtok_trained'])} per M "
             "tokens"]
    if opt.list_usd_per_chip_hour:  # then row has its margins
        for key, m in row["margins"].items():
            lines.append(f"{opt.label}: {key} = {m['value']:.1%} at list "
                         f"{fmt_usd(opt.list_usd_per_chip_hour)}/chip-h ({m['definition']})")
    return lines


def spend_forecast(ctx: PlanContext, s: SpendForecast) -> PlanAnswer:
    """Yearly equivalent chips, spend (USD) and delivered FLOP of a demand forecast."""
    price, source = ctx.price(s.chip, "on_demand", s.usd_per_chip_hour)
    y = np.arange(s.years)
    chips = s.base_chips * s.demand_growth_per_year ** y
    spend = chips * HOURS_PER_YEAR * price * 2.0 ** (-y / s.flop_per_usd_doubling_years)
    peak = ctx.catalog.chip(s.chip).dense_flops("bf16")
    flop = chips * HOURS_PER_YEAR * 3600 * peak * s.utilization
    table = [{"year": s.start_year + int(i), "equivalent_chips": float(c), "spend_usd": float(d),
              "delivered_flop": float(f)} for i, c, d, f in zip(y, chips, spend, flop,
                                                                strict=True)]
    lines = [f"year 0: {s.base_chips:,.0f} {s.chip}-equivalents x 8,766 h x "
             f"{fmt_usd(price)}/chip-h ({source}) = {fmt_usd(spend[0])}",
             f"each year: demand x{s.demand_growth_per_year:g}, cost per FLOP / "
             f"2^(1/{s.flop_per_usd_doubling_years:g}) -> spend x"
             f"{s.demand_growth_per_year * 2 ** (-1 / s.flop_per_usd_doubling_years):.2f}/yr",
             f"total over {s.years} years: {fmt_usd(spend.sum())}"]
    return PlanAnswer(outputs={"years": table, "total_spend_usd": float(spend.sum()),
                               "usd_per_chip_hour": price, "price_source": source},
                      explain=lines)
