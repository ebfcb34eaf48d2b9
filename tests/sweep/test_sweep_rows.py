"""A row is the single API call of its cell, flattened; a failing cell is an error row."""

from __future__ import annotations

import json
import random

import pytest

from xpuplan import api, sweep
from xpuplan.errors import SpecError, XpuplanError
from xpuplan.sweep.cells import INPUT, META, Job, cell_key, flatten


def _single_call(kind: str, inputs: dict, spec=None) -> dict:
    if kind == "train":
        return api.train(**inputs).to_dict()
    if kind == "infer":
        return api.infer(**inputs).to_dict()
    scenario = json.loads(json.dumps(spec.base))  # a copy, edited as the user would
    for path, value in inputs.items():
        *parents, last = path.split(".")
        node = scenario
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    return api.plan(scenario).to_dict()


def _check_rows_equal_single_calls(spec, rows: list[dict], sampled: int) -> None:
    cells = list(spec.cells())
    assert [r["cell_index"] for r in rows] == list(range(len(cells)))
    assert sum(r["error"] is None for r in rows) >= len(rows) // 2
    for i in random.Random(0).sample(range(len(cells)), sampled):
        row, inputs = rows[i], cells[i]
        assert {k.removeprefix(INPUT): v for k, v in row.items() if k.startswith(INPUT)
                and v is not None} == inputs
        try:
            expected = flatten(_single_call(spec.kind, inputs, spec))
        except XpuplanError as exc:
            assert row["error"] == str(exc)
            continue
        assert row["error"] is None
        got = {k: v for k, v in row.items() if k not in META and not k.startswith(INPUT)}
        assert {k: got[k] for k in expected} == expected
        assert all(v is None for k, v in got.items() if k not in expected)


def test_flatten_joins_keys_with_slashes_and_keeps_lists_as_json():
    nested = {"a": 1, "b": {"c": 2.5, "d": {"e": "x"}}, "f": [1, {"g": 2}], "h": {}, "i": None}
    assert flatten(nested) == {"a": 1, "b/c": 2.5, "b/d/e": "x", "f": '[1, {"g": 2}]',
                               "h": "{}", "i": None}


def test_training_rows_equal_single_calls(train_sweep):
    spec, out, report = train_sweep
    rows = sweep.read_results(out).to_pylist()
    assert report.ran == len(rows) == spec.n_cells() == 24
    _check_rows_equal_single_calls(spec, rows, sampled=8)


def test_a_failing_cell_is_an_error_row_and_the_sweep_goes_on(train_sweep):
    spec, out, report = train_sweep
    rows = sweep.read_results(out).to_pylist()
    failed = [r for r in rows if r["error"] is not None]
    # a100 has no FP8 rate: exactly its fp8 cells fail, 2 models x 2 counts
    assert len(failed) == report.errors == 4
    assert {(r["input/chip"], r["input/precision"]) for r in failed} == {("a100", "fp8")}
    with pytest.raises(SpecError) as info:
        api.train("gpt-1.7b", chip="a100", n_chips=32, precision="fp8", tokens=1e12)
    assert failed[0]["error"] == str(info.value)
    assert all(r["step_time_s"] is None for r in failed)
    assert all(r["step_time_s"] > 0 for r in rows if r["error"] is None)


def test_serving_rows_equal_single_calls(tmp_path, write_spec):
    data = {"kind": "infer", "axes": {"model": "llama-3.1-8b", "chip": ["h100", "mi300x"],
                                      "tpot_s": [0.015, 0.05]},
            "sample": {"n": 3, "seed": 1, "ranges": {"input_len": [128, 4096]}}}
    spec = sweep.load_spec(write_spec(tmp_path, data))
    sweep.run_sweep(spec, tmp_path / "out", workers=1)
    rows = sweep.read_results(tmp_path / "out").to_pylist()
    assert len(rows) == 12
    _check_rows_equal_single_calls(spec, rows, sampled=5)
    assert json.loads(rows[0]["pareto"])  # lists stay whole, as JSON text


def test_plan_rows_equal_single_calls(tmp_path, write_spec):
    data = {"kind": "plan", "scenario": "trainium-shift",
            "vary": {"vendors.1.shortfall": [0.1, 0.4], "training_runs_per_year": [2, 8]}}
    spec = sweep.load_spec(write_spec(tmp_path, data))
    sweep.run_sweep(spec, tmp_path / "out", workers=1)
    rows = sweep.read_results(tmp_path / "out").to_pylist()
    _check_rows_equal_single_calls(spec, rows, sampled=2)
    # the varied input reaches the scenario: more runs a year cost more
    by = {(r["input/vendors.1.shortfall"], r["input/training_runs_per_year"]):
          r["outputs/npv_cost_usd"] for r in rows}
    assert by[(0.1, 8)] > by[(0.1, 2)] and by[(0.4, 8)] > by[(0.4, 2)]
    spread = {o["key"]: o for o in sweep.summarize(tmp_path / "out").outputs}
    total = spread["outputs/npv_cost_usd"]
    assert (total["min"], total["max"]) == (min(by.values()), max(by.values()))


def test_cell_key_is_stable_and_depends_on_every_input():
    job = Job("train")
    key = cell_key(job, {"model": "gpt2", "n_chips": 8})
    assert key == cell_key(job, {"n_chips": 8, "model": "gpt2"})  # order does not matter
    assert key != cell_key(job, {"model": "gpt2", "n_chips": 16})
    assert key != cell_key(Job("train", catalog_files=("mine.toml",)),
                           {"model": "gpt2", "n_chips": 8})
    assert len(key) == 16 and int(key, 16) >= 0


def test_spec_file_names_its_path_when_unreadable(tmp_path):
    with pytest.raises(SpecError) as info:
        sweep.load_spec(tmp_path / "missing.yaml")
    assert info.value.field == "spec" and "cannot read" in str(info.value)
