"""A plan result as named tables (the same rows for the terminal, HTML, CSV and XLSX), and
how each value prints: money as $38.0B, shares as %, other numbers with SI suffixes."""

from __future__ import annotations

import csv
from pathlib import Path

from xpuplan.errors import SpecError
from xpuplan.units import fmt_si, fmt_usd
from xpuplan.views.output_file import output_folder

# Unit suffixes of keys -> the unit printed after an SI prefix.
UNIT_SUFFIXES = (("_flop_per_s", "FLOP/s"), ("_flop", "FLOP"), ("_w", "W"), ("_kwh", "kWh"))
PERCENT_WORDS = ("share", "margin", "discount", "rate", "stake", "utilization", "fraction",
                 "mfu", "sell_through", "cost_of_capital")


def fmt_value(key: str, value) -> str:
    """How one output prints, chosen by its key's unit."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    k = key.lower()
    if k.endswith("_usd") or "usd_" in k or k.endswith("usd"):
        return fmt_usd(value)
    if any(w in k for w in PERCENT_WORDS) and abs(value) <= 2:
        return f"{value:.1%}"
    unit = next((u for suffix, u in UNIT_SUFFIXES if k.endswith(suffix)), None)
    if unit:
        return fmt_si(value, unit)
    if k in ("year", "years", "start_year", "horizon_years", "runs") or (
            isinstance(value, int) and abs(value) < 1e5):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return fmt_si(value) if abs(value) >= 1e5 else f"{value:,.4g}"


def _flat_row(row: dict) -> dict:
    """A row with nested dicts spread into slash keys (breakdown/capital/systems)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, dict):
            for k2, v2 in _flat_row(v).items():
                out[f"{k}/{k2}"] = v2
        elif not isinstance(v, list):
            out[k] = v
    return out


def plan_tables(r) -> dict[str, list[dict]]:
    """Every table of a plan result: KPIs, scalar outputs, each list of records in the
    outputs, intervals, tornado, sensitivity and the inputs with their sources."""
    tables = {"kpis": [{"kpi": k["label"], "key": k["key"], "value": k["value"]}
                       for k in r.kpis]}
    scalars = [{"output": k, "value": v} for k, v in r.outputs.items()
               if not isinstance(v, (dict, list))]
    tables["outputs"] = scalars
    for key, value in r.outputs.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            tables[key] = [_flat_row(row) for row in value]
        elif isinstance(value, dict) and value and not any(isinstance(v, (dict, list))
                                                           for v in value.values()):
            tables[key] = [{"part": k, "value": v} for k, v in value.items()]
    if r.interval:
        tables["interval"] = [{"output": k, "p10": v[0], "p50": v[1], "p90": v[2]}
                              for k, v in r.interval.items()]
    if r.tornado:
        tables["tornado"] = [row for row in r.tornado["rows"]]
    if r.sensitivity:
        tables["price_sensitivity"] = list(r.sensitivity)
    tables["inputs"] = list(r.input_table)
    return tables


def write_csv(r, folder: str) -> list[Path]:
    """One CSV per table into `folder` (created); raw numbers, units in the column keys."""
    out = output_folder(folder, "csv")
    written = []
    for name, rows in plan_tables(r).items():
        if not rows:
            continue
        keys = list(dict.fromkeys(k for row in rows for k in row))
        path = out / f"{name}.csv"
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
        written.append(path)
    return written


def write_xlsx(r, path: str) -> None:
    """One worksheet per table (raw numbers; openpyxl)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in plan_tables(r).items():
        if not rows:
            continue
        ws = wb.create_sheet(name[:31])
        keys = list(dict.fromkeys(k for row in rows for k in row))
        ws.append(keys)
        for row in rows:
            ws.append([row.get(k) if isinstance(row.get(k), (int, float, str, type(None)))
                       else str(row.get(k)) for k in keys])
    try:
        wb.save(path)
    except OSError as exc:
        raise SpecError("xlsx", path, f"cannot write the file ({exc.strerror})") from None
