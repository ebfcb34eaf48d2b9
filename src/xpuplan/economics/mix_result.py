"""The vendor-mix answer: yearly table, NPV against staying put, payback, break-even
migration cost, shadow prices, price sensitivity, and an explanation made only from them.

Savings_y = cost of staying on the incumbents in year y − cost of the mix in year y (incl.
the migration paid that year); payback = the first time Σ_{y≤k} d_y·savings_y ≥ 0 (linear
within the year). Break-even migration cost M* = M + NPV savings / Σ_y d_y·m_y (the
migration cost at which adopting v saves nothing over the horizon).
"""

from __future__ import annotations

import numpy as np

from xpuplan.economics.context import (
    HOURS_PER_YEAR,
    PlanAnswer,
    PlanContext,
    quantiles,
    samples,
)
from xpuplan.economics.mix import (
    ONE_YEAR,
    Horizon,
    VendorRates,
    max_fraction,
    solve_mix,
    solver_errors,
    vendor_rates,
    yearly_costs,
)
from xpuplan.economics.scenario import VendorMix
from xpuplan.errors import InfeasibleError, SolverError
from xpuplan.units import fmt_usd

PRICE_STEPS = (0.8, 1.2)  # the sensitivity table moves each price ±20 %


def vendor_mix(ctx: PlanContext, s: VendorMix) -> PlanAnswer:
    """Least-cost vendor mix of a scenario, with its P10-P90 cost interval."""
    rates = vendor_rates(ctx, s)
    horizon = Horizon(s.horizon_years, s.discount_rate)
    with solver_errors():
        out = mix_result(rates, s.training_runs_per_year, s.serving_tokens_per_day, horizon)
    out.interval = mix_interval(ctx, s, rates, out.outputs)
    return out


def mix_interval(ctx: PlanContext, s: VendorMix, rates: list[VendorRates], o: dict) -> dict:
    """P10-P90 of the chosen mix's NPV cost when each vendor's price, efficiency and the
    utilisation vary: the chips needed scale as 1/(efficiency·utilisation) (vectorised)."""
    horizon = Horizon(s.horizon_years, s.discount_rate)
    total = np.zeros(s.spreads.samples)
    for i, v in enumerate(rates):
        draw = samples(s.spreads, ctx.efficiency_sd(v.chip), ctx.seed + i)
        u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
        scale = s.utilization / (u * draw["efficiency"])  # (n_samples,)
        for row in o["years"]:
            d = horizon.discount(row["year"])
            total += d * (row[f"{v.chip}_chips"] * scale * v.price * draw["price"]
                          * HOURS_PER_YEAR + row[f"{v.chip}_migration_usd"])
    return {"npv_cost_usd": quantiles(total)}


def _solve(rates, runs, tokens, horizon):
    best = solve_mix(rates, runs, tokens, horizon)
    if best["status"] == "Optimal":
        return best
    if best["status"] == "Infeasible":
        lam = max_fraction(rates, runs, tokens)
        raise InfeasibleError(f"demand exceeds capacity: at most {lam:.0%} of it can be met "
                              f"({1 - lam:.0%} short) with these capacities and share limits",
                              needed=1.0, available=lam)
    raise SolverError(best["status"])


def _payback(savings: np.ndarray, horizon: Horizon, migration_paid: float) -> tuple:
    """(years or None, status): status is 'no migration', 'pays back', 'not within the
    horizon' or 'never' (yearly savings ≤ 0 once the migration is paid)."""
    disc = np.array([horizon.discount(y) for y in range(1, horizon.years + 1)])
    cum = np.cumsum(disc * savings)
    if migration_paid <= 0:
        return None, "no migration"
    hit = np.flatnonzero(cum >= -1e-6)
    if hit.size:
        k = int(hit[0])
        before = cum[k - 1] if k else 0.0
        step = disc[k] * savings[k]
        return float(k + (-before / step if step > 0 else 0.0)), "pays back"
    return None, "not within the horizon" if savings[-1] > 0 else "never"


