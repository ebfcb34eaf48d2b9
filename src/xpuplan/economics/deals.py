"""Investment-for-compute deals, owned-versus-bought cost, and spend forecasts.

Investment: the investor pays I at t = 0; the investee buys C of its compute evenly over T
years. Investee net = I − Σ C/T·(1+r)^−t; investor net = −I + Σ m·C/T·(1+r)^−t (gross
profit at margin m). Effective discount on compute = PV(I) / PV(C).
Owned cost: $/chip-hour = (capex/life + facility capex/life + energy) / 8766 h per chip, with
capex from an all-in $/GW (× the chip's share of a GW: IT watts × PUE) when given, else the
system's price plus the facility's $/MW; per training token = $/chip-hour · chip-hours/token.
Forecast: FLOP demand ×g per year, FLOP per $ doubling every d years, so spend_y =
spend_0 · g^y / 2^(y/d) and chips held_y = chips_0 · g^y (same chip, same efficiency).
"""

from __future__ import annotations

import numpy as np

from xpuplan.catalog.economics import HOURS_PER_YEAR, economics_record
from xpuplan.economics.context import DEFAULT_RUN_CHIPS, PlanContext, quantiles, samples
from xpuplan.economics.fleets import require_published
from xpuplan.economics.scenario import Investment, SpendForecast, TcoCompare
from xpuplan.errors import SpecError
from xpuplan.units import fmt_si, fmt_usd


def investment(ctx: PlanContext, s: Investment) -> dict:
    years = np.arange(0, int(np.ceil(s.years)) + 1)
    yearly = np.where(years >= 1, np.minimum(1.0, s.years - (years - 1)), 0.0)
    purchases = s.commitment_usd / s.years * np.clip(yearly, 0, 1)  # (n_years,)
    disc = (1 + s.discount_rate) ** -years.astype(float)
    investee = np.where(years == 0, s.investment_usd, 0.0) - purchases
    investor_revenue = purchases
    investor = np.where(years == 0, -s.investment_usd, 0.0) + s.investor_gross_margin * purchases
    pv_c = float((purchases * disc).sum())
    out = {"investment_usd": s.investment_usd, "commitment_usd": s.commitment_usd,
           "years": s.years, "effective_discount": s.investment_usd / pv_c,
           "investee_npv_usd": float((investee * disc).sum()),
           "investor_npv_usd": float((investor * disc).sum()),
           "investor_revenue_usd": float(investor_revenue.sum()),
           "cash_flows": [{"year": int(y), "investee_usd": float(a), "investor_usd": float(b),
                           "purchases_usd": float(c)}
                          for y, a, b, c in zip(years, investee, investor, purchases,
                                                strict=True)]}
    lines = [f"{s.investor} invests {fmt_usd(s.investment_usd)}; {s.investee} buys "
             f"{fmt_usd(s.commitment_usd)} over {s.years:g} y = "
             f"{fmt_usd(s.commitment_usd / s.years)}/yr",
             f"PV of purchases at {s.discount_rate:.0%} = {fmt_usd(pv_c)}; effective discount "
             f"= PV(I)/PV(C) = {out['effective_discount']:.1%}",
             f"{s.investor} gross profit at {s.investor_gross_margin:.0%} margin = "
             f"{fmt_usd(s.investor_gross_margin * s.commitment_usd)}; its NPV "
             f"{fmt_usd(out['investor_npv_usd'])}"]
    if s.usd_per_gw:
        out["gw_bought"] = s.commitment_usd / s.usd_per_gw
        lines.append(f"C buys {out['gw_bought']:.1f} GW at {fmt_usd(s.usd_per_gw)}/GW")
    if s.list_usd_per_chip_hour and s.alternative_usd_per_chip_hour:
        own = s.commitment_usd / s.list_usd_per_chip_hour
        net = (s.commitment_usd - s.investment_usd) / s.alternative_usd_per_chip_hour
        out.update({"chip_hours_from_investor": own, "chip_hours_elsewhere_for_net": net})
        lines.append(f"C at list buys {fmt_si(own)} chip-h; the net outlay C − I elsewhere "
                     f"buys {fmt_si(net)} chip-h")
    return {"outputs": out, "explain": lines, "interval": {}}


