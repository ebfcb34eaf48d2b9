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
