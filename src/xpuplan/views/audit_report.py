"""The audit as rich tables (terminal) and a self-contained HTML page.

Tables: counts per kind; effort per target (engineer-weeks low/mid/high and USD); the ten
largest items per target. The page adds a plotly bar of effort per target (error bars from
low to high), per-kind breakdowns and every finding with each target's status. Every number
comes from the AuditResult.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.io import to_html
from rich.table import Table


def audit_tables(r) -> list[Table]:
    """Rich tables of an audit: finding counts, effort per target and largest items."""
    counts = Table("finding kind", "count", title=f"{r.path}: {r.files_scanned:,} files "
                   f"scanned, skipped {_skipped(r)}")
    for kind, n in r.counts.items():
        counts.add_row(kind, f"{n:,}")
    effort = Table("target", "weeks low", "weeks mid", "weeks high", "USD mid",
                   title=f"porting effort (${r.usd_per_engineer_week:,.0f}/engineer-week)")
    for t in r.targets:
        w, usd = r.effort[t].engineer_weeks, r.migration_cost_usd(t)
        effort.add_row(t, f"{w['low']:,.1f}", f"{w['mid']:,.1f}", f"{w['high']:,.1f}",
                       f"{usd['mid']:,.0f}")
    tables = [counts, effort]
    for t in r.targets:
        top = Table("kind", "symbol", "status", "sites", "weeks mid",
                    title=f"largest items: {t}")
        for it in r.effort[t].top_items:
            top.add_row(it["kind"], _item(it), it["status"], str(it["sites"]),
                        f"{it['engineer_weeks']['mid']:,.2f}")
        tables.append(top)
    return tables


def _item(it: dict) -> str:
    return f"{it['symbol']} ({it['path']})" if it.get("path") else it["symbol"]


def _skipped(r) -> str:
    return ", ".join(f"{n:,} {why}" for why, n in r.files_skipped.items()) or "none"


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def audit_html(r) -> str:
    """One self-contained page (plotly inlined)."""
    mids = [r.effort[t].engineer_weeks["mid"] for t in r.targets]
    fig = go.Figure(go.Bar(
        x=list(r.targets), y=mids,
        error_y={"type": "data", "symmetric": False,
                 "array": [r.effort[t].engineer_weeks["high"] - m
                           for t, m in zip(r.targets, mids, strict=True)],
                 "arrayminus": [m - r.effort[t].engineer_weeks["low"]
                                for t, m in zip(r.targets, mids, strict=True)]}),
        layout={"title": "engineer-weeks to leave CUDA (mid, low-high)",
                "yaxis_title": "engineer-weeks"})
    parts = [f"<h1>CUDA lock-in audit: {html.escape(r.path)}</h1>",
             f"<p>{r.files_scanned:,} files scanned; skipped: {html.escape(_skipped(r))}; "
             f"{len(r.parse_errors)} files did not parse. "
             f"${r.usd_per_engineer_week:,.0f} per engineer-week "
             f"({html.escape(r.usd_per_engineer_week_source)}).</p>",
             to_html(fig, include_plotlyjs=True, full_html=False),
             "<h2>Counts</h2>", _table(["kind", "count"], [[k, v] for k, v in r.counts.items()])]
    for t in r.targets:
        e, usd = r.effort[t], r.migration_cost_usd(t)
        parts += [f"<h2>{html.escape(r.rules.targets[t]['name'])}</h2>",
                  f"<p>{e.engineer_weeks['low']:,.1f} / {e.engineer_weeks['mid']:,.1f} / "
                  f"{e.engineer_weeks['high']:,.1f} engineer-weeks (low / mid / high), "
                  f"${usd['mid']:,.0f} mid.</p>",
                  _table(["kind", "weeks low", "mid", "high"],
                         [[k, f"{v['low']:.2f}", f"{v['mid']:.2f}", f"{v['high']:.2f}"]
                          for k, v in e.by_kind.items()]),
                  "<h3>Largest items</h3>",
                  _table(["kind", "symbol", "status", "sites", "weeks mid"],
                         [[i["kind"], _item(i), i["status"], i["sites"],
                           f"{i['engineer_weeks']['mid']:.2f}"] for i in e.top_items]),
                  "<h3>Assumptions</h3>",
                  _table(["kind", "status", "per", "assumption", "source", "rationale"],
                         [[a["kind"], a["status"], a["per"], a["assumption"], a["source"],
                           a["rationale"]] for a in e.assumptions])]
    rows = []
    for f in r.findings:
        offers = r.rules.by_id[f.rule].offers
        rows.append([f"{f.path}:{f.line}", f.kind, f.symbol]
                    + [f"{offers[t].status}: {offers[t].replacement}" for t in r.targets])
    parts += ["<h2>Findings</h2>", _table(["where", "kind", "symbol", *r.targets], rows)]
    if r.parse_errors:
        parts += ["<h2>Files that did not parse</h2>",
                  _table(["path", "error"], [[e["path"], e["error"]] for e in r.parse_errors])]
    style = ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;"
             "text-align:left}</style>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>xpuplan audit</title>"
            f"{style}</head><body>{''.join(parts)}</body></html>")
