"""What a decision document opens with: the KPIs of each kind, every input with its source
(or 'assumed'), and a tornado over every numeric input.

Tornado: each numeric input x_i is moved to x_i·(1 ± step) alone and the scenario rerun;
the swing of the headline KPI is |KPI(+) − KPI(−)|, sorted largest first (one-at-a-time
sensitivity; interactions neglected). Inputs that the move makes invalid are listed with
the reason instead of a swing.
"""

from __future__ import annotations

from pydantic import ValidationError

from xpuplan.economics.scenario import SCENARIO
from xpuplan.economics.solve import get_path, set_path
from xpuplan.errors import XpuplanError

# Headline numbers per kind: (label, output key); the first is the tornado's KPI.
KPIS = {
    "contract": [("chip-hours bought", "chip_hours"), ("average chips", "avg_chips"),
                 ("peak chips", "peak_chips"), ("price per chip-hour", "usd_per_chip_hour"),
                 ("training runs", "training_runs"),
                 ("serving tokens per day", "serving_tokens_per_day")],
    "power_budget": [("owned cost per chip-hour", "owned_usd_per_chip_hour"),
                     ("chips", "n_chips"), ("capex", "capex_usd"),
                     ("annual cost", "annualised_usd_per_year"),
                     ("training runs per year", "training_runs_per_year"),
                     ("serving tokens per day", "serving_tokens_per_day")],
    "vendor_mix": [("NPV cost of the mix", "npv_cost_usd"),
                   ("NPV staying on the incumbents", "staying_put_npv_usd"),
                   ("NPV savings", "npv_savings_usd"), ("payback years", "payback_years"),
                   ("payback", "payback_status")],
    "investment": [("investor NPV", "investor_npv_usd"), ("investee NPV", "investee_npv_usd"),
                   ("effective discount", "effective_discount"),
                   ("circular share", "circular_share"), ("equity stake", "equity_stake")],
    "tco_compare": [("cheapest per token", "cheapest_per_token"),
                    ("cost of capital", "cost_of_capital")],
    "spend_forecast": [("total spend", "total_spend_usd")],
    "deal_timeline": [("spend in the window", "window_total_usd"), ("claim", "claim_usd"),
                      ("claim met", "claim_met"), ("all deals", "total_usd")],
}
SKIP_INPUTS = ("sources", "spreads", "assumptions", "description", "name", "kind")
TORNADO_STEP = 0.2  # ±20 % on each input
TORNADO_KPI = {"tco_compare": "options[0].owned_usd_per_mtok_trained"}


def kpis(kind: str, outputs: dict) -> list[dict]:
    """[{label, key, value}] for the outputs this kind has."""
    rows = [{"label": label, "key": key, "value": outputs.get(key)}
            for label, key in KPIS.get(kind, []) if key in outputs]
    for i, opt in enumerate(outputs.get("options", [])):  # tco_compare: each option's cost
        rows.append({"label": f"owned cost per chip-hour, {opt['label']}",
                     "key": f"options[{i}].owned_usd_per_chip_hour",
                     "value": opt["owned_usd_per_chip_hour"]})
    return rows


def _flat(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flat(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for i, v in enumerate(obj):
            yield from _flat(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def _source(key: str, sources: dict) -> str:
    """The source of `key` or of the closest enclosing key that has one."""
    parts = key.replace("[", ".[").split(".")
    for n in range(len(parts), 0, -1):
        k = ".".join(parts[:n]).replace(".[", "[")
        if k in sources:
            return sources[k]
        if parts[n - 1] in sources:  # a leaf named without its path
            return sources[parts[n - 1]]
    return ""


def input_rows(s) -> list[dict]:
    """Every input of the scenario (nested keys dotted), its value and its source; an input
    without a source is marked 'assumed' (no source given, or a default the scenario did not
    set); override records included."""
    data = s.model_dump()
    given = {k for k, _ in _flat(s.model_dump(exclude_unset=True))}
    rows = []
    for key, value in _flat({k: v for k, v in data.items() if k not in SKIP_INPUTS}):
        if value is None:
            continue
        src = (_source(key, s.sources) or "assumed (no source given)") if key in given else \
            "assumed (xpuplan default, not set in the scenario)"
        rows.append({"input": key, "value": value if isinstance(value, (int, float, bool))
                     else str(value), "source": src})
    for section, records in s.assumptions.items():
        for r in records:
            for k, v in r.items():
                if k not in ("id", "source", "retrieved", "sources"):
                    rows.append({"input": f"assumptions.{section}[{r['id']}].{k}", "value": v,
                                 "source": (r.get("sources") or {}).get(k, r["source"])})
    return rows


def _get(outputs: dict, key: str):
    return get_path(outputs, key, "target")


def tornado(ctx, s, run, base_outputs: dict, step: float = TORNADO_STEP) -> dict:
    """One-at-a-time ±step swings of the headline KPI over every numeric input."""
    kpi = TORNADO_KPI.get(s.kind) or KPIS[s.kind][0][1]
    base = _get(base_outputs, kpi)
    rows = []
    data = s.model_dump()
    for key, value in _flat({k: v for k, v in data.items() if k not in SKIP_INPUTS}):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
            continue
        ends: list[tuple] = []  # (x, kpi) or (x, None, why)
        for f in (1 - step, 1 + step):
            x = type(value)(round(value * f)) if isinstance(value, int) else value * f
            try:
                given = s.model_dump(exclude_unset=True)  # unset keys keep their rules
                scen = SCENARIO.validate_python(set_path(given, key, x))
                ends.append((x, _get(run(ctx, scen).outputs, kpi)))
            except (ValidationError, XpuplanError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                ends.append((x, None, msg))
        if all(len(e) == 2 and isinstance(e[1], (int, float)) for e in ends):
            (lo_x, lo_y), (hi_x, hi_y) = ends
            rows.append({"input": key, "value": value, "low_value": lo_x, "high_value": hi_x,
                         "kpi_at_low": lo_y, "kpi_at_high": hi_y,
                         "swing": abs(hi_y - lo_y)})
        else:
            why = next((e[2] for e in ends if len(e) == 3), "the KPI is not a number there")
            rows.append({"input": key, "value": value, "skipped": why})
    rows.sort(key=lambda r: -r.get("swing", -1))
    return {"kpi": kpi, "kpi_value": base, "step": step, "rows": rows}
