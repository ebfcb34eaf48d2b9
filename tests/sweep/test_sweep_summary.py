"""The summary reads its numbers from the rows: best chips, frontiers, plan spreads."""

from __future__ import annotations

import pandas as pd

from xpuplan import api, sweep


def test_best_chip_per_model_is_the_cheapest_and_the_fastest_row(train_sweep):
    _, out, _ = train_sweep
    rows = pd.read_parquet(out)
    ok = rows[rows["error"].isna()]
    s = sweep.summarize(out)
    assert (s.kind, s.cells, s.errors) == ("train", 24, 4)
    assert {(b["model"], b["by"]) for b in s.best} == {
        (m, by) for m in ok["model"].unique() for by in ("cost_usd", "time_to_train_s")}
    for b in s.best:
        mine = ok[ok["model"] == b["model"]]
        winner = mine.loc[mine[b["by"]].idxmin()]
        assert (b["chip"], b["cell_index"]) == (winner["chip"], winner["cell_index"])
        assert b[b["by"]] == mine[b["by"]].min()
        assert b["inputs"]["chip"] == winner["input/chip"]


def test_frontier_points_are_not_dominated(train_sweep):
    spec, out, _ = train_sweep
    rows = pd.read_parquet(out)
    s = sweep.summarize(out)
    assert {f["chip"] for f in s.frontier} == {api.chip(c).id for c in spec.grid["chip"]}
    for f in s.frontier:
        cells = rows[(rows["model"] == f["model"]) & (rows["chip"] == f["chip"])]
        for p in f["points"]:  # no cell of that chip is both faster and cheaper
            better = cells[(cells["time_to_train_s"] < p["time_to_train_s"])
                           & (cells["cost_usd"] < p["cost_usd"])]
            assert better.empty
        times = [p["time_to_train_s"] for p in f["points"]]
        costs = [p["cost_usd"] for p in f["points"]]
        assert times == sorted(times) and costs == sorted(costs, reverse=True)


def test_frontier_chart_has_one_trace_per_model_and_chip(train_sweep):
    _, out, _ = train_sweep
    s = sweep.summarize(out)
    fig = sweep.summary.frontier_figure(s)
    assert len(fig.data) == len(s.frontier)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
