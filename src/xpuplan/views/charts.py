"""Plotly figures built from result objects (no numbers computed here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from xpuplan.errors import SpecError, one_line
from xpuplan.views.output_file import write_output

if TYPE_CHECKING:
    import plotly.graph_objects as go


def pareto_figure(result) -> go.Figure:
    """Latency-throughput Pareto front of a serving search: TPOT vs output tokens/s per chip."""
    import plotly.graph_objects as go

    ms = 1e-3  # seconds per millisecond, for the axis
    pts = result.pareto
    fig = go.Figure(go.Scatter(
        x=[p["tpot_s"] / ms for p in pts], y=[p["output_tokens_per_s_per_chip"] for p in pts],
        mode="lines+markers",
        text=[f"tp{p['tp']} pp{p['pp']} ep{p['ep']} batch {p['batch']}, TTFT "
              f"{p['ttft_s'] / ms:.0f} ms" for p in pts], hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[result.tpot_s / ms], y=[result.output_tokens_per_s_per_chip],
                             mode="markers", marker={"size": 14, "symbol": "star"},
                             name="chosen"))
    fig.update_layout(title=f"{result.model} on {result.n_chips} x {result.chip}: "
                      f"{result.input_len} in / {result.output_len} out, {result.weights}",
                      xaxis_title="time per output token (ms)",
                      yaxis_title="output tokens/s per chip", showlegend=False)
    return fig


def write_figure(fig, path: str, inputs=()) -> None:
    """Write a figure as self-contained HTML, or PNG when kaleido can render it, through
    views.output_file (inputs never overwritten, links never followed, atomic replace)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".html":
        content = fig.to_html(include_plotlyjs=True, full_html=True)
    elif suffix == ".png":
        try:
            content = fig.to_image(format="png")
        except Exception as exc:  # kaleido missing, no browser, or its own errors
            reason = one_line(str(exc), 100) or type(exc).__name__
            raise SpecError("plot", path, f"PNG export needs kaleido and a browser ({reason}); "
                            "use a .html file") from None
    else:
        raise SpecError("plot", path, "allowed extensions: .html, .png")
    write_output(path, content, "plot", inputs)
