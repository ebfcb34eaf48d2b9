"""Grid expansion: counts, the stated order, sampling, plan paths, and bad specs."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.errors import SpecError
from xpuplan.sweep.spec import AXES, spec_from_dict


def test_grid_is_the_product_in_the_order_written():
    axes = {"chip": ["h100", "trn2", "b200"], "model": ["llama-3.1-8b", "gpt2"],
            "n_chips": [8, 16, 32, 64]}
    spec = spec_from_dict({"kind": "train", "axes": axes})
    cells = list(spec.cells())
    assert spec.n_cells() == len(cells) == 3 * 2 * 4
    # the first axis written varies slowest, the last fastest, like nested for-loops
    expected = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    assert cells == expected
    assert cells[0] == {"chip": "h100", "model": "llama-3.1-8b", "n_chips": 8}
    assert cells[4] == {"chip": "h100", "model": "gpt2", "n_chips": 8}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 5))
def test_cell_count_is_the_product_times_the_sample(sizes, n):
    names = ["seq_len", "global_batch", "tokens", "tp"][:len(sizes)]
    axes = {"model": "gpt2", "chip": "h100", "n_chips": 8,
            **{name: list(range(1, k + 1)) for name, k in zip(names, sizes, strict=True)}}
    spec = spec_from_dict({"kind": "train", "axes": axes,
                           "sample": {"n": n, "ranges": {"micro_batch": [1, 4]}}})
    cells = list(spec.cells())
    assert spec.n_cells() == len(cells) == math.prod(sizes) * n
    assert all(1 <= c["micro_batch"] <= 4 and isinstance(c["micro_batch"], int) for c in cells)


def test_sample_is_seeded_and_crossed_inside_each_grid_point():
    data = {"kind": "infer", "axes": {"model": "gpt2", "chip": ["h100", "trn2"]},
            "sample": {"n": 3, "seed": 7, "ranges": {"ttft_s": [0.1, 2.0],
                                                       "input_len": [64, 512]}}}
    first, again = list(spec_from_dict(data).cells()), list(spec_from_dict(data).cells())
    assert first == again and len(first) == 6
    assert [c["chip"] for c in first] == ["h100"] * 3 + ["trn2"] * 3
    assert [c["ttft_s"] for c in first[:3]] == [c["ttft_s"] for c in first[3:]]
    assert all(isinstance(c["ttft_s"], float) and 0.1 <= c["ttft_s"] <= 2 for c in first)
    assert all(isinstance(c["input_len"], int) for c in first)
    data["sample"]["seed"] = 8
    assert list(spec_from_dict(data).cells()) != first


def test_count_suffixes_and_scalars():
    spec = spec_from_dict({"kind": "train", "axes": {"model": "gpt2", "chip": "h100",
                                                     "n_chips": 8, "tokens": ["1T", 2e12]}})
    assert [c["tokens"] for c in spec.cells()] == [1e12, 2e12]


def test_axes_are_the_api_arguments():
    assert {"model", "chip", "n_chips", "seq_len", "precision", "tokens", "price_term",
            "tp", "zero"} <= set(AXES["train"])
    assert {"input_len", "output_len", "ttft_s", "tpot_s", "weights", "batch",
            "tp"} <= set(AXES["infer"])
    assert "catalog_files" not in AXES["train"] + AXES["infer"]


def test_plan_vary_paths_follow_the_scenario():
    spec = spec_from_dict({"kind": "plan", "scenario": "trainium-shift",
                           "vary": {"training_runs_per_year": [2, 4, 8],
                                    "vendors.1.shortfall": [0.1, 0.3]}})
    base = api.scenario_inputs(example="trainium-shift")
    assert spec.base == base and spec.n_cells() == 6
    assert list(spec.cells())[1] == {"training_runs_per_year": 2, "vendors.1.shortfall": 0.3}


@pytest.mark.parametrize("data,field,needle", [
    ({"kind": "train", "axes": {"model": "gpt2", "chip": "h100", "chipz": [8]}},
     "axes", "allowed: model, chip, n_chips"),
    ({"kind": "train", "axes": {"model": "gpt2", "chip": [], "n_chips": 8}},
     "axes.chip", "at least one value"),
    ({"kind": "train", "axes": {"model": "gpt2", "chip": "h100"}}, "axes", "required"),
    ({"kind": "train", "axis": {}}, "spec", "allowed keys: kind, name"),
    ({"kind": "fit", "axes": {}}, "kind", "train, infer, plan"),
    ({"kind": "infer", "axes": {"model": "gpt2", "chip": "h100", "batch": [1]},
      "sample": {"n": 2, "ranges": {"batch": [1, 8]}}}, "sample.ranges.batch", "one place"),
    ({"kind": "infer", "axes": {"model": "gpt2", "chip": "h100"},
      "sample": {"n": 2, "ranges": {"ttft_s": [0.9, 0.1]}}}, "sample.ranges.ttft_s",
     "low <= high"),
    ({"kind": "plan", "scenario": "trainium-shift", "vary": {"training_runs": [1]}},
     "vary", "allowed keys: assumptions, description"),
    ({"kind": "plan", "scenario": "trainium-shift", "vary": {"vendors.5.shortfall": [1]}},
     "vary", "list of 2"),
    ({"kind": "plan", "scenario": "trainium-shift", "vary": {"max_share": []}},
     "vary.max_share", "at least one value"),
    ({"kind": "plan", "scenario": "nowhere.yaml", "vary": {}}, "scenario", "built-in"),
    ({"kind": "plan", "axes": {"chip": ["h100"]}, "scenario": "trainium-shift"}, "axes",
     "vary"),
])
def test_bad_specs_name_the_key_and_what_is_allowed(data, field, needle):
    with pytest.raises(SpecError) as info:
        spec_from_dict(data)
    assert info.value.field == field and needle in str(info.value)
    assert "\n" not in str(info.value)


def test_old_chips_axis_is_renamed_with_a_warning():
    with pytest.warns(DeprecationWarning, match="'chips' is deprecated; use 'n_chips'"):
        spec = spec_from_dict({"kind": "train", "axes": {"model": "gpt2", "chip": "h100",
                                                         "chips": [8, 16]}})
    assert [c["n_chips"] for c in spec.cells()] == [8, 16]
