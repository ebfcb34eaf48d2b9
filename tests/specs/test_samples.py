"""The named sample axis (specs.samples): its checks, and fitted parameters stay floats."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.errors import SpecError
from xpuplan.serve.evaluate import evaluate_serving, evaluate_serving_paired
from xpuplan.specs.layouts import Layouts, ServeLayouts
from xpuplan.specs.samples import Samples
from xpuplan.train.evaluate import evaluate


def test_samples_hold_equal_length_finite_vectors():
    s = Samples(compute_scale=[0.5, 1.0, 2.0], memory_scale=np.ones(3))
    assert len(s) == 3 and s.names == ("compute_scale", "memory_scale")
    assert s["compute_scale"].tolist() == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError):
        s["compute_scale"][0] = 9.0  # read-only: a sample cannot change under an evaluator
    # sample-fastest order over L layouts: flat configuration l·S + s holds sample s
    assert s.value("compute_scale", 7.0, 2).tolist() == [0.5, 1.0, 2.0, 0.5, 1.0, 2.0]
    assert s.value("seq_overhead_s", 7.0, 2) == 7.0  # not sampled: the point value


@pytest.mark.parametrize("kw,field", [
    ({"compute_scale": [1.0, 2.0], "memory_scale": [1.0]}, "samples"),
    ({"compute_scale": [[1.0, 2.0]]}, "samples.compute_scale"),
    ({"compute_scale": []}, "samples.compute_scale"),
    ({"compute_scale": [1.0, np.nan]}, "samples.compute_scale"),
    ({}, "samples"),
])
def test_bad_samples_raise_a_spec_error_naming_the_field(kw, field):
    with pytest.raises(SpecError) as err:
        Samples(**kw)
    assert err.value.field == field


def test_a_fitted_parameter_given_an_array_is_refused_by_name():
    # Per-sample values travel in Samples; a calibration record holding an array would be
    # broadcast silently against the layouts.
    train = api.train_problem("llama-3.1-8b", chip="h100", n_chips=8)
    with pytest.raises(TypeError, match=r"StackCalibration\.compute_scale = ndarray \(5,\)"):
        replace(train.efficiency.stack, compute_scale=np.ones(5))
    serve, _ = api.serve_problem("llama-3.1-8b", chip="h100", n_chips=1)
    for name in ("compute_scale", "memory_scale", "step_overhead_s", "layer_overhead_s",
                 "seq_overhead_s"):
        with pytest.raises(TypeError, match=rf"ServeCalibration\.{name} = ndarray"):
            replace(serve.calibration, **{name: np.full(3, 0.5)})
    with pytest.raises(TypeError, match=r"ServeCalibration\.latency_scale = list"):
        replace(serve.calibration, latency_scale=[1.0])
    with pytest.raises(TypeError):
        evaluate(train, Layouts.build(tp=1, pp=1, dp=8), compute_scale=np.ones(5))  # old form


def test_evaluators_refuse_parameters_they_cannot_sample():
    train = api.train_problem("llama-3.1-8b", chip="h100", n_chips=8)
    with pytest.raises(SpecError, match="samples = 'memory_scale': allowed: compute_scale"):
        evaluate(train, Layouts.build(tp=1, pp=1, dp=8), Samples(memory_scale=[1.0]))
    serve, _ = api.serve_problem("llama-3.1-8b", chip="h100", n_chips=1)
    with pytest.raises(SpecError, match="latency_scale"):
        evaluate_serving(serve, ServeLayouts.build(1), Samples(latency_scale=[1.0]))
    with pytest.raises(SpecError, match="one layout per sample"):
        evaluate_serving_paired(serve, ServeLayouts.build(1, batch=[1, 2]),
                                Samples(compute_scale=[1.0, 1.1, 1.2]))
