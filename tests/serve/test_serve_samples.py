"""Serving on the sample axis: (layouts, samples) arrays, the interval and the grid's rows."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.calibrate.infer_set import infer_rows, predict_row
from xpuplan.errors import SpecError
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.specs.samples import Samples

SAME = 1e-12  # relative: the same arithmetic
SAMPLES = Samples(compute_scale=[0.4, 0.7, 1.0, 1.3, 1.6], memory_scale=[0.5, 0.6, 0.7, 0.8, 0.9],
                  step_overhead_s=[0.0, 1e-4, 1e-3, 2e-3, 4e-3],
                  layer_overhead_s=[0.0, 1.25e-6, 12.5e-6, 25e-6, 50e-6],
                  seq_overhead_s=[0.0, 2e-6, 4e-6, 8e-6, 16e-6])


def _problem(**kw):
    return api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8, usd_per_chip_hour=2.0,
                             **kw)[0]


def _at(p, samples: Samples, s: int):
    """The problem with the calibration's sampled parameters set to sample s, as floats."""
    return replace(p, calibration=replace(p.calibration, **{k: float(samples[k][s])
                                                            for k in samples.names}))


def _arrays(ev):
    out = {f.name: getattr(ev, f.name) for f in fields(ev)
           if isinstance(getattr(ev, f.name), np.ndarray)}
    out |= {f"{d}:{k}": v for d in ("memory", "decode") for k, v in getattr(ev, d).items()}
    return out


@pytest.mark.parametrize("disaggregated", [False, True])
def test_three_layouts_by_five_samples_is_a_grid_of_scalar_evaluations(disaggregated):
    p = _problem(disaggregated=disaggregated)
    lay = ServeLayouts.build(tp=[4, 8, 2], pp=[1, 1, 4], batch=[16, 64, 32])
    ev = evaluate_serving(p, lay, SAMPLES)
    grid = _arrays(ev)
    assert {k: v.shape for k, v in grid.items()} == {k: (3, 5) for k in grid}
    for s in range(5):
        for k, v in _arrays(evaluate_serving(_at(p, SAMPLES, s), lay)).items():
            if v.dtype.kind in "US":  # labels, e.g. what limited the running batch
                np.testing.assert_array_equal(grid[k][:, s], np.broadcast_to(v, (3,)), k)
            else:
                np.testing.assert_allclose(grid[k][:, s], np.broadcast_to(v, (3,)), rtol=SAME,
                                           err_msg=k)
    # every sampled parameter moves the prediction: TPOT differs across the five samples
    assert (np.ptp(ev.tpot_s, axis=1) > 0).all()


def _scalar_interval(p, lay, n, seed):
    sd = confidence_for("infer", p.chip, p.compute).interval_log_sd
    draws = np.exp(np.random.default_rng(seed).normal(0.0, sd, n))
    cal = p.calibration
    evs = [evaluate_serving(replace(p, calibration=replace(
        cal, compute_scale=cal.compute_scale * d, memory_scale=cal.memory_scale * d)), lay)
        for d in draws]
    q = (10, 50, 90)
    return {k: np.percentile([getattr(e, k)[0] for e in evs], q)
            for k in ("ttft_s", "tpot_s", "output_tokens_per_s_per_chip", "usd_per_mtok_output")}


def test_interval_of_one_layout_matches_the_scalar_loop():
    p = _problem()
    lay = ServeLayouts.build(tp=8, batch=32)
    band = api.serving_interval(p, layout=lay, samples=300, seed=5)
    assert list(band) == ["quantiles", "log_sd", "ttft_s", "tpot_s",
                          "output_tokens_per_s_per_chip", "usd_per_mtok_output"]
    for k, v in _scalar_interval(p, lay, 300, 5).items():
        np.testing.assert_allclose(band[k], v, rtol=SAME, err_msg=k)


def test_interval_of_several_layouts_gives_each_layout_its_own_band():
    p = _problem()
    lay = ServeLayouts.build(tp=[8, 4], batch=[32, 8])
    bands = api.serving_interval(p, layouts=lay, samples=200, seed=2)
    assert bands["layouts"] == [lay.row(0), lay.row(1)]
    for i in range(2):
        one = api.serving_interval(p, layout=lay.take([i]), samples=200, seed=2)
        for k in ("ttft_s", "tpot_s", "output_tokens_per_s_per_chip", "usd_per_mtok_output"):
            assert bands[k][i] == one[k], k
    with pytest.raises(SpecError, match="pass several as layouts"):
        api.serving_interval(p, layout=lay, samples=10)


def test_grid_rows_on_the_sample_axis_match_scalar_predictions():
    # One row per mode; the MLPerf server row searches its latency-bound batch per sample
    # (layout i paired with sample i), the others share one layout across the samples.
    rows = infer_rows()[0]
    picked = {}
    for r in rows:
        key = "server" if r.latency_limits_s is not None else r.mode
        picked.setdefault(key, r)
    assert "server" in picked and len(picked) >= 3
    for r in picked.values():
        got = predict_row(r, SAMPLES)
        assert got.shape == (5,)
        want = [predict_row(replace(r, problem=_at(r.problem, SAMPLES, s)))[0] for s in range(5)]
        np.testing.assert_allclose(got, want, rtol=SAME, err_msg=r.id)