def mix_result(rates: list[VendorRates], runs: float, tokens: float,
               horizon: Horizon = ONE_YEAR) -> PlanAnswer:
    """Least-cost mix by year (chips, cost in USD) and its savings against the incumbents."""
    best = _solve(rates, runs, tokens, horizon)
    lp = solve_mix(rates, runs, tokens, horizon, fixed_adopt=dict(enumerate(best["adopt"])))
    cost_y = yearly_costs(rates, best, horizon)
    incumbents = {i: int(v.incumbent) for i, v in enumerate(rates)}
    stay = (solve_mix(rates, runs, tokens, horizon, fixed_adopt=incumbents, shares=False)
            if any(incumbents.values()) else {"status": "no incumbent"})
    stay_y = yearly_costs(rates, stay, horizon) if stay["status"] == "Optimal" else None
    disc = np.array([horizon.discount(y) for y in range(1, horizon.years + 1)])
    years = []
    cum = 0.0
    for k, y in enumerate(range(1, horizon.years + 1)):
        chips = np.add(best["train_chips"][k], best["serve_chips"][k])
        row: dict[str, float] = {"year": y}
        for c, v, a in zip(chips, rates, best["adopt"], strict=True):
            row[f"{v.chip}_chips"] = float(c)
            row[f"{v.chip}_share"] = float(c / chips.sum()) if chips.sum() else 0.0
            row[f"{v.chip}_migration_usd"] = a * v.migration_usd * v.migration_share(y)
        row["cost_usd"] = float(cost_y[k])
        if stay_y is not None:
            cum += float(disc[k] * (stay_y[k] - cost_y[k]))
            row.update({"staying_put_usd": float(stay_y[k]),
                        "savings_usd": float(stay_y[k] - cost_y[k]),
                        "cumulative_discounted_savings_usd": cum})
        for key, unit in (("train", 1.0), ("serve", 1e6)):
            if key in lp["duals"]:
                row[f"shadow_price_usd_per_{'run' if key == 'train' else 'mtok_per_day'}"] = (
                    lp["duals"][key][k] * unit)
        years.append(row)
    paid = sum(v.migration_usd * a for v, a in zip(rates, best["adopt"], strict=True))
    out = {"horizon_years": horizon.years, "discount_rate": horizon.discount_rate,
           "npv_cost_usd": best["objective"], "years": years,
           "vendors": _vendor_table(rates, best, horizon, years),
           "shadow_price_usd_per_run": years[0].get("shadow_price_usd_per_run"),
           "shadow_price_usd_per_mtok_per_day": years[0].get("shadow_price_usd_per_mtok_per_day"),
           "migration_paid_usd": paid, "staying_put_npv_usd": None, "npv_savings_usd": None,
           "payback_years": None, "payback_status": "no incumbent", "migration": []}
    if stay_y is not None:
        out["staying_put_npv_usd"] = stay["objective"]
        out["npv_savings_usd"] = stay["objective"] - best["objective"]
        out["payback_years"], out["payback_status"] = _payback(stay_y - cost_y, horizon, paid)
        out["migration"] = _break_even(rates, runs, tokens, horizon, best, stay["objective"])
    sensitivity = _sensitivity(rates, runs, tokens, horizon)
    return PlanAnswer(outputs=out, explain=mix_explain(out), sensitivity=sensitivity)


def _vendor_table(rates, best, horizon, years) -> list[dict]:
    rows = []
    for i, v in enumerate(rates):
        npv = sum(horizon.discount(r["year"]) * (r[f"{v.chip}_chips"] * v.price * HOURS_PER_YEAR
                                                 + r[f"{v.chip}_migration_usd"])
                  for r in years)
        rows.append({"chip": v.chip, "usd_per_chip_hour": v.price, "price_term": v.price_term,
                     "price_source": v.price_source, "adopted": bool(best["adopt"][i]),
                     "share_first_year": years[0][f"{v.chip}_share"],
                     "share_last_year": years[-1][f"{v.chip}_share"],
                     "chips_first_year": years[0][f"{v.chip}_chips"],
                     "migration_usd": v.migration_usd * best["adopt"][i], "npv_usd": npv})
    return rows


