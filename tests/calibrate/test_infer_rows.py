"""The inference validation rows: every published layout is one the model accepts, and every
skipped row names a row of the CSV with its reason and source (shapes, not accuracy)."""

from __future__ import annotations

import csv

from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.records import read_table_file
from xpuplan.serve.evaluate import ServeReason, evaluate_serving
from xpuplan.specs.layouts import ServeLayouts


def test_every_published_layout_fits_and_is_legal():
    # A row whose layout fails a check is predicted at batch 1 on a rejected layout (the
    # DS-R1 GB200 row with EP missing put 671B on one GPU and came out 140x low).
    rows, _ = infer_rows()
    bad = {}
    for r in rows:
        reason = int(evaluate_serving(r.problem, ServeLayouts.build(r.tp, r.pp, r.ep, 1))
                     .reason[0])
        if reason != ServeReason.OK:
            bad[r.id] = ServeReason(reason).name
    assert bad == {}


def test_skipped_rows_exist_and_say_why():
    skips = read_table_file(builtin_file("validation/infer_skips.toml"))["skip"]
    with builtin_file("validation/infer_measurements.csv").open(newline="") as f:
        ids = {row["id"] for row in csv.DictReader(f)}
    _, skipped = infer_rows()
    for s in skips:
        assert s["id"] in ids and s["reason"] and s["source"] and s["retrieved"]
        assert skipped[s["id"]] == s["reason"]
