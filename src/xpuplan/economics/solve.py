"""Goal-seek: the value of one scenario input at which one output meets a target.

Bisection on g(x) = f(x) − target over a bracket [lo, hi] where g changes sign (f is the
scenario run with the input set to x); an output that is missing (e.g. no payback) counts as
+∞. Integer inputs stop when hi − lo ≤ 1 and return the closer of the two; chip counts are
searched over powers of two (2^k, integer k: the counts every layout search can split).
When g has one sign over the bracket the goal is out of reach: InfeasibleError names the
closest value found on a grid of the bracket. Examples: `discount` for `avg_chips` (the
effective price at which a contract holds N chips), `vendors[1].fixed_share` for
`payback_years`, `training.chips` for `training_run.time_to_train_s`, `gw` for
`serving_tokens_per_day`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import ValidationError

from xpuplan.economics.context import PlanContext
from xpuplan.economics.scenario import SCENARIO, Scenario
from xpuplan.errors import InfeasibleError, SpecError

# Default brackets by the input's last key (a search range, not a physical figure).
BRACKETS: dict[str, tuple[float, float]] = {
            "discount": (0.0, 0.99), "fixed_share": (0.0, 1.0), "min_share": (0.0, 1.0),
            "max_share": (0.01, 1.0), "usd_per_chip_hour": (0.01, 1000.0),
            "gw": (0.001, 100.0), "chips": (8, 65536), "budget_usd": (1e6, 1e13),
            "utilization": (0.05, 1.0), "migration_cost_usd": (0.0, 1e10)}
POW2_KEYS = {"chips"}  # searched as 2^k
MAX_STEPS = 40  # bisection halvings (2^-40 of the bracket)
REL_TOL = 1e-4  # stop when the bracket is this narrow relative to its ends
GRID = 9  # points on which an unreachable goal's closest value is looked for

_PART = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?")


def _parts(path: str) -> list:
    out = []
    for piece in path.split("."):
        m = _PART.fullmatch(piece)
        if not m:
            raise SpecError("solve", path, "a dotted key such as gw, discount, training.chips "
                            "or vendors[1].fixed_share")
        out.append(m.group(1))
        if m.group(2) is not None:
            out.append(int(m.group(2)))
    return out


def get_path(obj, path: str, what: str) -> Any:
    """The value at a dotted path (`a.b[1].c`); SpecError naming it when absent."""
    for p in _parts(path):
        try:
            obj = obj[p]
        except (KeyError, IndexError, TypeError):
            raise SpecError(what, path, "not in the scenario's "
                            + ("inputs" if what == "solve" else "outputs")) from None
    return obj


def set_path(data: dict, path: str, value) -> dict:
    """`data` with the dotted path set to `value` (in place)."""
    parts, obj = _parts(path), data
    for p in parts[:-1]:
        obj = obj[p]
    obj[parts[-1]] = value
    return data


def solve(ctx: PlanContext, s: Scenario, run, input_path: str, output_path: str,
          target: float, bracket: tuple[float, float] | None = None) -> tuple:
    """(x, PlanResult at x, record of the search); `run(ctx, scenario)` -> PlanResult."""
    current = get_path(s.model_dump(), input_path, "solve")
    is_int = isinstance(current, int) and not isinstance(current, bool)
    lo, hi = _bracket(input_path, bracket)
    pow2 = _parts(input_path)[-1] in POW2_KEYS
    if pow2:  # search the exponent k; the scenario gets 2^k
        lo, hi = math.ceil(math.log2(lo)), math.floor(math.log2(hi))
    runs = _Runs(ctx, s, run, input_path, output_path, target, is_int, pow2)
    (xl, gl, _), (xh, gh, _) = runs.at(lo), runs.at(hi)
    if np.sign(gl) == np.sign(gh) and gl != 0 and gh != 0:
        raise _no_root(runs, lo, hi)
    for _ in range(MAX_STEPS):
        if (xh - xl <= 1) if is_int else abs(xh - xl) <= REL_TOL * max(abs(xl), abs(xh), 1e-12):
            break
        xm, gm, _ = runs.at((xl + xh) / 2)
        if np.sign(gm) == np.sign(gl):
            xl, gl = xm, gm
        else:
            xh, gh = xm, gm
    x, g, result = runs.at(xl) if abs(gl) <= abs(gh) else runs.at(xh)
    if pow2:
        x, lo, hi = 2 ** x, 2 ** lo, 2 ** hi
    record = {"input": input_path, "value": x, "output": output_path, "target": target,
              "achieved": None if math.isinf(g) else g + target, "bracket": [lo, hi],
              "runs": len(runs.seen)}
    return x, result, record


def _bracket(input_path: str, bracket: tuple[float, float] | None) -> tuple[float, float]:
    """The search range: the one given, else the input's default (BRACKETS); LO < HI."""
    found = bracket or BRACKETS.get(_parts(input_path)[-1])
    if found is None or not found[0] < found[1]:
        raise SpecError("between", bracket, f"give a bracket LO,HI (LO < HI) for {input_path}")
    return found


@dataclass
class _Runs:
    """The scenario run at each tried input x (once each): output minus target, result."""

    ctx: PlanContext
    s: Scenario
    run: Callable
    input_path: str
    output_path: str
    target: float
    is_int: bool
    pow2: bool  # x is an exponent: the scenario gets 2^x
    seen: dict = field(default_factory=dict)  # x -> (output - target, result)

    def at(self, x: float) -> tuple:
        """(x, output - target, PlanResult) at x (rounded for integer inputs)."""
        x = int(round(x)) if self.is_int else float(x)
        if x not in self.seen:
            value = 2 ** x if self.pow2 else x
            try:
                given = self.s.model_dump(exclude_unset=True)  # unset keys keep their rules
                scen = SCENARIO.validate_python(set_path(given, self.input_path, value))
            except ValidationError as exc:
                raise SpecError(self.input_path, x, exc.errors()[0]["msg"]) from None
            result = self.run(self.ctx, scen)
            y = get_path(result.outputs, self.output_path, "target")
            if y is not None and not isinstance(y, (int, float)):
                raise SpecError("target", self.output_path, "not a number in the outputs")
            self.seen[x] = (math.inf if y is None else float(y), result)
        return x, self.seen[x][0] - self.target, self.seen[x][1]


def _no_root(runs: _Runs, lo: float, hi: float) -> InfeasibleError:
    """No sign change between the ends: the closest point of a grid over the bracket."""
    grid = [runs.at(x) for x in np.linspace(lo, hi, GRID)]
    x, g, _ = min(grid, key=lambda t: abs(t[1]))
    if runs.pow2:
        x, lo, hi = 2 ** x, 2 ** lo, 2 ** hi
    got = "none" if math.isinf(g) else f"{g + runs.target:.4g}"
    return InfeasibleError(f"no {runs.input_path} in [{lo:g}, {hi:g}] gives "
                           f"{runs.output_path} = {runs.target:g}; closest: {runs.input_path} "
                           f"= {x:.4g} gives {got}", needed=runs.target,
                           available=None if math.isinf(g) else g + runs.target)
