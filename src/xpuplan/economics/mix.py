"""Least-cost vendor mix over a horizon of years, as a MILP (highspy).

  min   Σ_y d_y·Σ_v 8766·p_v·(t_vy + s_vy) + Σ_v a_v·M_v·Σ_y d_y·m_vy
  s.t.  Σ_v r_v·k_vy·t_vy ≥ R,   Σ_v q_v·k_vy·s_vy ≥ T,   t_vy + s_vy ≤ cap_v·a_v,
        lo_v·n_y ≤ t_vy + s_vy ≤ hi_v·n_y  (n_y = Σ_w t_wy + s_wy; lo = hi for a fixed share)
  t, s ≥ 0 chips held in year y = 1..H for training / serving; a_v ∈ {0,1} adopts v for the
  horizon (1 for incumbents and vendors without a migration cost).
d_y = (1+r)^−y; r_v = 8766·u / run chip-hours (runs per chip-year, training model); q_v =
86400·u·tokens/s/chip (serving model); k_vy = 1 − shortfall_v·max(0, 1 − (y−1)/fade_v)
(constant when no fade is given); m_vy = the share of the migration cost M_v paid in year y
(even over `migration_years`); R runs/yr; T tokens/day; p_v $/chip-hour.
Shadow prices are the duals of the demand rows of the LP with adoption fixed at the optimum,
per year and undiscounted. Payback compares each year's cost with staying on the incumbents.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from xpuplan.audit.cost import migration_cost
from xpuplan.economics.context import (
    DEFAULT_RUN_CHIPS,
    HOURS_PER_YEAR,
    SECONDS_PER_DAY,
    PlanContext,
    run_chip_hours,
)
from xpuplan.economics.scenario import VendorMix
from xpuplan.errors import SolverError, SpecError, one_line


@dataclass(frozen=True)
class VendorRates:
    """One vendor's inputs to the mix: price, rates per chip, capacity and migration."""
    chip: str
    price: float  # $/chip-hour
    price_source: str
    runs_per_chip_year: float  # r_v at full maturity (0 without training demand)
    tokens_per_chip_day: float  # q_v at full maturity (0 without serving demand)
    capacity: float  # chips (inf when unbounded)
    migration_usd: float
    binary: bool  # whether adoption is a decision
    migration_source: str = "scenario input"
    incumbent: bool = False
    shortfall: float = 0.0
    shortfall_fade_years: float | None = None
    migration_years: float = 1.0
    min_share: float = 0.0
    max_share: float = 1.0
    price_term: str = ""

    def keep(self, year: int) -> float:
        """k_vy: throughput kept in year y (1-based) while the shortfall fades."""
        if self.shortfall_fade_years is None:
            return 1 - self.shortfall
        return 1 - self.shortfall * max(0.0, 1 - (year - 1) / self.shortfall_fade_years)

    def migration_share(self, year: int) -> float:
        """m_vy: the share of the migration cost paid in year y (1-based)."""
        return float(np.clip(self.migration_years - (year - 1), 0, 1)) / self.migration_years


@dataclass(frozen=True)
class Horizon:
    """Planning horizon: number of years and the yearly discount rate."""
    years: int = 1
    discount_rate: float = 0.0

    def discount(self, year: int) -> float:
        return (1 + self.discount_rate) ** -year


ONE_YEAR = Horizon()

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
        r = q = 0.0
        if s.training_runs_per_year > 0 and s.training is not None:  # checked above
            train = s.training.model_copy(update={"precision": v.precision or
                                                  s.training.precision})
            run = ctx.train(train, chip.id, s.training.chips or DEFAULT_RUN_CHIPS)
            r = HOURS_PER_YEAR * s.utilization / run_chip_hours(run)
        if s.serving_tokens_per_day > 0 and s.serving is not None:  # checked above
            serve = s.serving.model_copy(update={"weights": v.weights or s.serving.weights})
            q = SECONDS_PER_DAY * s.utilization * ctx.serve(serve, chip.id
                                                             ).output_tokens_per_s_per_chip
        share_hi = v.fixed_share if v.fixed_share is not None else (v.max_share or s.max_share)
        share_lo = v.fixed_share if v.fixed_share is not None else (v.min_share or 0.0)
        migration, migration_source = v.migration_cost_usd, "scenario input"
        if v.migration_audit is not None:
            audited = migration_cost(v.migration_audit, chip.vendor, v.usd_per_engineer_week)
            migration, migration_source = audited.usd, audited.source
        out.append(VendorRates(
            chip=chip.id, price=price, price_source=source, runs_per_chip_year=r,
            tokens_per_chip_day=q, capacity=v.capacity_chips or np.inf,
            migration_usd=migration, migration_source=migration_source,
            # a vendor with a minimum share is adopted by definition: no decision to make
            binary=not v.incumbent and migration > 0 and share_lo == 0,
            incumbent=v.incumbent,
            shortfall=v.shortfall, shortfall_fade_years=v.shortfall_fade_years,
            migration_years=v.migration_years, min_share=share_lo, max_share=share_hi,
            price_term=v.price_term if v.usd_per_chip_hour is None else "scenario input"))
    return out


