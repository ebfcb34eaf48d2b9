"""Plotly figures ({data, layout} dicts) built from the API's result dicts, for the pages.

Only the API's numbers are drawn; axes say the unit. Drawn in the browser by the plotly.js
bundle the app serves itself.
"""

from __future__ import annotations

import json

from xpuplan.views.plan_report import plan_figures

S_PER_DAY = 86400.0  # unit conversion for display: seconds in a day
GB = 1e9  # bytes per (decimal) gigabyte, for display
MS = 1e-3  # seconds per millisecond, for display


def bar(title: str, x: list, y: list, y_title: str) -> dict:
    """Plotly bar chart spec (data and layout) of y against x."""
    return {"data": [{"type": "bar", "x": x, "y": y}],
            "layout": {"title": {"text": title}, "yaxis": {"title": {"text": y_title}},
                       "margin": {"t": 40, "b": 80}, "height": 320}}


def compare_train(result: dict) -> list[dict]:
    """Time to train, cost and MFU per chip (chips that cannot run the job are left out)."""
    rows = [r for r in result["rows"] if not r.get("error")]
    chips = [r["chip"] for r in rows]
    figs = [bar("time to train", chips,
                [r.get("time_to_train_s", 0) / S_PER_DAY for r in rows], "days"),
            bar("cost to train (on demand)", chips, [r.get("cost_usd") for r in rows], "USD"),
            bar("MFU", chips, [r["mfu"] for r in rows], "fraction of peak")]
    return figs


def compare_serve(result: dict) -> list[dict]:
    """Output tokens/s per chip and $ per million output tokens, one trace per model."""
    models = list(dict.fromkeys(r["model"] for r in result["rows"]))

    def grouped(key: str, title: str, unit: str, scale: float = 1.0) -> dict:
        ok = [r for r in result["rows"] if not r["error"]]
        data = [{"type": "bar", "name": m, "x": [r["chip"] for r in ok if r["model"] == m],
                 "y": [None if r.get(key) is None else r[key] / scale
                       for r in ok if r["model"] == m]}
                for m in models]
        return {"data": data, "layout": {"title": {"text": title}, "barmode": "group",
                                         "yaxis": {"title": {"text": unit}}, "height": 320,
                                         "margin": {"t": 40, "b": 80}}}

    return [grouped("output_tokens_per_s_per_chip", "output tokens/s per chip", "tokens/s"),
            grouped("usd_per_mtok_output", "cost per million output tokens", "USD"),
            grouped("tpot_s", "time per output token", "ms", MS)]


def stacked(title: str, parts: dict, scale: float, unit: str, label: str) -> dict:
    """One stacked bar: each named part of a total is a trace."""
    data = [{"type": "bar", "name": k, "x": [label], "y": [v / scale]}
            for k, v in parts.items() if v]
    return {"data": data, "layout": {"title": {"text": title}, "barmode": "stack",
                                     "yaxis": {"title": {"text": unit}}, "height": 360,
                                     "margin": {"t": 40}}}


def train(result: dict) -> list[dict]:
    """Step-time and per-chip memory breakdowns of the chosen layout."""
    return [stacked("step time breakdown", result["breakdown_s"], 1.0, "s", "step"),
            stacked(f"memory per chip (HBM {result['hbm_bytes'] / GB:g} GB)",
                    result["memory_bytes"], GB, "GB", "per chip")]


def pareto(results: dict[str, dict]) -> list[dict]:
    """Latency-throughput Pareto front per chip: TPOT vs output tokens/s per chip."""
    data = [{"type": "scatter", "mode": "lines+markers", "name": chip,
             "x": [p["tpot_s"] / MS for p in r["pareto"]],
             "y": [p["output_tokens_per_s_per_chip"] for p in r["pareto"]],
             "text": [f"tp={p['tp']} pp={p['pp']} ep={p['ep']} batch={p['batch']}"
                      for p in r["pareto"]]}
            for chip, r in results.items()]
    return [{"data": data, "layout": {
        "title": {"text": "Pareto front: latency vs throughput"}, "height": 420,
        "xaxis": {"title": {"text": "TPOT (ms per output token)"}, "type": "log"},
        "yaxis": {"title": {"text": "output tokens/s per chip"}}}},
        bar("cost per million output tokens", list(results),
            [r.get("usd_per_mtok_output") for r in results.values()], "USD")]


def accuracy(report: dict, kind: str | None) -> list[dict]:
    """Predicted vs measured per vendor, in-sample and leave-one-source-out, with y = x."""
    rows = [r for r in report["rows"] if kind in (None, r["kind"])]
    vendors = sorted({r["vendor"] for r in rows})
    values = [r["measured"] for r in rows] + [r["predicted"] for r in rows]
    low, high = (min(values), max(values)) if values else (1, 10)
    figs = []
    for key, title in (("predicted", "in-sample"), ("predicted_loso", "leave-one-source-out")):
        data = [{"type": "scatter", "mode": "markers", "name": v,
                 "x": [r["measured"] for r in rows if r["vendor"] == v],
                 "y": [r[key] for r in rows if r["vendor"] == v],
                 "text": [r["id"] for r in rows if r["vendor"] == v]} for v in vendors]
        data.append({"type": "scatter", "mode": "lines", "name": "predicted = measured",
                     "x": [low, high], "y": [low, high], "line": {"dash": "dot"}})
        figs.append({"data": data, "layout": {
            "title": {"text": f"predicted vs measured ({title})"}, "height": 420,
            "xaxis": {"title": {"text": "measured (row's metric)"}, "type": "log"},
            "yaxis": {"title": {"text": "predicted"}, "type": "log"}}})
    return figs


def chips(items: list[dict]) -> list[dict]:
    """BF16 dense FLOP/s per chip, in TFLOP/s."""
    rows = [c for c in items if "bf16_dense_flops" in c["figures"]]
    return [bar("BF16 dense compute", [c["id"] for c in rows],
                [c["figures"]["bf16_dense_flops"]["value"] / 1e12 for c in rows], "TFLOP/s")]


def plan(result) -> list[dict]:
    """The plan report's charts (views.plan_report) as Plotly JSON objects for the page."""
    return [json.loads(f.to_json()) for f in plan_figures(result)]
