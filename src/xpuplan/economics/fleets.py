"""Contracts and power budgets: what a budget or a GW of facility power buys and delivers.

Contract (cloud):  chip_hours = budget / (price·(1 − discount));  avg_chips = chip_hours /
  (years · 8766 h);  delivered FLOP = chip_hours · 3600 · P_bf16 · u;  training runs =
  chip_hours · u / run chip-hours;  tokens/day = avg_chips · u · tokens/s/chip · 86400.
Power budget (owned):  IT power = GW / PUE;  systems = ⌊IT power / system kW⌋;  capex =
  systems · price · (1 + f_net + f_storage) + facility $/MW · IT MW;  annual cost = chips ·
  the owned cost per chip-year of economics/owned.py (capital recovered as an annuity at the
  cost of capital, energy at IT power · u · PUE · 8766 h · $/kWh, non-power opex per kW).
Throughputs come from the training and inference models through the PlanContext; P10-P90
come from vectorised draws of price, efficiency and utilisation (plan.context.samples).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from xpuplan.catalog.economics import HOURS_PER_YEAR, _Record
from xpuplan.economics.context import (
    MAX_RUN_CHIPS,
    SECONDS_PER_DAY,
    PlanAnswer,
    PlanContext,
    ServeRate,
    TrainRun,
    pow2_floor,
    quantiles,
    run_chip_hours,
    samples,
)
from xpuplan.economics.owned import owned_cost, owned_inputs
from xpuplan.economics.scenario import Contract, PowerBudget
from xpuplan.errors import SpecError
from xpuplan.units import fmt_si, fmt_usd


class Workloads(NamedTuple):
    """Training run and serving rate on one chip (None where the scenario has none)."""

    run: TrainRun | None
    serve: ServeRate | None


def _workloads(ctx: PlanContext, s: Contract | PowerBudget, chip: str,
               fleet_chips: float) -> Workloads:
    """Training run and serving rate on this chip (None where the scenario has none)."""
    run = serve = None
    if s.training is not None:
        chips = s.training.chips or min(pow2_floor(fleet_chips), MAX_RUN_CHIPS)
        run = ctx.train(s.training, chip, chips)
    if s.serving is not None:
        serve = ctx.serve(s.serving, chip)
    return Workloads(run, serve)


def contract(ctx: PlanContext, s: Contract) -> PlanAnswer:
    """Chip-hours, fleet, FLOP, runs and tokens/day a contract budget buys."""
    chip = ctx.catalog.chip(s.chip)
    list_price, price_source = ctx.price(chip.id, s.price_term, s.usd_per_chip_hour)
    price = list_price * (1 - s.discount)
    chip_hours = s.budget_usd / price
    if chip_hours < 1:
        raise SpecError("budget_usd", s.budget_usd, f"buys {chip_hours:.2f} chip-hours of "
                        f"{chip.id} at {fmt_usd(price)}/chip-h: less than one")
    avg_chips = chip_hours / (s.years * HOURS_PER_YEAR)
    # Delivery ramp: the fleet of year y is proportional to ramp_y (flat when not given), so
    # chips_y = chip-hours · ramp_y / Σ ramp / 8766 h and the peak is the largest year's.
    ramp = np.asarray(s.delivery_ramp or [1.0] * int(np.ceil(s.years)), dtype=float)
    chips_by_year = chip_hours * ramp / ramp.sum() / HOURS_PER_YEAR
    peak = chip.dense_flops("bf16")
    delivered = chip_hours * 3600 * peak * s.utilization
    w = _workloads(ctx, s, chip.id, avg_chips)
    out: dict[str, Any] = {"budget_usd": s.budget_usd, "years": s.years, "chip": chip.id,
           "usd_per_chip_hour": price, "list_usd_per_chip_hour": list_price,
           "price_source": price_source, "chip_hours": chip_hours, "avg_chips": avg_chips,
           "peak_chips": float(chips_by_year.max()),
           "chips_by_year": [{"year": i + 1, "n_chips": float(c)}
                             for i, c in enumerate(chips_by_year)],
           "delivered_flop": delivered, "training_runs": None, "serving_tokens_per_day": None}
    lines = [
        f"price {fmt_usd(list_price)}/chip-h from {price_source}, less {s.discount:.0%} "
        f"discount = {fmt_usd(price)}/chip-h",
        f"chip-hours = {fmt_usd(s.budget_usd)} / {fmt_usd(price)} = {fmt_si(chip_hours)}",
        f"average chips held = {fmt_si(chip_hours)} / ({s.years:g} y x 8,766 h) = "
        f"{avg_chips:,.0f}; peak {out['peak_chips']:,.0f} in the largest year of the "
        f"delivery ramp" + ("" if s.delivery_ramp else " (flat: none given)"),
        f"delivered FLOP = chip-hours x 3,600 s x {fmt_si(peak, 'FLOP/s')} (dense BF16) x "
        f"{s.utilization:.0%} utilisation = {fmt_si(delivered, 'FLOP')}",
    ]
    draw = samples(s.spreads, ctx.efficiency_sd(chip.id), ctx.seed)
    u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
    hours_mc = s.budget_usd / (price * draw["price"])
    interval = {"chip_hours": quantiles(hours_mc)}
    if w.run is not None and s.training is not None:
        run_hours = run_chip_hours(w.run)
        out["training_runs"] = chip_hours * s.utilization / run_hours
        out["training_run"] = _run_summary(w.run)
        lines.append(f"one run of {s.training.model} ({fmt_si(s.training.tokens)} tokens) on "
                     f"{w.run.n_chips:,} chips = {fmt_si(run_hours)} chip-hours "
                     f"(MFU {w.run.mfu:.0%}) -> {out['training_runs']:.1f} runs")
        interval["training_runs"] = quantiles(hours_mc * u * draw["efficiency"] / run_hours)
    if w.serve is not None and s.serving is not None:
        rate = w.serve.output_tokens_per_s_per_chip
        out["serving_tokens_per_day"] = avg_chips * s.utilization * rate * SECONDS_PER_DAY
        out["serving"] = _serve_summary(w.serve)
        lines.append(f"serving {s.serving.model}: {rate:,.0f} output tokens/s per chip x "
                     f"{avg_chips:,.0f} chips x {s.utilization:.0%} x 86,400 s = "
                     f"{fmt_si(out['serving_tokens_per_day'])} tokens/day")
        interval["serving_tokens_per_day"] = quantiles(
            hours_mc / (s.years * HOURS_PER_YEAR) * u * rate * draw["efficiency"]
            * SECONDS_PER_DAY)
    return PlanAnswer(outputs=out, explain=lines, interval=interval)


def power_budget(ctx: PlanContext, s: PowerBudget) -> PlanAnswer:
    """Systems, chips, capex (USD) and yearly cost a facility power budget holds."""
    sys_ = ctx.econ.record("system", s.system)
    fac = ctx.econ.record("facility", s.facility)
    require_published(sys_, ("power_kw", "capex_usd"))
    require_published(fac, ("pue", "capex_usd_per_mw", "electricity_usd_per_kwh",
                            "depreciation_years_systems"))
    power_kw, capex_usd, power_w = (published(sys_, k) for k in ("power_kw", "capex_usd",
                                                                 "power_w"))
    pue, capex_usd_per_w = published(fac, "pue"), published(fac, "capex_usd_per_w")
    capex_usd_per_mw = published(fac, "capex_usd_per_mw")
    usd_per_kwh = published(fac, "electricity_usd_per_kwh")
    chip = ctx.catalog.chip(sys_.chip)
    it_w = s.gw * 1e9 / pue
    systems = int(it_w // power_w)
    if systems < 1:
        raise SpecError("gw", s.gw, f"too small for one {sys_.id} ({power_kw:g} kW IT, "
                        f"{power_kw * pue / 1e6:.4f} GW with PUE {pue:g})")
    chips = systems * sys_.chips
    basis, rate, rate_source = finance_basis(ctx, s)
    x = owned_inputs(fac, basis, rate, capex_usd / sys_.chips, power_w / sys_.chips,
                     s.utilization, s.sell_through, s.facility_life_years,
                     includes=sys_.includes, facility_scale=it_w / (systems * power_w))
    owned = owned_cost(x)
    parts = {k: v * chips for k, v in owned["breakdown_usd_per_chip_year"].items()}
    capex_sys = systems * capex_usd
    capex_net = capex_sys * x.network_capex_fraction
    capex_sto = capex_sys * x.storage_capex_fraction
    capex_fac = capex_usd_per_w * it_w
    energy_yr = parts["opex/energy"]
    annual = owned["total_usd_per_chip_year"] * chips
    usd_per_chip_hour = owned["usd_per_chip_hour_held"]
    peak = chip.dense_flops("bf16")
    out = {"gw": s.gw, "system": sys_.id, "systems": systems, "n_chips": chips,
           "it_power_w": it_w, "peak_flop_per_s": chips * peak, "capex_systems_usd": capex_sys,
           "capex_network_usd": capex_net, "capex_storage_usd": capex_sto,
           "capex_facility_usd": capex_fac, "capex_usd": capex_sys + capex_net + capex_sto
           + capex_fac, "energy_usd_per_year": energy_yr,
           "rack_capex_usd": capex_usd, "rack_power_w": power_w, "pue": pue,
           "facility_capex_usd_per_mw": capex_usd_per_mw,
           "electricity_usd_per_kwh": usd_per_kwh,
           "cost_of_capital": rate, "cost_of_capital_source": rate_source,
           "annual_cost_breakdown_usd_per_year": parts, "annualised_usd_per_year": annual,
           "owned_usd_per_chip_hour": usd_per_chip_hour,
           "owned_usd_per_sold_chip_hour": owned["usd_per_chip_hour_sold"],
           "straight_line_usd_per_chip_hour": owned["straight_line_usd_per_chip_hour"],
           "training_runs_per_year": None, "serving_tokens_per_day": None}
    life_sys, life_fac = x.life_systems_years, x.life_facility_years
    lines = [
        f"IT power = {s.gw:g} GW / PUE {pue:g} = {it_w / 1e9:.3f} GW",
        f"systems = IT power / {power_kw:g} kW = {systems:,} {sys_.id} = {chips:,} chips",
        f"capex = {systems:,} x {fmt_usd(capex_usd)} racks + scale-out network "
        f"{x.network_capex_fraction:.1%} + storage {x.storage_capex_fraction:.1%} of racks + "
        f"{fmt_usd(capex_usd_per_mw)}/MW x {it_w / 1e6:,.0f} MW facility = "
        f"{fmt_usd(out['capex_usd'])}",
        f"capital recovered as an annuity at {rate:.1%} ({rate_source}): CRF "
        f"{owned['capital_recovery_factor_systems']:.4f}/yr over {life_sys:g} y (IT), "
        f"{owned['capital_recovery_factor_facility']:.4f}/yr over {life_fac:g} y (facility)",
        f"energy/yr = {it_w / 1e9:.3f} GW x {s.utilization:.0%} x PUE {pue:g} x 8,766 h x "
        f"${usd_per_kwh:g}/kWh = {fmt_usd(energy_yr)}",
        "annual cost = " + " + ".join(f"{k} {fmt_usd(v)}" for k, v in parts.items())
        + f" = {fmt_usd(annual)}/yr = {fmt_usd(usd_per_chip_hour)}/chip-h held "
        f"(straight-line depreciation, no cost of capital: "
        f"{fmt_usd(owned['straight_line_usd_per_chip_hour'])})",
    ]
    w = _workloads(ctx, s, chip.id, chips)
    draw = samples(s.spreads, ctx.efficiency_sd(chip.id), ctx.seed)
    u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
    capital = sum(v for k, v in parts.items() if k.startswith("capital/"))
    interval = {"annualised_usd_per_year": quantiles(
        capital * draw["price"] + energy_yr * u / s.utilization + parts["opex/non_power"])}
    if w.run is not None and s.training is not None:
        run_hours = run_chip_hours(w.run)
        out["training_runs_per_year"] = chips * s.utilization * HOURS_PER_YEAR / run_hours
        out["training_run"] = _run_summary(w.run)
        lines.append(f"runs/yr = {chips:,} chips x {s.utilization:.0%} x 8,766 h / "
                     f"{fmt_si(run_hours)} chip-h per run = {out['training_runs_per_year']:.1f}")
        interval["training_runs_per_year"] = quantiles(
            chips * u * HOURS_PER_YEAR * draw["efficiency"] / run_hours)
    if w.serve is not None and s.serving is not None:
        rate = w.serve.output_tokens_per_s_per_chip
        out["serving_tokens_per_day"] = chips * s.utilization * rate * SECONDS_PER_DAY
        out["serving"] = _serve_summary(w.serve)
        interval["serving_tokens_per_day"] = quantiles(
            chips * u * rate * draw["efficiency"] * SECONDS_PER_DAY)
    return PlanAnswer(outputs=out, explain=lines, interval=interval)


def finance_basis(ctx: PlanContext, s) -> tuple:
    """The owned-cost basis record, the cost of capital and where that rate comes from."""
    basis = ctx.econ.record("owned_cost", s.owned_cost)
    coc = s.cost_of_capital if s.cost_of_capital is not None else basis.cost_of_capital
    if isinstance(coc, str):
        rec = ctx.econ.record("cost_of_capital", coc)
        return basis, rec.rate, f"cost_of_capital {rec.id}, {rec.confidence}"
    if not 0 <= coc < 1:
        raise SpecError("cost_of_capital", coc, "a rate per year in [0, 1)")
    if "cost_of_capital" not in s.sources:
        raise SpecError("cost_of_capital", coc, "a rate given in the scenario needs a "
                        "sources.cost_of_capital entry (or name a cost_of_capital record)")
    return basis, float(coc), "scenario input"


def published(record: _Record, key: str) -> float:
    """A figure the economics record must publish, or SpecError naming it."""
    value = getattr(record, key)
    if value is None:
        raise SpecError(f"{record.id}.{key}", None, "not published in economics.toml; add "
                        "it with a source or pick another record")
    return float(value)


def require_published(record: _Record, keys: tuple[str, ...]) -> None:
    """SpecError naming the first figure the economics record does not publish."""
    for key in keys:
        published(record, key)


def _run_summary(r) -> dict:
    return {"model": r.model, "n_chips": r.n_chips, "mfu": r.mfu, "parallelism": r.parallelism,
            "time_to_train_s": r.run.time_to_train_s, "chip_hours": r.run.chip_hours}


def _serve_summary(r) -> dict:
    return {"model": r.model, "chips_per_replica": r.layout["chips_per_replica"],
            "output_tokens_per_s_per_chip": r.output_tokens_per_s_per_chip,
            "ttft_s": r.ttft_s, "tpot_s": r.tpot_s, "weights": r.weights}
