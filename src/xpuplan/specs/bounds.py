"""Input bounds: every number a user gives is finite and within a stated range (data/bounds.toml).

Checked at the edge (API functions, scenario models, catalog and config.json loaders) before
any work, so no input can overflow int64, allocate without bound or run for minutes. A bound
names the fields it covers, its range, whether it is an integer, and why; any other number in
an input file gets the generic bound (finite, |x| <= 1e18). Limits on input files (bytes,
nesting, YAML aliases, values) and on message length live in the same file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xpuplan.errors import SpecError
from xpuplan.limits import bounds_table


@dataclass(frozen=True)
class Bound:
    """The range of one kind of input, with the reason it is the range."""

    name: str
    lo: float
    hi: float
    integer: bool
    why: str

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        return f"must be {kind} from {self.lo:g} to {self.hi:g} ({self.why})"


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Bound], dict[str, Any]]:
    data = bounds_table()
    by_field: dict[str, Bound] = {}
    for name, row in data["bound"].items():
        b = Bound(name, float(row["min"]), float(row["max"]), bool(row.get("integer")),
                  str(row["why"]))
        by_field[name] = b
        for f in row["fields"]:
            by_field[f] = b
    return by_field, data["files"]


def bound_for(field: str) -> Bound:
    """The bound of an input field (the last dotted part of `field`), else the generic one."""
    table = _table()[0]
    return table.get(field.rsplit(".", 1)[-1], table["generic"])


def check(field: str, value: Any, bound: str | None = None) -> Any:
    """`value` unchanged if it is a number within the field's bound, else SpecError.

    None passes (an optional input not given); bool is not a number here.
    """
    if value is None:
        return value
    b = bound_for(bound or field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if hasattr(value, "dtype"):  # numpy scalars from the API
            value = value.item()  # type: ignore[union-attr]
        else:
            raise SpecError(field, value, b.allowed())
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(field, value, b.allowed())
    if b.integer and isinstance(value, float) and not value.is_integer():
        raise SpecError(field, value, b.allowed())
    if not b.lo <= value <= b.hi:
        raise SpecError(field, value, b.allowed())
    return value


def check_all(**values: Any) -> None:
    """`check` each keyword argument by its name."""
    for field, value in values.items():
        check(field, value)


def out_of_bounds(field: str, value: Any) -> str | None:
    """Why `value` breaks the field's bound, or None (for validators that raise their own)."""
    try:
        check(field, value)
    except SpecError as exc:
        return exc.allowed
    return None
