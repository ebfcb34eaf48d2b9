"""Investment-for-compute deals as they are written, and announced deals as a spend timeline.

Deployment: w_y = GW deployed in year y / total GW (y = 1..T; even when no ramp is given).
Purchases P_y = C·w_y. Tranches: upfront I_0 = I, per GW I_y = I·w_y ("progressively as
each gigawatt is deployed", NVIDIA/OpenAI LOI 2025-09-22), or dated I_y = I·s_y.
  investee cash_y = I_y − P_y;   investor cash_y = −I_y + m·P_y   (m: investor gross margin)
  NPV = Σ_y cash_y·(1+r)^−y;  effective discount on compute = PV(I)/PV(C);
  circular share = Σ I_y / Σ P_y (the vendor's revenue from this buyer that is its own money
  coming back); equity stake = I / post-money valuation (one valuation for every tranche).
With equity valued at cost, the investor also holds PV(I) of stock and the investee has sold
PV(I) of it: investor NPV incl. equity = NPV + PV(I); investee NPV net of equity = −PV(C).
Timeline: each deal's value (or GW × $/GW) spread evenly over its years from a start year;
summed by seller and year, and over a window against a published claim.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xpuplan.economics.context import PlanAnswer, PlanContext
from xpuplan.economics.scenario import DealTimeline, Investment
from xpuplan.errors import SpecError
from xpuplan.units import fmt_si, fmt_usd


def deployment_weights(s: Investment) -> np.ndarray:
    """w_y for y = 0..T (w_0 = 0): the ramp's GW shares, else even over `years`."""
    if s.gw_per_year:
        gw = np.asarray([0.0, *s.gw_per_year])
        return gw / gw.sum()
    T = s.term_years  # = years, given when there is no ramp
    years = np.arange(0, int(np.ceil(T)) + 1)
    yearly = np.where(years >= 1, np.clip(np.minimum(1.0, T - (years - 1)), 0, 1), 0.0)
    return yearly / T


def with_deal_terms(ctx: PlanContext, s: Investment) -> Investment:
    """The scenario with the investment, tranche rule and valuation of its `deal` record
    filled in where the scenario leaves them out."""
    if s.deal is None:
        if s.investment_usd is None:
            raise SpecError("investment_usd", None, "give it, or a deal record that has it")
        return s
    d = ctx.econ.record("deal", s.deal)
    fill = {k: getattr(d, k, None) for k in ("investment_usd", "post_money_valuation_usd")
            if getattr(s, k) is None}
    if "tranches" not in s.model_fields_set and getattr(d, "tranches", None):
        fill["tranches"] = d.tranches
    s = s.model_copy(update={k: v for k, v in fill.items() if v is not None})
    if s.investment_usd is None:
        raise SpecError("investment_usd", None, f"deal {d.id} publishes no investment_usd")
    return s


