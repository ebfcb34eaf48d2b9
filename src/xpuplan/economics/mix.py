"""Least-cost vendor mix for a year of training and serving demand, as a MILP (highspy).

  min   Σ_v 8766·p_v·(t_v + s_v) + Σ_v M_v·y_v
  s.t.  Σ_v r_v·t_v ≥ R,   Σ_v q_v·s_v ≥ T,   t_v + s_v ≤ cap_v·y_v,
        t_v + s_v ≤ share·Σ_w (t_w + s_w)
  t, s ≥ 0 chips held for training / serving; y_v ∈ {0,1} adopts vendor v (1 for incumbents).
r_v = 8766·u·(1 − shortfall_v) / run chip-hours (runs per chip-year, training model);
q_v = 86400·u·(1 − shortfall_v)·tokens/s/chip (tokens per chip-day, inference model);
p_v $/chip-hour; M_v one-time migration cost (engineering); R runs/yr; T tokens/day.
Shadow prices are the duals of the two demand rows of the LP with y fixed at the optimum.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from xpuplan.economics.context import (
    DEFAULT_RUN_CHIPS,
    HOURS_PER_YEAR,
    SECONDS_PER_DAY,
    PlanContext,
    quantiles,
    samples,
)
from xpuplan.economics.scenario import VendorMix
from xpuplan.errors import InfeasibleError, SolverError, SpecError, one_line
from xpuplan.units import fmt_si, fmt_usd


@dataclass(frozen=True)
class VendorRates:
    chip: str
    price: float  # $/chip-hour
    price_source: str
    runs_per_chip_year: float  # r_v (0 without training demand)
    tokens_per_chip_day: float  # q_v (0 without serving demand)
    capacity: float  # chips (inf when unbounded)
    migration_usd: float
    binary: bool  # whether adoption is a decision


def _highs():
    """A silent HiGHS instance, silenced by its own `output_flag` option before any call that
    logs (the copyright banner comes from the first such call: highspy's constructor enables
    callbacks, so the option is set between the C++ construction and that step). Nothing
    process-wide changes, so concurrent plans are safe."""
    import highspy
    from highspy.highs import HighsCallback, cb

    class QuietHighs(highspy.Highs):
        def __init__(self):
            highspy._core._Highs.__init__(self)
            self.setOptionValue("output_flag", False)
            self.setOptionValue("log_to_console", False)
            self.callbacks = [HighsCallback(cb.HighsCallbackType(i), self)
                              for i in range(int(cb.HighsCallbackType.kCallbackMax) + 1)]
            self.enableCallbacks()

    try:
        return QuietHighs()
    except (AttributeError, ImportError, TypeError):  # another highspy layout: plain, muted
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        return h


def vendor_rates(ctx: PlanContext, s: VendorMix) -> list[VendorRates]:
    """Each vendor's price and per-chip throughput from the training and inference models."""
    if s.training_runs_per_year > 0 and s.training is None:
        raise SpecError("training", None, "needed when training_runs_per_year > 0")
    if s.serving_tokens_per_day > 0 and s.serving is None:
        raise SpecError("serving", None, "needed when serving_tokens_per_day > 0")
    out = []
    for v in s.vendors:
        chip = ctx.catalog.chip(v.chip)
        price, source = ctx.price(chip.id, v.price_term, v.usd_per_chip_hour)
        keep = 1 - v.shortfall
        r = q = 0.0
        if s.training_runs_per_year > 0:
            run = ctx.train(s.training, chip.id, s.training.chips or DEFAULT_RUN_CHIPS)
            r = HOURS_PER_YEAR * s.utilization * keep / run.run["chip_hours"]
        if s.serving_tokens_per_day > 0:
            rate = ctx.serve(s.serving, chip.id).output_tokens_per_s_per_chip
            q = SECONDS_PER_DAY * s.utilization * keep * rate
        out.append(VendorRates(chip=chip.id, price=price, price_source=source,
                               runs_per_chip_year=r, tokens_per_chip_day=q,
                               capacity=v.capacity_chips or np.inf,
                               migration_usd=v.migration_cost_usd,
                               binary=not v.incumbent and v.migration_cost_usd > 0))
    return out


