"""SLO inputs in SI (`ttft_s`, `tpot_s`) and `n_chips`: the old millisecond names and `chips`
still work, each with a DeprecationWarning (API, scenarios, sweeps) or an OpenAPI deprecation
(web bodies), and give exactly what the new names give."""

from __future__ import annotations

import pytest

from xpuplan import api
from xpuplan.economics.scenario import ServingJob, scenario_from_data
from xpuplan.errors import CatalogError, SpecError
from xpuplan.sweep.spec import spec_from_dict

MODEL, CHIP = "llama-3.1-8b", "h100"


def test_ttft_ms_equals_ttft_s_and_warns():
    new = api.infer(MODEL, chip=CHIP, n_chips=1, ttft_s=0.2, tpot_s=0.02).to_dict()
    with pytest.warns(DeprecationWarning, match=r"'ttft_ms' \(now 'ttft_s' = ttft_ms / 1000\)"):
        old = api.infer(MODEL, chip=CHIP, n_chips=1, ttft_ms=200, tpot_ms=20).to_dict()
    assert old == new and new["mode"] == "slo" and new["tpot_s"] <= 0.02


def test_positional_ms_slo_is_converted_too():
    new = api.infer(MODEL, chip=CHIP, n_chips=1, tpot_s=0.02).to_dict()
    with pytest.warns(DeprecationWarning, match="positional"):
        old = api.infer(MODEL, CHIP, 1, 1024, 1024, None, None, 20).to_dict()
    assert old == new


def test_old_and_new_slo_together_is_a_type_error():
    with pytest.raises(TypeError, match="both 'ttft_ms' and 'ttft_s'"):
        api.infer(MODEL, chip=CHIP, ttft_ms=200, ttft_s=0.2)


def test_ms_slo_out_of_bounds_is_named_in_seconds():
    with pytest.warns(DeprecationWarning), pytest.raises(SpecError, match="ttft_s = 0"):
        api.infer(MODEL, chip=CHIP, ttft_ms=0)


def test_compare_serving_ms_slo_equals_seconds():
    kw = {"chips": [CHIP], "n_chips": 1}
    new = api.compare_serving((MODEL,), tpot_s=0.02, **kw).to_dict()
    with pytest.warns(DeprecationWarning, match="tpot_ms"):
        old = api.compare_serving((MODEL,), tpot_ms=20, **kw).to_dict()
    assert old == new and new["rows"][0]["tpot_s"] <= 0.02


def test_scenario_serving_ms_is_deprecated_and_read_as_seconds():
    with pytest.warns(DeprecationWarning, match=r"serving\.t(tf|po)t_ms is deprecated; use t(tf|po)t_s"):
        old = ServingJob(model=MODEL, tpot_ms=50, ttft_ms=500)
    assert old == ServingJob(model=MODEL, tpot_s=0.05, ttft_s=0.5)


def test_scenario_serving_both_names_is_refused():
    body = {"kind": "contract", "name": "c", "budget_usd": 1e9, "years": 1, "chip": CHIP,
            "serving": {"model": MODEL, "tpot_ms": 50, "tpot_s": 0.05}}
    with pytest.raises(CatalogError, match=r"serving: .*give tpot_s \(seconds\) or the "
                                           r"deprecated tpot_ms, not both"):
        scenario_from_data(body)


def test_sweep_ms_axes_become_seconds_with_a_warning():
    data = {"kind": "infer", "axes": {"model": MODEL, "chip": CHIP, "ttft_ms": [200, 500]},
            "sample": {"n": 2, "ranges": {"tpot_ms": [20, 50]}}}
    with pytest.warns(DeprecationWarning, match=r"'t(tf|po)t_ms' is deprecated; use 't(tf|po)t_s'"):
        cells = list(spec_from_dict(data).cells())
    assert [c["ttft_s"] for c in cells] == [0.2, 0.2, 0.5, 0.5]
    assert all(0.02 <= c["tpot_s"] <= 0.05 and "tpot_ms" not in c for c in cells)
