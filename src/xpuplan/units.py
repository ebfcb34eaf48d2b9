"""Units at the edges: parse what people type, print what people read; SI inside.

Everything xpuplan computes is in SI base units: FLOP, FLOP/s, byte, byte/s, second, watt,
USD. Bytes are decimal (1 GB = 1e9 B) unless a key or string says GiB. Data files carry the
unit the source prints in the key (`hbm_gb`, `hbm_tb_per_s`, `bf16_dense_tflops`); the catalog
loader turns those into SI fields with `unit_factor`.
"""

from __future__ import annotations

import math
import re

from xpuplan.errors import SpecError

DECIMAL = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}

# Unit words a data key may end with, by dimension -> multiplier to the SI unit.
UNITS: dict[str, dict[str, float]] = {
    "flops": {"flops": 1.0, "gflops": 1e9, "tflops": 1e12, "pflops": 1e15,
              "tops": 1e12, "pops": 1e15},
    "bytes": {"bytes": 1.0, "mb": 1e6, "gb": 1e9, "tb": 1e12, "mib": 2.0**20,
              "gib": 2.0**30, "tib": 2.0**40},
    "bytes_per_s": {"bytes_per_s": 1.0, "mb_per_s": 1e6, "gb_per_s": 1e9, "tb_per_s": 1e12,
                    "gib_per_s": 2.0**30, "gbps": 1e9 / 8, "gbit_per_s": 1e9 / 8},
    "watts": {"w": 1.0, "kw": 1e3, "mw": 1e6},
    "seconds": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9},
    "usd_per_s": {"usd_per_s": 1.0, "usd_per_hour": 1 / 3600},
    "usd": {"usd": 1.0, "musd": 1e6, "busd": 1e9},
}

_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtTpPeE]?)\s*$")


def unit_factor(dimension: str, unit: str) -> float | None:
    """Multiplier from `unit` (a key suffix such as 'tb_per_s') to SI, or None if unknown."""
    return UNITS[dimension].get(unit.lower())


def parse_count(text: str | float | int, field: str = "value") -> float:
    """A count with an optional decimal suffix: '15T' -> 1.5e13, '4k' -> 4e3, 2048 -> 2048."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _COUNT.match(str(text))
        if not match:
            raise SpecError(field, text, "expected a number with an optional k/M/G/T/P suffix, "
                            "e.g. 15T")
        value = float(match.group(1)) * DECIMAL[match.group(2).lower()]
    if not value > 0:
        raise SpecError(field, text, "must be > 0")
    return value


def fmt_si(value: float, unit: str = "", digits: int = 3) -> str:
    """12345678 -> '12.3 M' + unit, with decimal prefixes."""
    if value == 0 or value != value:
        return f"{value:g} {unit}".strip()
    if abs(value) >= 1e21:  # past exa, prefixes stop being read at a glance
        return f"{value:.{digits}g} {unit}".strip()
    for prefix, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6),
                          ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}".strip()


def fmt_duration(seconds: float) -> str:
    """Seconds as the largest sensible unit: '3.2 days', '41 min', '850 ms'."""
    for name, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60),
                       ("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g} {name}"
    return f"{seconds:.3g} s"


def fmt_usd(value: float) -> str:
    """Dollars to three significant figures with a decimal suffix, sign first:
    3.8e10 -> '$38.0B', -2e11 -> '-$200B', 1.234 -> '$1.23'."""
    sign, v = ("-" if value < 0 else ""), float(f"{abs(value):.3g}")
    suffix, scale = next(((s, k) for s, k in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3))
                          if v >= k), ("", 1.0))
    x = float(f"{v / scale:.3g}")
    decimals = max(0, 2 - int(math.floor(math.log10(x)))) if x > 0 else 2
    return f"{sign}${x:.{decimals}f}{suffix}"