def solve_mix(rates: list[VendorRates], runs: float, tokens_per_day: float,
              horizon: Horizon = ONE_YEAR, fixed_adopt: dict[int, int] | None = None,
              shares: bool = True) -> dict:
    """Solve the MILP (or the LP with adoption fixed): chips per vendor and year, NPV cost,
    undiscounted duals per year, status. `shares=False` drops the share rows."""
    h = _highs()
    # Big-M of the adoption row: the chips v would need to carry all the demand alone.
    big = [min(v.capacity, sum(d / (rate * v.keep(1)) for d, rate in
                               ((runs, v.runs_per_chip_year),
                                (tokens_per_day, v.tokens_per_chip_day)) if rate and d) + 1.0)
           for v in rates]
    adopt = _adoption(h, rates, horizon, fixed_adopt)
    # highspy variables (the library ships no types), one list per year: (n_years, n_v)
    t: list[list[Any]] = []
    s_: list[list[Any]] = []
    rows: dict[str, list] = {"train": [], "serve": []}
    for y in range(1, horizon.years + 1):
        t_y, s_y = _year_chips(h, rates, horizon, y)
        t.append(t_y)
        s_.append(s_y)
        _demand_rows(h, rates, y, t_y, s_y, runs, tokens_per_day, rows)
        _vendor_rows(h, rates, y, t_y, s_y, big, adopt, shares)
    h.run()
    return _mix_solution(h, rates, horizon, adopt, t, s_, rows, lp=fixed_adopt is not None)


def _adoption(h: Any, rates: list[VendorRates], horizon: Horizon,
              fixed_adopt: dict[int, int] | None) -> list[Any]:
    """a_v per vendor: a binary costing its discounted migration where adoption is a decision,
    else a constant (1, or the fixed decision)."""
    years = range(1, horizon.years + 1)
    adopt: list[Any] = []
    for i, v in enumerate(rates):
        if fixed_adopt is not None or not v.binary:
            adopt.append(1.0 if fixed_adopt is None else float(fixed_adopt[i]))
        else:
            pv_migration = sum(horizon.discount(y) * v.migration_share(y) for y in years)
            adopt.append(h.addBinary(obj=v.migration_usd * pv_migration,
                                     name=f"adopt[{v.chip}]"))
    return adopt


def _year_chips(h: Any, rates: list[VendorRates], horizon: Horizon, y: int
                ) -> tuple[list[Any], list[Any]]:
    """t_vy and s_vy: chips of each vendor held in year y for training and for serving, each
    at its discounted yearly price."""
    t, s_ = [], []
    for v in rates:
        cost = horizon.discount(y) * HOURS_PER_YEAR * v.price
        t.append(h.addVariable(lb=0, obj=cost, name=f"train[{v.chip},{y}]"))
        s_.append(h.addVariable(lb=0, obj=cost, name=f"serve[{v.chip},{y}]"))
    return t, s_


def _demand_rows(h: Any, rates: list[VendorRates], y: int, t: list[Any], s_: list[Any],
                 runs: float, tokens_per_day: float, rows: dict[str, list]) -> None:
    """Year y's demand rows (those with demand), appended to `rows`: Σ_v r_v·k_vy·t_vy ≥ R
    and Σ_v q_v·k_vy·s_vy ≥ T."""
    if runs > 0:
        rows["train"].append(h.addConstr(sum(
            v.runs_per_chip_year * v.keep(y) * t[i] for i, v in enumerate(rates))
            >= runs, name=f"demand[train,{y}]"))
    if tokens_per_day > 0:
        rows["serve"].append(h.addConstr(sum(
            v.tokens_per_chip_day * v.keep(y) * s_[i] for i, v in enumerate(rates))
            >= tokens_per_day, name=f"demand[serve,{y}]"))