def tco_compare(ctx: PlanContext, s: TcoCompare) -> dict:
    fac = economics_record("facility", s.facility)
    require_published(fac, ("pue", "electricity_usd_per_kwh", "depreciation_years_systems"))
    life_sys = fac.depreciation_years_systems
    life_fac = fac.depreciation_years_facility or s.facility_life_years
    rows, lines = [], []
    for opt in s.options:
        chip = ctx.catalog.chip(opt.chip)
        sys_ = economics_record("system", opt.system) if opt.system else None
        if sys_ is not None and sys_.power_kw is not None:
            watts_per_chip = sys_.power_w / sys_.chips  # IT watts per chip, system share
        elif chip.tdp_w is not None:
            watts_per_chip = chip.tdp_w
        else:
            raise SpecError(f"{opt.label}.system", opt.system,
                            f"no published power for {chip.id}: give a system with power_kw")
        if not opt.usd_per_gw and sys_ is not None and sys_.capex_usd is not None:
            require_published(fac, ("capex_usd_per_mw",))
            capex_per_chip = sys_.capex_usd / sys_.chips
            facility_per_chip = fac.capex_usd_per_w * watts_per_chip
            basis = f"{sys_.id}: {fmt_usd(sys_.capex_usd)} / {sys_.chips} chips"
        elif opt.usd_per_gw:
            # All-in $/GW of facility power includes the building: per chip, its share of
            # the GW is IT watts x PUE.
            capex_per_chip = opt.usd_per_gw * watts_per_chip * fac.pue / 1e9
            facility_per_chip = 0.0
            basis = (f"{fmt_usd(opt.usd_per_gw)}/GW all-in x {watts_per_chip:,.0f} W x "
                     f"PUE {fac.pue:g}")
        else:
            raise SpecError(opt.label, None, "give a system with capex_usd, or usd_per_gw")
        energy = (watts_per_chip * s.utilization * fac.pue * 3600 * HOURS_PER_YEAR
                  * fac.electricity_usd_per_j)
        annual = capex_per_chip / life_sys + (facility_per_chip / life_fac if life_fac else 0.0) \
            + energy
        per_hour = annual / HOURS_PER_YEAR
        run = ctx.train(s.training, chip.id, s.training.chips or DEFAULT_RUN_CHIPS)
        tokens_per_chip_hour = s.training.tokens / run.run["chip_hours"]
        usd_per_mtok = per_hour / tokens_per_chip_hour * 1e6
        row = {"label": opt.label, "chip": chip.id, "owned_usd_per_chip_hour": per_hour,
               "training_tokens_per_chip_hour": tokens_per_chip_hour,
               "owned_usd_per_mtok_trained": usd_per_mtok, "mfu": run.mfu, "basis": basis}
        if opt.list_usd_per_chip_hour:
            row["list_usd_per_chip_hour"] = opt.list_usd_per_chip_hour
            row["gross_margin_at_list"] = 1 - per_hour / opt.list_usd_per_chip_hour
        draw = samples(s.spreads, ctx.efficiency_sd(chip.id), ctx.seed + len(rows))
        u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
        # Capex varies with the price draw; energy with utilisation; tokens with efficiency.
        annual_mc = (capex_per_chip / life_sys + (facility_per_chip / life_fac if life_fac
                                                   else 0.0)) * draw["price"] + energy * u / (
            s.utilization)
        row["owned_usd_per_mtok_trained_p10_p50_p90"] = quantiles(
            annual_mc / HOURS_PER_YEAR / (tokens_per_chip_hour * draw["efficiency"]) * 1e6)
        rows.append(row)
        lines.append(f"{opt.label}: ({basis}; life {life_sys:g} y) -> "
                     f"{fmt_usd(per_hour)}/chip-h owned; {tokens_per_chip_hour:,.0f} training "
                     f"tokens/chip-h (MFU {run.mfu:.0%}) -> {fmt_usd(usd_per_mtok)} per M tokens")
    best = min(rows, key=lambda r: r["owned_usd_per_mtok_trained"])
    return {"outputs": {"options": rows, "cheapest_per_token": best["label"]},
            "explain": lines, "interval": {}}


def spend_forecast(ctx: PlanContext, s: SpendForecast) -> dict:
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
    return {"outputs": {"years": table, "total_spend_usd": float(spend.sum())},
            "explain": lines, "interval": {}}