def _break_even(rates, runs, tokens, horizon, best, stay_npv) -> list[dict]:
    """Per vendor with a migration cost: NPV savings if adopted and M* (module doc)."""
    out = []
    for i, v in enumerate(rates):
        if v.migration_usd <= 0 or v.incumbent:
            continue
        forced = solve_mix(rates, runs, tokens, horizon,
                           fixed_adopt={j: (1 if j == i else a) for j, a in
                                        enumerate(best["adopt"])})
        if forced["status"] != "Optimal":
            continue
        pv_factor = sum(horizon.discount(y) * v.migration_share(y)
                        for y in range(1, horizon.years + 1))
        saving = stay_npv - forced["objective"]
        even = v.migration_usd + saving / pv_factor
        out.append({"chip": v.chip, "migration_usd": v.migration_usd,
                    "migration_source": v.migration_source, "adopted": bool(best["adopt"][i]),
                    "npv_savings_if_adopted_usd": saving,
                    "break_even_migration_usd": even if even >= 0 else None})
    return out


def _sensitivity(rates, runs, tokens, horizon) -> list[dict]:
    rows = []
    for i, v in enumerate(rates):
        for factor in PRICE_STEPS:
            changed = list(rates)
            changed[i] = VendorRates(**{**vars(v), "price": v.price * factor})
            res = solve_mix(changed, runs, tokens, horizon)
            if res["status"] != "Optimal":
                continue
            first = np.add(res["train_chips"][0], res["serve_chips"][0])
            rows.append({"chip": v.chip, "price_factor": factor, "npv_cost_usd": res["objective"],
                         "share_first_year": float(first[i] / first.sum()) if first.sum()
                         else 0.0})
    return rows


def mix_explain(o: dict) -> list[str]:
    """Sentences made only from the output numbers (a test checks each figure is in `o`)."""
    lines = []
    h, last = o["horizon_years"], o["years"][-1]
    for v in o["vendors"]:
        lines.append(f"{v['chip']}: {v['share_first_year']:.0%} of the chips in year 1 "
                     f"({v['chips_first_year']:,.0f}), {v['share_last_year']:.0%} in year {h}, "
                     f"at {fmt_usd(v['usd_per_chip_hour'])}/chip-h ({v['price_term']}: "
                     f"{v['price_source']}); NPV {fmt_usd(v['npv_usd'])}")
    terms = sorted({v["price_term"] for v in o["vendors"]})
    if len(terms) > 1:
        lines.append("note: the vendors are priced on different bases (" + ", ".join(terms)
                     + "): the comparison is not like for like")
    lines.append(f"NPV of {h} year(s) at {o['discount_rate']:.0%}: {fmt_usd(o['npv_cost_usd'])}"
                 + ("" if o["staying_put_npv_usd"] is None else
                    f" vs {fmt_usd(o['staying_put_npv_usd'])} staying on the incumbents: "
                    + _saves(o["npv_savings_usd"])))
    shadow = [f"{fmt_usd(o[k])} {text}" for k, text in
              (("shadow_price_usd_per_run", "per extra training run a year"),
               ("shadow_price_usd_per_mtok_per_day", "per extra million tokens a day"))
              if o[k] is not None]
    if shadow:
        lines.append("shadow prices in year 1: " + "; ".join(shadow))
    status, paid = o["payback_status"], o["migration_paid_usd"]
    if status == "pays back":
        lines.append(f"the {fmt_usd(paid)} migration pays back in {o['payback_years']:.1f} "
                     f"years (cumulative discounted savings turn positive)")
    elif status == "not within the horizon":
        lines.append(f"the {fmt_usd(paid)} migration does not pay back within {h} years: "
                     f"cumulative discounted savings end at "
                     f"{fmt_usd(last['cumulative_discounted_savings_usd'])}, though year {h} "
                     f"saves {fmt_usd(last['savings_usd'])}")
    elif status == "never":
        lines.append(f"the {fmt_usd(paid)} migration never pays back: in year {h} the mix costs "
                     f"{fmt_usd(-last['savings_usd'])} more than staying put")
    elif status == "no migration":
        lines.append("no migration cost is paid in the least-cost mix")
    for m in o["migration"]:
        verdict = "adopted" if m["adopted"] else "not adopted"
        even = m["break_even_migration_usd"]
        lines.append(f"{m['chip']} ({verdict}): adopting it "
                     f"{_saves(m['npv_savings_if_adopted_usd'])} in NPV against staying put; "
                     + (f"its migration breaks even at {fmt_usd(even)}" if even is not None else
                        "it does not break even even with a free migration"))
    return lines


def _saves(usd: float) -> str:
    return f"saves {fmt_usd(usd)}" if usd >= 0 else f"costs {fmt_usd(-usd)} more"
