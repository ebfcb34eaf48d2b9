"""Calibration rules of issue #11: bounds are failed fits, groups need two sources; and the
confidence every prediction carries."""

from __future__ import annotations

import tomllib
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.calibrate.calibrate import Grid, fit, leave_one_source_out
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.calibrate.report import fit_rows_of
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.registry import hardware_catalog

GRID = Grid(("scale",), ((0.5, 1.0, 2.0),), (True,), (True,))
SHARED = Grid(("none",), ((0.0,),), (False,), (False,))


def _pred(n_rows):
    # Predicted metric = scale (the grid value) for every row: shape (rows, 1, 3).
    return np.tile(np.array(GRID.values[0])[None, None, :], (n_rows, 1, 1))


def _groups(labels):
    return np.array([[f"{g}/bf16", f"{g}/bf16", g, g] for g in labels])


def test_a_group_from_one_source_borrows_its_parent():
    # Two vendors; 'b' has 3 rows but all from one source: it is not fitted, its rows use
    # default's scale (1.0, the median over all rows).
    measured = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    sources = np.array(["s1", "s2", "s3", "s4", "s4", "s4"])
    groups = _groups(["a", "a", "a", "b", "b", "b"])
    f = fit(_pred(6), measured, groups, np.ones(6, bool), sources, GRID, SHARED)
    assert "b" not in f.scale_index and f.key(*groups[3]) == "default"
    assert "a" in f.scale_index  # three sources


def test_a_parameter_at_a_bound_is_a_failed_fit_and_takes_the_parents_value():
    # Group 'a' wants 4x (beyond the grid's 2.0): its fit ends at the upper bound, which is
    # reported, and its scale falls back to default's (1.0, the median of all 6 rows, an
    # interior value).
    measured = np.array([4.0, 4.0, 1.0, 1.0, 1.0, 1.0])
    sources = np.array(["s1", "s2", "s3", "s4", "s5", "s6"])
    groups = _groups(["a", "a", "c", "c", "c", "c"])
    f = fit(_pred(6), measured, groups, np.ones(6, bool), sources, GRID, SHARED)
    fails = [x for x in f.failures if x["group"] == "a"]
    assert fails == [{"group": "a", "parameter": "scale", "value": 2.0, "bound": "upper",
                      "fallback": "default"}]
    assert GRID.values[0][f.scale_index["a"]] == GRID.values[0][f.scale_index["default"]]


def _rows(spec):
    return [SimpleNamespace(family=f, source_group=s, confidence=c) for f, s, c in spec]


def test_a_fold_chooses_its_fit_rows_as_if_the_held_source_never_existed():
    # Family 'x' has two high sources, so its medium row is only predicted; leave s1 out and
    # x has one high source left, so the fold learns from the medium row too (as the shipped
    # fit of a one-high-source family does). Low rows are never learnt from.
    rows = _rows([("x", "s1", "high"), ("x", "s2", "high"), ("x", "s3", "medium"),
                  ("x", "s4", "low")])
    assert fit_rows_of(rows).tolist() == [True, True, False, False]
    fold = np.array([False, True, True, True])
    assert fit_rows_of(rows, fold).tolist() == [False, True, True, False]


def test_loso_refits_with_each_folds_own_fit_rows():
    # Rows of 'a' want 2.0 (s1, s2 high; s3 medium) and default's other rows 1.0 (a grid up to
    # 4.0, so 2.0 is an interior value). Holding out s1 leaves 'a' with s2 (high) and s3
    # (medium, now learnt from): two sources, so 'a' keeps its own 2.0 for s1's row. Under the
    # fixed in-sample fit rows the fold would have had one source, and s1's row would take
    # default's 1.0.
    grid = Grid(("scale",), ((0.5, 1.0, 2.0, 4.0),), (True,), (True,))
    pred = np.tile(np.array(grid.values[0])[None, None, :], (7, 1, 1))
    rows = _rows([("a", "s1", "high"), ("a", "s2", "high"), ("a", "s3", "medium"),
                  ("c", "s4", "high"), ("c", "s5", "high"), ("c", "s6", "high"),
                  ("c", "s7", "high")])
    measured = np.array([2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0])
    sources = np.array([r.source_group for r in rows])
    groups = _groups([r.family for r in rows])
    per_fold = leave_one_source_out(pred, measured, groups, sources,
                                    partial(fit_rows_of, rows), grid, SHARED)
    fixed = leave_one_source_out(pred, measured, groups, sources,
                                 lambda present: present & fit_rows_of(rows), grid, SHARED)
    assert per_fold[0] == 2.0 and fixed[0] == 1.0


def test_confidence_marks_unvalidated_chips_and_widens_their_interval():
    cat = hardware_catalog()
    seen = confidence_for("infer", cat.chip("trn2"), "bf16")
    assert seen.status == "validated" and seen.chip_rows > 0 and seen.why == ""
    trained = confidence_for("train", cat.chip("trn2"), "bf16")  # the AXLearn Trn2 rows
    assert trained.status == "validated" and trained.chip_rows > 0
    unseen = confidence_for("train", cat.chip("trn3"), "bf16")  # no trn3 training rows
    assert unseen.status == "extrapolated" and "no train rows for trn3" in unseen.why
    # Wider than the group's measured LOSO spread when extrapolated.
    groups = tomllib.loads(builtin_file("calibration.toml").read_text())["train"]
    assert unseen.interval_log_sd > groups[unseen.group]["log_sd_loso"]


def test_every_prediction_carries_its_confidence():
    r = api.train("llama-3.1-8b", chip="h100", n_chips=8)
    assert r.confidence["status"] in ("validated", "extrapolated")
    s = api.infer("llama-3.1-8b", chip="trn2", n_chips=1, batch=4)
    assert s.confidence["status"] == "validated" and s.confidence["chip_rows"] > 0
    t3 = api.infer("llama-3.1-8b", chip="trn3", n_chips=1, batch=4)  # no rows: marked, never an error
    assert t3.confidence["status"] == "extrapolated"


@pytest.mark.parametrize("kind", ["train", "infer"])
def test_interval_is_at_least_the_groups_loso_spread(kind):
    name = "calibration.toml" if kind == "train" else "calibration_infer.toml"
    data = tomllib.loads(builtin_file(name).read_text())
    cat = hardware_catalog()
    for chip in ("h100", "trn2", "tpu-v5e", "mi300x", "trn3"):
        c = confidence_for(kind, cat.chip(chip), "bf16")
        g = data[kind][c.group]
        assert c.interval_log_sd >= g["log_sd_loso"] - 1e-12
