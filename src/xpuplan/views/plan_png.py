"""PNG charts of a plan with matplotlib's Agg backend (no browser or system install): every
yearly table as lines over years (money and counts on separate charts), the tornado, and
absolute P10-P90 bars. Numbers come from the plan's tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xpuplan.errors import SpecError
from xpuplan.views.output_file import output_folder
from xpuplan.views.plan_tables import plan_tables

YEARLY_TABLES = ("years", "cash_flows", "timeline", "chips_by_year")


def write_png(r, folder: str) -> list[Path]:
    """Write the charts into `folder`; returns the files written."""
    plt = _pyplot(folder)
    out = output_folder(folder, "png")
    written = []
    for figures in (_yearly_figures, _tornado_figures, _interval_figures):
        for name, fig in figures(plt, r):  # each drawn, then saved and closed
            path = out / f"{name}.png"
            fig.tight_layout()
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    return written


def _pyplot(folder: str) -> Any:
    """matplotlib.pyplot on the Agg backend, or SpecError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise SpecError("png", folder, "PNG charts need matplotlib: pip install "
                        "'xpuplan[png]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _yearly_figures(plt: Any, r) -> Iterator[tuple[str, Any]]:
    """(name, figure) of each yearly table's lines over years: money, then chip counts."""
    tables = plan_tables(r)
    for name in YEARLY_TABLES:
        rows = tables.get(name)
        if not rows:
            continue
        years = [row["year"] for row in rows]
        for unit, pick in (("USD", lambda k: k.endswith("_usd")),
                           ("chips", lambda k: k.endswith("chips"))):
            keys = [k for k in rows[0] if pick(k) and isinstance(rows[0][k], (int, float))]
            if not keys:
                continue
            fig, ax = plt.subplots(figsize=(8, 4))
            for k in keys:
                ax.plot(years, [row.get(k) or 0.0 for row in rows], marker="o", label=k)
            ax.set(xlabel="year", ylabel=unit, title=f"{r.name}: {name} ({unit})")
            ax.legend(fontsize=7)
            yield f"{name}_{unit.lower()}", fig


def _tornado_figures(plt: Any, r) -> Iterator[tuple[str, Any]]:
    """(name, figure) of the tornado, where the plan has swings: the KPI at each input's low
    and high step."""
    swings = [row for row in (r.tornado or {}).get("rows", []) if "swing" in row][::-1]
    if swings:
        base = r.tornado["kpi_value"]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(swings) + 1.5))
        names = [row["input"] for row in swings]
        ax.barh(names, [row["kpi_at_low"] - base for row in swings], left=base,
                label=f"x{1 - r.tornado['step']:g}")
        ax.barh(names, [row["kpi_at_high"] - base for row in swings], left=base,
                label=f"x{1 + r.tornado['step']:g}", alpha=0.7)
        ax.set(xlabel=r.tornado["kpi"], title=f"{r.name}: tornado (±{r.tornado['step']:.0%})")
        ax.legend(fontsize=7)
        yield "tornado", fig


def _interval_figures(plt: Any, r) -> Iterator[tuple[str, Any]]:
    """(name, figure) of each P10-P90 interval of the plan, as a bar at P50."""
    for key, (p10, p50, p90) in r.interval.items():
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.bar([key], [p50], yerr=[[p50 - p10], [p90 - p50]], capsize=8)
        ax.set(title=f"{key}: P50, P10-P90")
        yield f"interval_{key}", fig
