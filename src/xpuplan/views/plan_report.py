"""Self-contained HTML report of a plan: inputs with sources, the arithmetic, and charts.

Charts (plotly) by kind: cost breakdown (power budget), P10-P90 ranges (contract, power
budget), vendor mix and price sensitivity (vendor mix), cash flows (investment), owned cost
per token (tco compare), yearly spend (forecast). Every number comes from the PlanResult.
"""

from __future__ import annotations

import html
import json

import plotly.graph_objects as go
from plotly.io import to_html


def _figures(r) -> list[go.Figure]:
    o, figs = r.outputs, []
    if r.kind == "power_budget":
        life_note = "annualised"
        figs.append(go.Figure(go.Bar(
            x=["systems capex", "facility capex", "energy per year", "annualised per year"],
            y=[o["capex_systems_usd"], o["capex_facility_usd"], o["energy_usd_per_year"],
               o["annualised_usd_per_year"]]),
            layout={"title": f"cost breakdown ({life_note}), USD", "yaxis_title": "USD"}))
    if r.kind == "vendor_mix":
        years = o["years"]
        figs.append(go.Figure([go.Bar(name=v["chip"], x=[y["year"] for y in years],
                                      y=[y[f"{v['chip']}_chips"] for y in years])
                               for v in o["vendors"]],
                              layout={"barmode": "stack", "title": "least-cost mix: chips held "
                                      "per year", "xaxis_title": "year", "yaxis_title": "chips"}))
        if r.sensitivity:
            figs.append(go.Figure(go.Bar(
                x=[f"{s['chip']} price x{s['price_factor']:g}" for s in r.sensitivity],
                y=[s["npv_cost_usd"] for s in r.sensitivity]),
                layout={"title": "sensitivity: NPV cost when one price moves 20%",
                        "yaxis_title": "USD"}))
    if r.kind == "investment":
        flows = o["cash_flows"]
        figs.append(go.Figure([go.Bar(name=r.inputs["investee"], x=[f["year"] for f in flows],
                                      y=[f["investee_usd"] for f in flows]),
                               go.Bar(name=r.inputs["investor"], x=[f["year"] for f in flows],
                                      y=[f["investor_usd"] for f in flows])],
                              layout={"barmode": "group", "title": "net cash flow by year",
                                      "xaxis_title": "year", "yaxis_title": "USD"}))
    if r.kind == "tco_compare":
        opts = o["options"]
        figs.append(go.Figure(go.Bar(x=[p["label"] for p in opts],
                                     y=[p["owned_usd_per_mtok_trained"] for p in opts]),
                              layout={"title": "owned cost per million training tokens",
                                      "yaxis_title": "USD"}))
    if r.kind == "spend_forecast":
        years = o["years"]
        figs.append(go.Figure(go.Scatter(x=[y["year"] for y in years],
                                         y=[y["spend_usd"] for y in years], mode="lines+markers"),
                              layout={"title": "compute spend per year", "yaxis_title": "USD"}))
    if r.interval:
        names = list(r.interval)
        figs.append(go.Figure([go.Bar(name=f"P{q}", x=names, y=[r.interval[n][k] / r.interval[n][1]
                                                               for n in names])
                               for k, q in enumerate((10, 50, 90))],
                              layout={"barmode": "group", "title": "P10 / P50 / P90 relative "
                                      "to P50 (Monte Carlo of price, efficiency, utilisation)"}))
    return figs


def plan_html(r) -> str:
    """The report as one HTML string with plotly inlined (opens offline)."""
    figs = _figures(r)
    charts = "".join(to_html(f, full_html=False, include_plotlyjs=(i == 0))
                     for i, f in enumerate(figs))
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in r.sources.items())
    steps = "".join(f"<li>{html.escape(line)}</li>" for line in r.explain)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>xpuplan plan: {html.escape(r.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td{{border-bottom:1px solid #ddd;padding:4px}}</style></head><body>
<h1>{html.escape(r.name)}</h1><p>{html.escape(r.description)}</p>
<h2>How the numbers follow</h2><ol>{steps}</ol>
<h2>Charts</h2>{charts}
<h2>Inputs and their sources</h2><table>{rows}</table>
<h2>All outputs (JSON)</h2><pre>{html.escape(json.dumps(r.outputs, indent=1, default=str))}</pre>
</body></html>"""