def investment(ctx: PlanContext, s: Investment) -> PlanAnswer:
    """Yearly purchases, NPVs (USD) and circular share of an investment-for-compute deal."""
    s = with_deal_terms(ctx, s)
    invest_usd = s.investment_usd  # I
    assert invest_usd is not None  # with_deal_terms raised otherwise
    w = deployment_weights(s)  # (n_years,)
    if s.tranches == "dated":  # pad the shorter of the two schedules with zeros
        by_year = s.tranche_shares_by_year
        assert by_year is not None  # the scenario's validator: dated goes with its shares
        n = max(len(w), len(by_year))
        w = np.pad(w, (0, n - len(w)))
        dated = np.pad(np.asarray(by_year, dtype=float), (0, n - len(by_year)))
    years = np.arange(len(w))
    purchases = s.commitment_usd * w
    shares = {"per_gw": w, "upfront": (years == 0).astype(float)}
    tranches = invest_usd * (dated if s.tranches == "dated" else shares[s.tranches])
    disc = (1 + s.discount_rate) ** -years.astype(float)
    investee = tranches - purchases
    investor = -tranches + s.investor_gross_margin * purchases
    pv_c, pv_i = float(purchases @ disc), float(tranches @ disc)
    out: dict[str, Any] = {"investment_usd": invest_usd, "commitment_usd": s.commitment_usd,
           "years": s.term_years, "tranches": s.tranches,
           "effective_discount": pv_i / pv_c,
           "circular_share": invest_usd / s.commitment_usd,
           "pv_investment_usd": pv_i, "pv_purchases_usd": pv_c,
           "investee_npv_usd": float(investee @ disc),
           "investor_npv_usd": float(investor @ disc),
           "investor_npv_with_equity_at_cost_usd": float(investor @ disc) + pv_i,
           "investee_npv_net_of_equity_usd": -pv_c,
           "investor_revenue_usd": float(purchases.sum()),
           "cash_flows": [{"year": int(y), "investment_usd": float(i), "purchases_usd": float(p),
                           "investee_usd": float(a), "investor_usd": float(b)}
                          for y, i, p, a, b in zip(years, tranches, purchases, investee,
                                                   investor, strict=True)]}
    paid = {"upfront": "at year 0",
            "per_gw": "in tranches as each GW is deployed (I_y = I x GW share of year y)",
            "dated": "in dated tranches: " + ", ".join(
                f"y{y} {fmt_usd(t)}" for y, t in enumerate(tranches) if t)}[s.tranches]
    lines = [f"{s.investor} invests {fmt_usd(invest_usd)} {paid}; {s.investee} buys "
             f"{fmt_usd(s.commitment_usd)} over {out['years']:g} y: "
             + ", ".join(f"y{c['year']} {fmt_usd(c['purchases_usd'])}"
                         for c in out["cash_flows"] if c["purchases_usd"]),
             f"at {s.discount_rate:.0%}: PV(I) = {fmt_usd(pv_i)}, PV(C) = {fmt_usd(pv_c)}; "
             f"effective discount on compute = PV(I)/PV(C) = {out['effective_discount']:.1%}",
             f"circular share = I / C = {fmt_usd(invest_usd)} / "
             f"{fmt_usd(s.commitment_usd)} = {out['circular_share']:.1%} of {s.investor}'s "
             f"revenue from {s.investee} is its own investment coming back",
             f"{s.investor} NPV (cash: -I + {s.investor_gross_margin:.0%} gross margin x C) = "
             f"{fmt_usd(out['investor_npv_usd'])}; with the stake valued at cost "
             f"{fmt_usd(out['investor_npv_with_equity_at_cost_usd'])}",
             f"{s.investee} NPV (cash: I - C) = {fmt_usd(out['investee_npv_usd'])}; net of the "
             f"equity sold at cost {fmt_usd(out['investee_npv_net_of_equity_usd'])}"]
    if s.post_money_valuation_usd:
        out["equity_stake"] = invest_usd / s.post_money_valuation_usd
        out["implied_post_money_valuation_usd"] = s.post_money_valuation_usd
        lines.append(f"equity stake = I / post-money valuation = {fmt_usd(invest_usd)} / "
                     f"{fmt_usd(s.post_money_valuation_usd)} = {out['equity_stake']:.1%}")
    if s.usd_per_gw:
        out["gw_bought"] = s.commitment_usd / s.usd_per_gw
        lines.append(f"C buys {out['gw_bought']:.1f} GW at {fmt_usd(s.usd_per_gw)}/GW")
    if s.list_usd_per_chip_hour and s.alternative_usd_per_chip_hour:
        own = s.commitment_usd / s.list_usd_per_chip_hour
        net = (s.commitment_usd - invest_usd) / s.alternative_usd_per_chip_hour
        out.update({"chip_hours_from_investor": own, "chip_hours_elsewhere_for_net": net})
        lines.append(f"C at list buys {fmt_si(own)} chip-h; the net outlay C - I elsewhere "
                     f"buys {fmt_si(net)} chip-h")
    return PlanAnswer(outputs=out, explain=lines)