def solve_mix(rates: list[VendorRates], runs: float, tokens_per_day: float, max_share: float,
              fixed_adopt: dict[int, int] | None = None) -> dict:
    """Solve the MILP (or the LP with adoption fixed); returns chips, cost, duals, status."""
    h = _highs()
    # Big-M of the adoption row: the chips v would need to carry all the demand alone.
    big = [min(v.capacity, (runs / v.runs_per_chip_year if v.runs_per_chip_year else 0.0)
               + (tokens_per_day / v.tokens_per_chip_day if v.tokens_per_chip_day else 0.0)
               + 1.0) for v in rates]
    t, s_, y = [], [], []
    for i, v in enumerate(rates):
        cost = HOURS_PER_YEAR * v.price
        t.append(h.addVariable(lb=0, obj=cost, name=f"train[{v.chip}]"))
        s_.append(h.addVariable(lb=0, obj=cost, name=f"serve[{v.chip}]"))
        if fixed_adopt is not None or not v.binary:
            val = 1.0 if fixed_adopt is None else float(fixed_adopt[i])
            y.append(val)
        else:
            y.append(h.addBinary(obj=v.migration_usd, name=f"adopt[{v.chip}]"))
    rows = {}
    if runs > 0:
        rows["train"] = h.addConstr(sum(v.runs_per_chip_year * t[i] for i, v in
                                        enumerate(rates)) >= runs, name="demand[train]")
    if tokens_per_day > 0:
        rows["serve"] = h.addConstr(sum(v.tokens_per_chip_day * s_[i] for i, v in
                                        enumerate(rates)) >= tokens_per_day,
                                    name="demand[serve]")
    for i, v in enumerate(rates):
        h.addConstr(t[i] + s_[i] - big[i] * y[i] <= 0, name=f"capacity[{v.chip}]")
        if max_share < 1 - 1e-9:  # (1 − share)·own − share·others ≤ 0
            others = sum(t[j] + s_[j] for j in range(len(rates)) if j != i)
            h.addConstr((1 - max_share) * (t[i] + s_[i]) - max_share * others <= 0,
                        name=f"share[{v.chip}]")
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        return {"status": status}
    sol = h.getSolution()
    col = sol.col_value
    adopt = [int(round(col[yi.index])) if not isinstance(yi, float) else int(yi) for yi in y]
    chips_t = [col[x.index] for x in t]
    chips_s = [col[x.index] for x in s_]
    duals = {}
    if fixed_adopt is not None:
        duals = {k: float(sol.row_dual[row.index]) for k, row in rows.items()}
    return {"status": status, "objective": h.getInfo().objective_function_value,
            "train_chips": chips_t, "serve_chips": chips_s, "adopt": adopt, "duals": duals}


def _max_fraction(rates: list[VendorRates], runs: float, tokens: float, share: float) -> float:
    """Largest fraction λ of the demand the capacities can meet (an LP maximising λ)."""
    h = _highs()
    lam = h.addVariable(lb=0, obj=-1.0, name="lambda")
    t = [h.addVariable(lb=0, ub=v.capacity, name=f"t[{v.chip}]") for v in rates]
    s_ = [h.addVariable(lb=0, ub=v.capacity, name=f"s[{v.chip}]") for v in rates]
    if runs > 0:
        h.addConstr(sum(v.runs_per_chip_year * t[i] for i, v in enumerate(rates)) - runs * lam
                    >= 0)
    if tokens > 0:
        h.addConstr(sum(v.tokens_per_chip_day * s_[i] for i, v in enumerate(rates))
                    - tokens * lam >= 0)
    for i, v in enumerate(rates):
        if np.isfinite(v.capacity):
            h.addConstr(t[i] + s_[i] <= v.capacity)
        if share < 1 - 1e-9:
            others = sum(t[j] + s_[j] for j in range(len(rates)) if j != i)
            h.addConstr((1 - share) * (t[i] + s_[i]) - share * others <= 0)
    h.setOptionValue("objective_bound", -10.0)
    h.run()
    return float(h.getSolution().col_value[lam.index])


@contextmanager
def _solver_errors():
    """A HiGHS exception (a model it cannot take) becomes a SolverError: one line, exit 1."""
    from highspy.highs import HighsError

    try:
        yield
    except (HighsError, OverflowError) as exc:
        raise SolverError(f"HiGHS error ({one_line(str(exc), 120)})") from None


def vendor_mix(ctx: PlanContext, s: VendorMix) -> dict:
    rates = vendor_rates(ctx, s)
    with _solver_errors():
        out = mix_result(rates, s.training_runs_per_year, s.serving_tokens_per_day,
                         s.max_share)
    out["interval"] = mix_interval(ctx, s, rates, out["outputs"]["vendors"])
    return out


def mix_interval(ctx: PlanContext, s: VendorMix, rates: list[VendorRates],
                 table: list[dict]) -> dict:
    """P10-P90 of the chosen mix's yearly cost when each vendor's price, efficiency and the
    utilisation vary: the chips needed scale as 1/(efficiency·utilisation) (vectorised)."""
    total = np.zeros(s.spreads.samples)
    for i, (v, row) in enumerate(zip(rates, table, strict=True)):
        draw = samples(s.spreads, ctx.efficiency_sd(v.chip), ctx.seed + i)
        u = np.clip(s.utilization + draw["utilization"], 0.05, 1.0)
        chips = (row["train_chips"] + row["serve_chips"]) * s.utilization / (
            u * draw["efficiency"])
        total += chips * v.price * draw["price"] * HOURS_PER_YEAR + row["migration_usd"]
    return {"total_usd_per_year": quantiles(total)}


