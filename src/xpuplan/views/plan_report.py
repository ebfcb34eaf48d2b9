"""Self-contained HTML report of a plan, laid out as a decision document.

Order: KPI summary; the goal-seek answer (if any); the arithmetic step by step; charts
(cash flows or costs over time, capex apart from yearly costs, absolute P10-P90 per output,
a tornado of the headline KPI over every numeric input); every table; every input with its
source (inputs without one are marked 'assumed'). Every number comes from the PlanResult.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.io import to_html

from xpuplan.views.plan_tables import fmt_value, plan_tables

LAYOUT = {"height": 380, "margin": {"t": 50, "b": 40, "l": 60, "r": 20}}


def _fig(data, title: str, **layout) -> go.Figure:
    return go.Figure(data, layout={**LAYOUT, "title": title, **layout})


def _time_figures(r) -> list[go.Figure]:
    """Money or fleets over time, by kind; capex and yearly costs on their own axes."""
    o, figs = r.outputs, []
    if r.kind == "power_budget":
        figs.append(_fig(go.Bar(x=["racks", "scale-out network", "storage", "facility"],
                                y=[o["capex_systems_usd"], o["capex_network_usd"],
                                   o["capex_storage_usd"], o["capex_facility_usd"]]),
                         "capex, USD (paid once)", yaxis_title="USD"))
        parts = o["annual_cost_breakdown_usd_per_year"]
        figs.append(_fig(go.Bar(x=list(parts), y=list(parts.values())),
                         "annual cost, USD per year (capital as an annuity)",
                         yaxis_title="USD per year"))
    if r.kind == "vendor_mix":
        years = o["years"]
        x = [y["year"] for y in years]
        figs.append(_fig([go.Bar(name=v["chip"], x=x, y=[y[f"{v['chip']}_chips"] for y in years])
                          for v in o["vendors"]], "chips held per year",
                         barmode="stack", xaxis_title="year", yaxis_title="chips"))
        lines = [go.Scatter(name="mix (incl. migration)", x=x, y=[y["cost_usd"] for y in years])]
        if years[0].get("staying_put_usd") is not None:
            lines.append(go.Scatter(name="staying on the incumbents", x=x,
                                    y=[y["staying_put_usd"] for y in years]))
            lines.append(go.Bar(name="cumulative discounted savings", x=x,
                                y=[y["cumulative_discounted_savings_usd"] for y in years]))
        figs.append(_fig(lines, "cost per year and cumulative savings, USD",
                         xaxis_title="year", yaxis_title="USD"))
    if r.kind == "investment":
        flows = o["cash_flows"]
        x = [f["year"] for f in flows]
        figs.append(_fig([go.Bar(name=f"{r.inputs['investor']} invests", x=x,
                                 y=[f["investment_usd"] for f in flows]),
                          go.Bar(name=f"{r.inputs['investee']} buys", x=x,
                                 y=[f["purchases_usd"] for f in flows]),
                          go.Scatter(name=f"{r.inputs['investee']} net", x=x,
                                     y=[f["investee_usd"] for f in flows]),
                          go.Scatter(name=f"{r.inputs['investor']} net", x=x,
                                     y=[f["investor_usd"] for f in flows])],
                         "cash flows by year, USD", barmode="group", xaxis_title="year",
                         yaxis_title="USD"))
    if r.kind == "deal_timeline":
        rows = o["timeline"]
        figs.append(_fig([go.Bar(name=v, x=[t["year"] for t in rows],
                                 y=[t[f"{v}_usd"] for t in rows]) for v in o["sellers"]],
                         "spend by seller and year, USD", barmode="stack",
                         xaxis_title="year", yaxis_title="USD"))
    if r.kind == "contract" and len(o["chips_by_year"]) > 1:
        figs.append(_fig(go.Bar(x=[y["year"] for y in o["chips_by_year"]],
                                y=[y["n_chips"] for y in o["chips_by_year"]]),
                         f"fleet per contract year (peak {o['peak_chips']:,.0f}, average "
                         f"{o['avg_chips']:,.0f})", xaxis_title="year", yaxis_title="chips"))
    if r.kind == "tco_compare":
        opts = o["options"]
        figs.append(_fig([go.Bar(name=k, x=[p["label"] for p in opts],
                                 y=[p["breakdown_usd_per_chip_year"][k] for p in opts])
                          for k in opts[0]["breakdown_usd_per_chip_year"]],
                         "owned cost per chip-year by line, USD", barmode="stack",
                         yaxis_title="USD per chip-year"))
    if r.kind == "spend_forecast":
        years = o["years"]
        figs.append(_fig(go.Scatter(x=[y["year"] for y in years],
                                    y=[y["spend_usd"] for y in years], mode="lines+markers"),
                         "compute spend per year, USD", yaxis_title="USD"))
    return figs


def _interval_figures(r) -> list[go.Figure]:
    """One chart per output: P50 bar with the P10-P90 range, in the output's own unit."""
    return [_fig(go.Bar(x=[name], y=[p50], error_y={"type": "data", "symmetric": False,
                                                     "array": [p90 - p50],
                                                     "arrayminus": [p50 - p10]},
                        text=[f"P10 {fmt_value(name, p10)} / P50 {fmt_value(name, p50)} / "
                              f"P90 {fmt_value(name, p90)}"], textposition="outside"),
                 f"{name}: P50 with P10-P90 (Monte Carlo)", height=300)
            for name, (p10, p50, p90) in r.interval.items()]


