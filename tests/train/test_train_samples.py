"""Training on the sample axis: (layouts, samples) arrays and the step-time interval."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.errors import SpecError
from xpuplan.specs.layouts import RECOMPUTE, Layouts
from xpuplan.specs.samples import Samples
from xpuplan.train.evaluate import evaluate

SAME = 1e-12  # relative: the same arithmetic, up to the order of one product
SCALES = np.array([0.3, 0.6, 0.9, 1.2, 1.8])


def _problem():
    return api.train_problem("llama-3.1-8b", chip="h100", n_chips=8, seq_len=4096)


def _at(p, compute_scale: float):
    """The problem with its stack's compute scale set to one float."""
    stack = replace(p.efficiency.stack, compute_scale=float(compute_scale))
    return replace(p, efficiency=replace(p.efficiency, stack=stack))


def _arrays(ev):
    out = {f.name: getattr(ev, f.name) for f in fields(ev)
           if isinstance(getattr(ev, f.name), np.ndarray)}
    out |= {f"{d}:{k}": v for d in ("time", "memory") for k, v in getattr(ev, d).items()}
    return out


def test_three_layouts_by_five_samples_is_a_grid_of_scalar_evaluations():
    p = _problem()
    lay = Layouts.build(tp=[1, 2, 4], pp=1, dp=[8, 4, 2], recompute=2)
    ev = evaluate(p, lay, Samples(compute_scale=SCALES))
    assert ev.layouts is lay and len(ev.samples) == 5
    grid = _arrays(ev)
    assert {k: v.shape for k, v in grid.items()} == {k: (3, 5) for k in grid}
    for s, c in enumerate(SCALES):
        column = _arrays(evaluate(_at(p, c), lay))
        for k, v in column.items():
            np.testing.assert_allclose(grid[k][:, s], np.broadcast_to(v, (3,)), rtol=SAME,
                                       err_msg=k)
    assert (np.diff(ev.step_time_s, axis=1) < 0).all()  # faster GEMMs, shorter steps


def test_without_samples_the_arrays_are_one_per_layout():
    ev = evaluate(_problem(), Layouts.build(tp=[1, 2, 4], pp=1, dp=[8, 4, 2], recompute=2))
    assert ev.samples is None and ev.step_time_s.shape == (3,) and ev.mfu.shape == (3,)


def _scalar_interval(p, result, n, seed):
    """The interval as a loop of scalar evaluations: the reference for the vectorised one."""
    sd = confidence_for("train", p.chip, p.precision).interval_log_sd
    draws = np.exp(np.random.default_rng(seed).normal(0.0, sd, n))
    lay = Layouts.build(**{k: v if k != "recompute" else RECOMPUTE.index(v)
                           for k, v in result.parallelism.items()})
    c = p.efficiency.stack.compute_scale
    step = np.array([evaluate(_at(p, c * d), lay).step_time_s[0] for d in draws])
    q = (10, 50, 90)
    scale = step / result.step_time_s
    return {"step_time_s": np.percentile(step, q),
            "tokens_per_s": np.percentile(p.global_batch * p.seq_len / step, q),
            "time_to_train_s": np.percentile(result.run.time_to_train_s * scale, q),
            "cost_usd": np.percentile(result.run.cost_usd * scale, q)}


def test_interval_of_one_layout_matches_the_scalar_loop():
    p = _problem()
    result = api.train(p.model, chip="h100", n_chips=8, seq_len=4096, tokens=1e12)
    band = api.step_time_interval(p, result=result, samples=300, seed=3)
    assert list(band) == ["quantiles", "log_sd", "step_time_s", "tokens_per_s",
                          "time_to_train_s", "cost_usd"]
    for k, v in _scalar_interval(p, result, 300, 3).items():
        np.testing.assert_allclose(band[k], v, rtol=SAME, err_msg=k)


def test_interval_of_several_layouts_gives_each_layout_its_own_band():
    p = _problem()
    lay = Layouts.build(tp=[1, 2, 8], pp=1, dp=[8, 4, 1], recompute=2)
    bands = api.step_time_interval(p, layouts=lay, samples=200, seed=1)
    assert [r["tp"] for r in bands["layouts"]] == [1, 2, 8]
    assert np.shape(bands["step_time_s"]) == (3, 3)
    for i in range(3):
        result = api.train(p.model, chip="h100", n_chips=8, seq_len=4096,
                           **{k: v for k, v in lay.row(i).items() if k in api.TRAIN_KNOBS and k != "sp"})
        one = api.step_time_interval(p, result=result, samples=200, seed=1)
        assert bands["step_time_s"][i] == one["step_time_s"]
        assert bands["tokens_per_s"][i] == one["tokens_per_s"]
    with pytest.raises(SpecError, match="give either result"):
        api.step_time_interval(p, samples=10)