def mix_result(rates: list[VendorRates], runs: float, tokens: float, share: float) -> dict:
    """Optimal mix, shadow prices, and a price-sensitivity table."""
    best = solve_mix(rates, runs, tokens, share)
    if best["status"] != "Optimal":
        if best["status"] == "Infeasible":
            lam = _max_fraction(rates, runs, tokens, share)
            raise InfeasibleError(f"demand exceeds capacity: at most {lam:.0%} of it can be met "
                                  f"({1 - lam:.0%} short) with these capacities and a "
                                  f"{share:.0%} share cap", needed=1.0, available=lam)
        raise SolverError(best["status"])
    lp = solve_mix(rates, runs, tokens, share, fixed_adopt=dict(enumerate(best["adopt"])))
    if lp["status"] != "Optimal":
        raise SolverError(lp["status"])
    chips = [a + b for a, b in zip(best["train_chips"], best["serve_chips"], strict=True)]
    total_chips = sum(chips)
    table = [{"chip": v.chip, "usd_per_chip_hour": v.price, "price_source": v.price_source,
              "adopted": bool(best["adopt"][i]), "train_chips": best["train_chips"][i],
              "serve_chips": best["serve_chips"][i],
              "share": chips[i] / total_chips if total_chips else 0.0,
              "usd_per_year": chips[i] * v.price * HOURS_PER_YEAR,
              "migration_usd": v.migration_usd * best["adopt"][i]}
             for i, v in enumerate(rates)]
    sensitivity = []
    for i, v in enumerate(rates):
        for factor in (0.8, 1.2):
            changed = list(rates)
            changed[i] = VendorRates(**{**vars(v), "price": v.price * factor})
            res = solve_mix(changed, runs, tokens, share)
            if res["status"] != "Optimal":
                continue
            tot = [a + b for a, b in zip(res["train_chips"], res["serve_chips"], strict=True)]
            sensitivity.append({"chip": v.chip, "price_factor": factor,
                                "total_usd": res["objective"],
                                "share": tot[i] / sum(tot) if sum(tot) else 0.0})
    migration = []
    # Break-even against staying put: the incumbents alone (no share cap: nothing to spread).
    incumbents_only = solve_mix(rates, runs, tokens, 1.0,
                                fixed_adopt={i: int(not v.binary) for i, v in enumerate(rates)})
    for i, v in enumerate(rates):
        if not v.binary:
            continue
        alone = solve_mix([VendorRates(**{**vars(v), "binary": False})], runs, tokens, 1.0)
        base = incumbents_only.get("objective")
        if base is None or alone["status"] != "Optimal":
            continue
        per_share = base - alone["objective"]  # $/yr saved if all demand moved to v
        at_optimum = base - (best["objective"] - sum(
            r.migration_usd * a for r, a in zip(rates, best["adopt"], strict=True)))
        migration.append({
            "chip": v.chip, "migration_usd": v.migration_usd, "adopted": bool(best["adopt"][i]),
            "savings_usd_per_year_if_all_moved": per_share,
            "savings_usd_per_year_at_optimum": at_optimum,
            "payback_years_at_optimum": (v.migration_usd / at_optimum if at_optimum > 0
                                         else None),
            # share of demand whose first-year savings repay the migration (> 1: not in a year)
            "break_even_share": v.migration_usd / per_share if per_share > 0 else None})
    explain = [f"{row['chip']}: {row['share']:.0%} of {total_chips:,.0f} chips at "
               f"{fmt_usd(row['usd_per_chip_hour'])}/chip-h ({row['price_source']})"
               for row in table]
    marginal = {"train": lambda d: f"{fmt_usd(d)} per extra training run a year",
                "serve": lambda d: f"{fmt_usd(d * 1e6)} per extra million tokens a day"}
    explain.append(f"total {fmt_usd(best['objective'])}/yr incl. migration; shadow prices: "
                   + "; ".join(marginal[k](val) for k, val in lp["duals"].items()))
    for m in migration:
        saving, share_be = m["savings_usd_per_year_if_all_moved"], m["break_even_share"]
        if share_be is None:
            explain.append(f"{m['chip']}: moving all demand would cost {fmt_usd(-saving)}/yr "
                           "more; the migration never pays back on price-performance alone")
            continue
        explain.append(
            f"{m['chip']}: the optimal mix saves {fmt_usd(m['savings_usd_per_year_at_optimum'])}"
            f"/yr vs staying put, repaying the {fmt_usd(m['migration_usd'])} migration in "
            f"{m['payback_years_at_optimum'] or float('inf'):.2g} years; moving everything "
            f"saves {fmt_usd(saving)}/yr, so a first-year break-even needs "
            f"{share_be:.0%} of the demand moved")
    return {"outputs": {"total_usd_per_year": best["objective"], "chips": total_chips,
                        "shadow_price_usd_per_run": lp["duals"].get("train"),
                        "shadow_price_usd_per_mtok_per_day":
                            None if "serve" not in lp["duals"] else lp["duals"]["serve"] * 1e6,
                        "vendors": table, "migration": migration},
            "sensitivity": sensitivity, "explain": explain, "interval": {},
            "note": f"demand {runs:g} runs/yr and {fmt_si(tokens)} tokens/day"}
