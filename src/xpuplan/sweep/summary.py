"""What a sweep found: the best chip per model by cost and by time, and each chip's frontier.

Train sweeps rank cells by `cost_usd` and `time_to_train_s` (both need `tokens` in the
spec); infer sweeps by `usd_per_mtok_output` and `e2e_latency_s`. A chip's frontier, per
model, is its Pareto-minimal cells in (time, cost): sorted by time, each point cheaper than
every faster one. Plan sweeps report the spread (min, median, max) of each numeric output.
Every number is read from the stored rows; nothing is recomputed here.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from xpuplan.errors import SpecError
from xpuplan.sweep.cells import INPUT
from xpuplan.sweep.store import read_results, sweep_kind
from xpuplan.units import fmt_si

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Per kind: the cost and time columns ranked, the chip-count column, and their titles.
METRICS = {
    "train": {"cost": "cost_usd", "time": "time_to_train_s", "count": "n_chips",
              "cost_title": "cost of the run (USD)", "time_title": "time to train (s)",
              "cost_head": "cost (USD)", "time_head": "time (s)"},
    "infer": {"cost": "usd_per_mtok_output", "time": "e2e_latency_s", "count": "n_chips",
              "cost_title": "USD per million output tokens",
              "time_title": "end-to-end latency (s)", "cost_head": "USD/Mtok out",
              "time_head": "latency (s)"},
}


@dataclass
class SweepSummary:
    """Best cells per model, frontiers per (model, chip), or for plans the output spread."""

    path: str
    kind: str
    cells: int
    errors: int
    cost_key: str | None = None
    time_key: str | None = None
    best: list[dict] = field(default_factory=list)  # one per (model, by)
    frontier: list[dict] = field(default_factory=list)  # one per (model, chip)
    outputs: list[dict] = field(default_factory=list)  # plan: one per numeric output
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(path: str | os.PathLike) -> SweepSummary:
    """Summarize a sweep folder (finished or interrupted)."""
    rows = read_results(path).to_pandas()
    kind = sweep_kind(path)
    ok = rows[rows["error"].isna()]
    s = SweepSummary(path=str(path), kind=kind, cells=len(rows), errors=len(rows) - len(ok))
    if kind == "plan":
        s.outputs = _spread(ok)
        return s
    m = METRICS[kind]
    cost, time, count = m["cost"], m["time"], m["count"]
    s.cost_key, s.time_key = cost, time
    inputs = [c for c in rows.columns if c.startswith(INPUT)]
    for model, cells in ok.groupby("model", sort=True):
        for by in (cost, time):  # "by" is the column ranked on
            have = cells[cells[by].notna()] if by in cells else cells.iloc[:0]
            if have.empty:
                continue
            r = have.loc[have[by].idxmin()]
            s.best.append({"model": model, "by": by, "chip": r["chip"], "n_chips": int(r[count]),
                           cost: _num(r.get(cost)), time: _num(r.get(time)),
                           "cell_index": int(r["cell_index"]),
                           "inputs": {k.removeprefix(INPUT): _num(r[k]) for k in inputs}})
        for chip, group in cells.groupby("chip", sort=True):
            points = _pareto(group, time, cost, count)
            if points:
                s.frontier.append({"model": model, "chip": chip, "points": points})
    if cost not in ok or ok[cost].isna().all():
        s.note = (f"no {cost} in any cell: " + ("give tokens in the spec, and chips with a "
                  "catalog price" if kind == "train" else "the chips have no catalog price"))
    return s


def _pareto(group: pd.DataFrame, time: str, cost: str, count: str) -> list[dict]:
    """Cells no other cell beats on both time and cost, fastest first."""
    if cost not in group or time not in group:
        return []
    g = group[group[cost].notna() & group[time].notna()].sort_values([time, cost])
    points, best = [], float("inf")
    for _, r in g.iterrows():
        if r[cost] < best:
            best = r[cost]
            points.append({time: float(r[time]), cost: float(r[cost]),
                           "n_chips": int(r[count]), "cell_index": int(r["cell_index"])})
    return points


def _spread(ok: pd.DataFrame) -> list[dict]:
    cols = [c for c in ok.columns if c.startswith("outputs/")
            and pd.api.types.is_numeric_dtype(ok[c]) and not pd.api.types.is_bool_dtype(ok[c])]
    return [{"key": c, "min": float(ok[c].min()), "median": float(ok[c].median()),
             "max": float(ok[c].max())} for c in cols if ok[c].notna().any()]


def _num(value):
    """A pandas/numpy scalar as a plain Python value (NaN as None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def frontier_figure(s: SweepSummary) -> go.Figure:
    """Plotly: per model (one panel each), every chip's cost-vs-time frontier, log axes."""
    if s.kind not in METRICS:
        raise SpecError("html", s.kind, "the frontier chart is for train and infer sweeps")
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    models = sorted({f["model"] for f in s.frontier})
    if not models:
        raise SpecError("html", s.path, f"no cell has both {s.cost_key} and {s.time_key}")
    chips = sorted({f["chip"] for f in s.frontier})
    colour = {c: qualitative.Plotly[i % len(qualitative.Plotly)] for i, c in enumerate(chips)}
    fig = make_subplots(rows=len(models), cols=1, subplot_titles=models)
    shown = set()
    for f in s.frontier:
        pts = f["points"]
        fig.add_trace(go.Scatter(
            x=[p[s.time_key] for p in pts], y=[p[s.cost_key] for p in pts],
            mode="lines+markers", name=f["chip"], legendgroup=f["chip"],
            showlegend=f["chip"] not in shown, line={"color": colour[f["chip"]]},
            text=[f"{f['chip']} x {p['n_chips']} (cell {p['cell_index']})" for p in pts],
            hovertemplate="%{text}<br>%{x:.3g} s, %{y:.3g}<extra></extra>"),
            row=models.index(f["model"]) + 1, col=1)
        shown.add(f["chip"])
    fig.update_xaxes(type="log", title_text=METRICS[s.kind]["time_title"])
    fig.update_yaxes(type="log", title_text=METRICS[s.kind]["cost_title"])
    fig.update_layout(title=f"{s.path}: cost vs time frontier per chip",
                      height=max(400, 320 * len(models)))
    return fig


def write_html(s: SweepSummary, path: str) -> None:
    """The frontier chart as one self-contained HTML file."""
    frontier_figure(s).write_html(path, include_plotlyjs=True)


def summary_tables(s: SweepSummary) -> list:
    """Rich tables of a summary, for the CLI."""
    from rich.table import Column, Table

    title = f"{s.path}: {s.cells} {s.kind} cells, {s.errors} errors"
    if s.kind == "plan":
        table = Table("output", "min", "median", "max", title=title)
        for o in s.outputs:
            table.add_row(o["key"], *(fmt_si(o[k]) for k in ("min", "median", "max")))
        return [table]
    m = METRICS[s.kind]
    table = Table(Column("model", no_wrap=True), "best by", Column("chip", no_wrap=True),
                  "chips", m["cost_head"], m["time_head"], "cell", title=title)
    for b in s.best:
        by = "cost" if b["by"] == s.cost_key else "time"
        table.add_row(b["model"], by, b["chip"], str(b["n_chips"]), _fmt(b[s.cost_key]),
                      _fmt(b[s.time_key]), str(b["cell_index"]))
    return [table]


def _fmt(value) -> str:
    return "-" if value is None else fmt_si(value)