def _vendor_rows(h: Any, rates: list[VendorRates], y: int, t: list[Any], s_: list[Any],
                 big: list[float], adopt: list[Any], shares: bool) -> None:
    """Year y's rows per vendor: chips only if adopted (big-M), within its share of the total
    (`shares`; bounds that bind nothing are left out)."""
    total = sum(t[j] + s_[j] for j in range(len(rates)))
    for i, v in enumerate(rates):
        own = t[i] + s_[i]
        h.addConstr(own - big[i] * adopt[i] <= 0, name=f"capacity[{v.chip},{y}]")
        if shares and v.max_share < 1 - 1e-9:
            h.addConstr(own - v.max_share * total <= 0, name=f"max_share[{v.chip},{y}]")
        if shares and v.min_share > 1e-9:
            h.addConstr(own - v.min_share * total >= 0, name=f"min_share[{v.chip},{y}]")


def _mix_solution(h: Any, rates: list[VendorRates], horizon: Horizon, adopt: list[Any],
                  t: list[list[Any]], s_: list[list[Any]], rows: dict[str, list],
                  lp: bool) -> dict:
    """The solved model as solve_mix returns it; duals only for the LP (`lp`: adoption
    fixed)."""
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        return {"status": status}
    years = range(1, horizon.years + 1)
    sol = h.getSolution()
    col = sol.col_value
    chosen = [int(round(col[a.index])) if not isinstance(a, float) else int(a) for a in adopt]
    duals = {}
    if lp:
        duals = {key: [float(sol.row_dual[row.index]) / horizon.discount(y)
                       for y, row in zip(years, rs, strict=True)]
                 for key, rs in rows.items() if rs}
    # Migration of vendors whose adoption is fixed is a constant outside the model.
    fixed_migration = sum(a * v.migration_usd * sum(horizon.discount(y) * v.migration_share(y)
                                                    for y in years)
                          for a, v in zip(adopt, rates, strict=True) if isinstance(a, float))
    return {"status": status,
            "objective": h.getInfo().objective_function_value + fixed_migration,
            "train_chips": [[col[x.index] for x in row] for row in t],  # (n_years, n_v)
            "serve_chips": [[col[x.index] for x in row] for row in s_],
            "adopt": chosen, "duals": duals}


def yearly_costs(rates: list[VendorRates], res: dict, horizon: Horizon) -> np.ndarray:
    """Undiscounted cost per year of a solution, incl. migration paid that year: (n_years,)."""
    out = []
    for k, y in enumerate(range(1, horizon.years + 1)):
        chips = np.add(res["train_chips"][k], res["serve_chips"][k])
        out.append(sum(c * v.price * HOURS_PER_YEAR + a * v.migration_usd * v.migration_share(y)
                       for c, v, a in zip(chips, rates, res["adopt"], strict=True)))
    return np.asarray(out)


def max_fraction(rates: list[VendorRates], runs: float, tokens: float) -> float:
    """Largest fraction λ of year-1 demand the capacities and share caps can meet (an LP
    maximising λ)."""
    h = _highs()
    lam = h.addVariable(lb=0, obj=-1.0, name="lambda")
    t = [h.addVariable(lb=0, ub=v.capacity, name=f"t[{v.chip}]") for v in rates]
    s_ = [h.addVariable(lb=0, ub=v.capacity, name=f"s[{v.chip}]") for v in rates]
    if runs > 0:
        h.addConstr(sum(v.runs_per_chip_year * v.keep(1) * t[i] for i, v in enumerate(rates))
                    - runs * lam >= 0)
    if tokens > 0:
        h.addConstr(sum(v.tokens_per_chip_day * v.keep(1) * s_[i]
                        for i, v in enumerate(rates)) - tokens * lam >= 0)
    total = sum(t[j] + s_[j] for j in range(len(rates)))
    for i, v in enumerate(rates):
        if np.isfinite(v.capacity):
            h.addConstr(t[i] + s_[i] <= v.capacity)
        if v.max_share < 1 - 1e-9:
            h.addConstr(t[i] + s_[i] - v.max_share * total <= 0)
    h.setOptionValue("objective_bound", -10.0)
    h.run()
    return float(h.getSolution().col_value[lam.index])


@contextmanager
def solver_errors() -> Iterator[None]:
    """A HiGHS exception (a model it cannot take) becomes a SolverError: one line, exit 1."""
    from highspy.highs import HighsError

    try:
        yield
    except (HighsError, OverflowError) as exc:
        raise SolverError(f"HiGHS error ({one_line(str(exc), 120)})") from None