def _tornado_figure(r) -> go.Figure | None:
    t = r.tornado
    rows = [row for row in (t or {}).get("rows", []) if "swing" in row][::-1]
    if not rows:
        return None
    base = t["kpi_value"]
    names = [row["input"] for row in rows]
    return _fig([go.Bar(name=f"input x{1 - t['step']:g}", y=names, orientation="h",
                        x=[row["kpi_at_low"] - base for row in rows], base=base),
                 go.Bar(name=f"input x{1 + t['step']:g}", y=names, orientation="h",
                        x=[row["kpi_at_high"] - base for row in rows], base=base)],
                f"tornado: {t['kpi']} when one input moves ±{t['step']:.0%} "
                f"(base {fmt_value(t['kpi'], base)})", barmode="overlay",
                height=max(300, 26 * len(rows) + 120), xaxis_title=t["kpi"])


def _table(name: str, rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(
        f"<td>{html.escape(fmt_value(k, row.get(k)) if k != 'source' else str(row.get(k)))}"
        "</td>" for k in keys) + "</tr>" for row in rows)
    return f"<h3>{html.escape(name)}</h3><table><tr>{head}</tr>{body}</table>"


def plan_figures(r) -> list[go.Figure]:
    """Every chart of the report: money or fleets over time, P10-P90, the tornado."""
    figs = [*_time_figures(r), *_interval_figures(r)]
    tornado = _tornado_figure(r)
    if tornado is not None:
        figs.append(tornado)
    return figs


def plan_html(r) -> str:
    """The report as one HTML string with plotly inlined (opens offline)."""
    figs = plan_figures(r)
    charts = "".join(to_html(f, full_html=False, include_plotlyjs=(i == 0))
                     for i, f in enumerate(figs))
    tables = plan_tables(r)
    kpi_cards = "".join(f"<div class='kpi'><div class='v'>"
                        f"{html.escape(fmt_value(k['key'], k['value']))}</div>"
                        f"<div class='l'>{html.escape(k['kpi'])}</div></div>"
                        for k in tables.pop("kpis"))
    inputs = tables.pop("inputs")
    solve = r.outputs.get("solve")
    solved = "" if not solve else (
        f"<p class='solve'>{html.escape(r.explain[0])}</p>")
    steps = "".join(f"<li>{html.escape(line)}</li>" for line in r.explain)
    rows = "".join(f"<tr class='{'assumed' if i['source'].startswith('assumed') else ''}'>"
                   f"<td>{html.escape(i['input'])}</td>"
                   f"<td>{html.escape(fmt_value(i['input'], i['value']))}</td>"
                   f"<td>{html.escape(i['source'])}</td></tr>" for i in inputs)
    rest = "".join(_table(name, t) for name, t in tables.items() if t)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>xpuplan plan: {html.escape(r.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td,th{{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;font-size:13px}}
.kpis{{display:flex;flex-wrap:wrap;gap:12px}} .kpi{{border:1px solid #ccd;border-radius:6px;
padding:10px 16px;min-width:150px}} .kpi .v{{font-size:24px;font-weight:bold;color:#1f4e9a}}
.kpi .l{{color:#555}} tr.assumed td{{background:#fff4d6}} .solve{{font-weight:bold}}</style>
</head><body>
<h1>{html.escape(r.name)}</h1><p>{html.escape(r.description)}</p>
<h2>Summary</h2><div class="kpis">{kpi_cards}</div>{solved}
<h2>Inputs and their sources</h2><table><tr><th>input</th><th>value</th><th>source</th></tr>
{rows}</table>
<h2>How the numbers follow</h2><ol>{steps}</ol>
<h2>Charts</h2>{charts}
<h2>Tables</h2>{rest}
</body></html>"""
