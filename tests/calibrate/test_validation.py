"""The validation command and the reproducibility of the shipped calibration.

Accuracy itself is a benchmark (`xpuplan validate`), not a test: calibration data never
feeds a test that judges accuracy. These tests check shapes, definitions and that the
shipped calibration.toml is exactly what scripts/calibrate_train.py produces.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest

from xpuplan.catalog.hardware import builtin_file

ROOT = Path(__file__).resolve().parents[2]


def test_validate_json_reports_every_vendor_in_sample_and_loso(run_json):
    d = run_json("validate")
    assert {"train/nvidia", "train/google", "train/aws", "infer/nvidia", "infer/aws"} <= set(
        d["by_vendor"])
    for row in d["rows"]:
        assert row["measured"] > 0 and row["predicted"] > 0 and row["predicted_loso"] > 0
        assert row["error"] == pytest.approx(abs(row["predicted"] / row["measured"] - 1))
    for summary in d["by_source"].values():
        assert summary["worst_error"] >= summary["median_error"] >= 0
    # A refactor keeps every figure; a change to the model or the data re-pins on purpose:
    # xpuplan validate --json > v.json, then copy rows/median_error/median_error_loso per
    # vendor into validate_pinned.json and say in the commit why the numbers moved.
    pinned = json.loads((Path(__file__).parent / "validate_pinned.json").read_text())
    assert set(d["by_vendor"]) == set(pinned)
    for group, figures in pinned.items():
        for key, value in figures.items():
            assert d["by_vendor"][group][key] == pytest.approx(value, rel=1e-9), (group, key)


@pytest.mark.parametrize("script_name,data_file,kind,keys", [
    ("calibrate_train.py", "calibration.toml", "train",
     ("compute_scale", "gemm_half_dim", "gemm_overhead_us")),
    ("calibrate_infer.py", "calibration_infer.toml", "infer",
     ("compute_scale", "memory_scale", "step_overhead_us", "layer_overhead_us", "seq_overhead_us",
      "latency_scale")),
])
def test_shipped_calibration_is_what_the_script_fits(tmp_path, monkeypatch, script_name,
                                                     data_file, kind, keys):
    spec = importlib.util.spec_from_file_location(script_name, ROOT / "scripts" / script_name)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "OUT", tmp_path / data_file)
    script.main()
    fresh = tomllib.loads((tmp_path / data_file).read_text())[kind]
    shipped = tomllib.loads(builtin_file(data_file).read_text())[kind]
    assert set(fresh) == set(shipped)
    for vendor, values in shipped.items():
        for key in keys:
            assert fresh[vendor][key] == pytest.approx(values[key]), (vendor, key)