def deal_rows(ctx: PlanContext) -> list[dict]:
    """The catalog's announced deals as flat rows (the `deals` view)."""
    keys = ("id", "buyer", "seller", "announced", "value_usd", "years", "gw", "confidence",
            "hardware", "source")
    return [{k: getattr(d, k, None) for k in keys} | {"investment_usd": getattr(
        d, "investment_usd", None)} for d in ctx.econ.section("deal").values()]


def deal_timeline(ctx: PlanContext, s: DealTimeline) -> PlanAnswer:
    """Yearly spend by seller of announced deals, USD, summed over a window."""
    by_year: dict[tuple[str, int], float] = {}
    rows, lines = [], []
    for item in s.deals:
        d = ctx.econ.record("deal", item.deal)
        years = item.years or d.years
        if years is None:
            raise SpecError(f"deals[{item.deal}].years", None,
                            "the deal record has no term: give years (and a source)")
        per_gw = None
        if d.value_usd is not None and item.gw_cost is None:
            value, how = d.value_usd, f"{fmt_usd(d.value_usd)} (deal value)"
        elif item.gw_cost is not None and d.gw is not None:
            per_gw = ctx.econ.record("gw_cost", item.gw_cost).value_usd_per_gw
            value, how = d.gw * per_gw, f"{d.gw:g} GW x {fmt_usd(per_gw)}/GW ({item.gw_cost})"
        else:
            raise SpecError(f"deals[{item.deal}].gw_cost", None, "the deal has no value_usd: "
                            "name a gw_cost record (the deal must publish gw)")
        start = item.start_year
        span = np.arange(start, start + int(np.ceil(years)))
        share = np.minimum(1.0, years - (span - start)) / years  # (n_years,)
        for y, f in zip(span, share, strict=True):
            by_year[(d.seller, int(y))] = by_year.get((d.seller, int(y)), 0.0) + float(value * f)
        rows.append({"deal": d.id, "seller": d.seller, "buyer": d.buyer, "value_usd": value,
                     "gw": d.gw if per_gw else None, "usd_per_gw": per_gw,
                     "start_year": start, "years": years, "basis": how})
        lines.append(f"{d.id}: {how} over {years:g} y from {start} = "
                     f"{fmt_usd(value / years)}/yr to {d.seller}")
    sellers = sorted({k[0] for k in by_year})
    all_years = sorted({k[1] for k in by_year})
    table = [{"year": y, **{f"{v}_usd": by_year.get((v, y), 0.0) for v in sellers},
              "total_usd": sum(by_year.get((v, y), 0.0) for v in sellers)} for y in all_years]
    window = [r for r in table if s.window_start_year <= r["year"]
              < s.window_start_year + s.window_years]
    in_window = sum(r["total_usd"] for r in window)
    out = {"deals": rows, "timeline": table, "sellers": sellers,
           "total_usd": sum(r["total_usd"] for r in table),
           "window_total_usd": in_window, "window": [s.window_start_year,
                                                     s.window_start_year + s.window_years - 1]}
    lines.append(f"{s.window_start_year}-{s.window_start_year + s.window_years - 1}: "
                 + ", ".join(f"{r['year']} {fmt_usd(r['total_usd'])}" for r in window)
                 + f" = {fmt_usd(in_window)}")
    if s.claim_usd:
        out["claim_usd"] = s.claim_usd
        out["claim_met"] = bool(in_window >= s.claim_usd)
        lines.append(f"claim {fmt_usd(s.claim_usd)} over {s.window_years} y: the deals sum to "
                     f"{in_window / s.claim_usd:.2f}x it "
                     + ("(met)" if out["claim_met"] else "(not met)"))
    return PlanAnswer(outputs=out, explain=lines)
