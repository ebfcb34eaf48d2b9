"""The public API surface is pinned: adding or removing a name is a deliberate change."""

import xpuplan
import xpuplan.errors


def test_all_is_pinned():
    assert sorted(xpuplan.__all__) == sorted([
        "CatalogError", "InfeasibleError", "SolverError", "SpecError", "UnknownNameError",
        "XpuplanError", "Comparison", "LayoutSearch", "PlanResult", "ServeComparison",
        "ServeResult", "TrainResult", "ValidationReport", "chip", "chips", "compare", "compare_serving", "infer", "instance",
        "instances", "load_model", "model_summary", "models", "plan", "search_layouts", "train",
        "train_problem", "validate",
    ])
    # every name is re-exported from the API or the error module, never a local copy
    for name in xpuplan.__all__:
        source = xpuplan.errors if name.endswith("Error") else xpuplan.api
        assert getattr(xpuplan, name) is getattr(source, name), name


def test_results_export_to_json_ready_dicts():
    import json

    r = xpuplan.train("llama-3.1-8b", chip="h100", n_chips=8, tp=1, pp=1, dp=8, zero=1, recompute="full")
    assert json.loads(json.dumps(r.to_dict()))["parallelism"]["dp"] == 8
    assert json.loads(xpuplan.chip("h100").model_dump_json())["id"] == "h100-sxm"


def test_api_functions_take_only_their_subject_positionally():
    # STYLE: the subject (a model, a scenario, a chip name) positionally, the rest keyword-only.
    # parse_count is units.py's helper, re-exported; its `field` only names the error.
    import inspect

    from xpuplan import api

    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    checked = 0
    for name in api.__all__:
        fn = getattr(api, name)
        if not inspect.isfunction(fn) or name == "parse_count":
            continue
        params = inspect.signature(fn).parameters.values()
        assert sum(p.kind in positional for p in params) <= 1, name
        checked += 1
    assert checked >= 30


def test_old_positional_calls_still_work_with_a_warning():
    import pytest

    new = xpuplan.train("gpt2", chip="h100", n_chips=8, seq_len=1024)
    with pytest.warns(DeprecationWarning, match="positional chip, n_chips, seq_len"):
        old = xpuplan.train("gpt2", "h100", 8, 1024)
    assert old == new
    with pytest.raises(TypeError, match="multiple values for 'n_chips'"):
        xpuplan.train("gpt2", "h100", 8, n_chips=8)
    with pytest.warns(DeprecationWarning):
        assert xpuplan.chip("h100", None) == xpuplan.chip("h100")
