"""Reliability under hostile input and concurrency (issue #12): each bug class found by
fuzzing, pinned by a test that fails if the class comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpuplan
from xpuplan import api
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import CatalogError, SpecError
from xpuplan.limits import file_limit
from xpuplan.specs.bounds import bound_for
from xpuplan.specs.layouts import divisors
from xpuplan.train.evaluate import evaluate
from xpuplan.train.search import candidate_grid
from xpuplan.views.output_file import write_output
from xpuplan.views.strict_json import strict_json

SRC = Path(__file__).resolve().parents[1] / "src"


def _config(name: str, **changes) -> dict:
    data = json.loads(builtin_file(f"models/{name}.json").read_text())
    for k, v in changes.items():
        if v is ...:
            data.pop(k)
        else:
            data[k] = v
    return data


def _write(tmp_path, data, name="config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# Bounds at the edge --------------------------------------------------------------------

@pytest.mark.parametrize("args,field", [
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "2147483647"], "chips"),
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--global-batch",
      "9223372036854775808"], "global_batch"),
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--tokens", "1e400"],
     "tokens"),
    (["infer", "llama-3.1-8b", "--chip", "h100", "--ttft-ms", "nan"], "--ttft-ms"),
    (["infer", "llama-3.1-8b", "--chip", "h100", "--tpot-ms", "-5"], "--tpot-ms"),  # as typed
    (["infer", "llama-3.1-8b", "--chip", "h100", "--input-len", "100000000"],
     "input_len + output_len"),
])
def test_out_of_bounds_is_one_line_and_fast(run_cli, args, field):
    start = time.perf_counter()
    code, out, err = run_cli(*args, "--json")
    assert (code, out) == (2, "") and err.startswith(f"error: {field} = ")
    assert err.count("\n") == 1 and time.perf_counter() - start < 10


def test_bounds_name_their_range_and_reason():
    b = bound_for("num_hidden_layers")
    assert (b.lo, b.hi, b.integer) == (1, 1e4, True) and b.why
    with pytest.raises(SpecError, match="from 1 to 1e\\+07"):
        api.train_problem("llama-3.1-8b", chip="h100", n_chips=10**7 + 1)


def test_divisors_are_those_of_trial_division_and_fast():
    assert all(divisors(n) == [d for d in range(1, n + 1) if n % d == 0] for n in range(1, 500))
    start = time.perf_counter()
    assert divisors(2147483647) == [1, 2147483647]  # a Mersenne prime: the old worst case
    assert time.perf_counter() - start < 0.5


def test_layers_at_the_bound_load_and_evaluate_quickly(tmp_path):
    path = _write(tmp_path, _config("qwen3-30b-a3b", num_hidden_layers=10_000, mlp_only_layers=[]))
    start = time.perf_counter()
    s = api.model_summary(path)
    assert s.total_params > 10_000 * 128 * 3 * 2048 * 768  # every layer's experts counted
    assert time.perf_counter() - start < 5
    with pytest.raises(SpecError, match="num_hidden_layers"):
        api.load_model(_write(tmp_path, _config("llama-3.1-8b", num_hidden_layers=10**8)))


# Model configs complete or refused -----------------------------------------------------

@pytest.mark.parametrize("model,key", [("llama-3.1-70b", "intermediate_size"),
                                       ("qwen3-8b", "head_dim"),
                                       ("qwen3-8b", "num_key_value_heads"),
                                       ("mixtral-8x7b", "num_local_experts"),
                                       ("deepseek-v3", "first_k_dense_replace"),
                                       ("gpt2", "n_positions")])
def test_a_key_the_family_needs_is_never_defaulted(tmp_path, model, key):
    with pytest.raises(SpecError) as info:
        api.load_model(_write(tmp_path, _config(model, **{key: ...})))
    assert info.value.field == key and "missing" in str(info.value)


@pytest.mark.parametrize("key,value,kind", [("num_hidden_layers", "32", "string"),
                                            ("hidden_size", 4096.0, "number"),
                                            ("tie_word_embeddings", 1, "integer"),
                                            ("model_type", ["llama"], "string")])
def test_a_field_of_the_wrong_type_names_field_and_type(tmp_path, key, value, kind):
    with pytest.raises(SpecError) as info:
        api.load_model(_write(tmp_path, _config("llama-3.1-8b", **{key: value})))
    assert info.value.field == key and kind in str(info.value)
    assert "\n" not in str(info.value)


def test_dense_config_listing_experts_is_refused(tmp_path):
    with pytest.raises(SpecError, match="dense model type"):
        api.load_model(_write(tmp_path, _config("llama-3.1-8b", num_local_experts=8,
                                                num_experts_per_tok=2)))


@pytest.mark.parametrize("body,needle", [
    (b'{"a": ' + b"1" * 5000 + b"}", "too many digits"),
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ('{"model_type": "llama"}'.encode("utf-16"), "not UTF-8"),
    (b'{"hidden_size": NaN}', "NaN"),
])
def test_hostile_config_files_are_one_clear_line(tmp_path, body, needle):
    (tmp_path / "config.json").write_bytes(body)
    with pytest.raises(SpecError, match=needle) as info:
        api.load_model(tmp_path / "config.json")
    assert len(str(info.value)) < file_limit("max_message_chars")


# Files: special paths, YAML alias bombs, in-place edits, HF_HUB_OFFLINE ----------------

def test_fifo_and_devices_are_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "cat.yaml")
    for path in (tmp_path / "cat.yaml", Path("/dev/zero"), tmp_path):
        with pytest.raises(CatalogError, match="not a regular file"):
            hardware_catalog([str(path)])


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"l{i}: &l{i} [" + ", ".join([f"*{'a' if i == 1 else f'l{i - 1}'}"] * 9) + "]"
        for i in range(1, 8)] + ["kind: contract", "name: *l7"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    start = time.perf_counter()
    with pytest.raises(CatalogError, match="values") as info:
        api.plan(path)
    assert time.perf_counter() - start < 5 and len(str(info.value)) < 300


@pytest.mark.parametrize("key,value", [("years", ".inf"), ("years", "1.0e9"),
                                       ("budget_usd", "-1")])
def test_scenario_numbers_are_bounded(tmp_path, key, value):
    text = builtin_file("scenarios/aws-openai-contract.yaml").read_text()
    lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line
             for line in text.splitlines()]
    (tmp_path / "s.yaml").write_text("\n".join(lines))
    with pytest.raises(CatalogError, match=key):
        api.plan(tmp_path / "s.yaml")


def test_catalog_edited_in_place_is_read_again(tmp_path):
    path = tmp_path / "cat.yaml"
    body = ("chips:\n  - {id: acme-a1, vendor: acme, name: A1, bf16_dense_tflops: %d, "
            "hbm_gb: 64, hbm_tb_per_s: 2.0, source: datasheet, retrieved: '2026-11-01'}\n")
    path.write_text(body % 500)
    assert api.chip("acme-a1", catalog_files=[str(path)]).bf16_dense_flops == 500e12
    path.write_text(body % 600)
    assert api.chip("acme-a1", catalog_files=[str(path)]).bf16_dense_flops == 600e12


def test_hf_hub_offline_is_honoured(monkeypatch):
    import urllib.request

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    with pytest.raises(SpecError, match="HF_HUB_OFFLINE"):
        api.load_model("some-org/some-model")


# Outputs never destroy inputs ----------------------------------------------------------

def test_output_refuses_links_and_inputs_and_replaces_atomically(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("kind: contract\n")
    link = tmp_path / "link.html"
    link.symlink_to(scenario)
    with pytest.raises(SpecError, match="symbolic link"):
        write_output(link, "x", "report", [scenario])
    with pytest.raises(SpecError, match="input of this run"):
        write_output(scenario, "x", "report", [scenario])
    with pytest.raises(SpecError, match="shipped data"):
        write_output(builtin_file("chips.toml"), "x", "report")
    assert scenario.read_text() == "kind: contract\n"
    out = tmp_path / "r.html"
    out.write_text("old")
    out.chmod(0o640)
    write_output(out, "new", "report", [scenario])
    assert out.read_text() == "new" and oct(out.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.html", "r.html", "s.yaml"]


def test_output_that_is_a_loop_of_links_is_a_spec_error(run_cli, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(SpecError, match="symbolic link") as info:
        write_output(a, "x", "report")
    assert info.value.field == "report"
    code, _, err = run_cli("plan", "--example", "nvidia-10gw", "--report", str(a))
    assert code == 2 and err.count("\n") == 1 and "symbolic link" in err


def test_plan_report_cannot_replace_its_scenario(run_cli, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_bytes(builtin_file("scenarios/nvidia-investment-loop.yaml").read_bytes())
    before = scenario.read_bytes()
    code, out, err = run_cli("plan", str(scenario), "--report", str(scenario))
    assert code == 2 and "input of this run" in err and scenario.read_bytes() == before


# Strict JSON ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=5)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(allow_nan=True).map(np.float64),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4), max_leaves=20)


def _strict(text: str):
    def refuse(constant):
        raise ValueError(constant)

    return json.loads(text, parse_constant=refuse)


def _n_nonfinite(value) -> int:
    """Non-finite floats in a nested value (keys and strings spelled "NaN" are not numbers)."""
    if isinstance(value, dict):
        return sum(_n_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return sum(_n_nonfinite(v) for v in value)
    return int(isinstance(value, float) and not np.isfinite(value))


@given(json_values)
def test_strict_json_always_parses_and_says_why_values_are_null(value):
    text = strict_json({"value": value})
    data = _strict(text)
    assert len(data.get("null_reasons", {})) == _n_nonfinite(value)


# MFU and HFU <= 1 by construction ------------------------------------------------------

TRAIN_CHIPS = [c.id for c in api.chips() if c.hbm_bw is not None]


@settings(max_examples=25, deadline=None)
@given(model=st.sampled_from(["llama-3.1-8b", "gpt-1t", "mixtral-8x7b", "qwen3-8b",
                              "deepseek-v3"]),
       chip=st.sampled_from(TRAIN_CHIPS),
       precision=st.sampled_from(["bf16", "fp8", "int8", "fp4", "fp32"]),
       n_chips=st.sampled_from([1, 8, 64, 96, 1024]),
       seq_len=st.sampled_from([512, 4096, 32768, 1 << 20]), seed=st.integers(0, 2**16))
def test_mfu_and_hfu_never_exceed_one(model, chip, precision, n_chips, seq_len, seed):
    try:
        p = api.train_problem(model, chip=chip, n_chips=n_chips, seq_len=seq_len, global_batch=256, precision=precision)
    except SpecError:  # the chip has no such precision
        return
    grid = candidate_grid(p, {})
    rows = np.random.default_rng(seed).choice(len(grid), min(len(grid), 3000), replace=False)
    ev = evaluate(p, grid.take(rows))
    ok = np.isfinite(ev.step_time_s)
    assert (ev.mfu[ok] <= 1.0).all() and (ev.hfu[ok] <= 1.0).all()
    assert (ev.mfu[ok] <= ev.hfu[ok] * (1 + 1e-12)).all()


def test_int8_on_b300_mfu_is_against_the_bf16_peak():
    r = xpuplan.train("llama-3.1-8b", chip="b300", n_chips=64, precision="int8")
    c = xpuplan.chip("b300")
    assert r.mfu_peak_flops == c.bf16_dense_flops > c.int8_dense_ops
    assert 0 < r.mfu <= r.hfu <= 1


def test_disaggregated_without_a_network_is_refused(tmp_path):
    path = tmp_path / "cat.yaml"
    path.write_text("chips:\n  - {id: lone, vendor: acme, name: Lone, bf16_dense_tflops: 500, "
                    "hbm_gb: 80, hbm_tb_per_s: 3, source: datasheet, retrieved: '2026-11-01'}\n")
    with pytest.raises(SpecError, match="network"):
        api.infer("llama-3.1-8b", chip="lone", n_chips=1, disaggregated=True, catalog_files=[str(path)])


# Thread safety: a fresh process, 8 threads, identical answers, stdout intact -------------

THREADS = r'''
import json, sys, threading
import xpuplan
from xpuplan import api
config, scenario = sys.argv[1], sys.argv[2]
out = [None] * 8
barrier = threading.Barrier(8)
def work(i):
    try:
        barrier.wait()
        m = xpuplan.load_model(config)  # the first call imports transformers in 8 threads
        r = xpuplan.train(m, "h100", 8, tp=1, pp=1).to_dict()
        s = xpuplan.infer(config, "h100", 8).to_dict()
        p = api.plan(scenario).to_dict()  # a vendor mix: HiGHS solves in every thread
        out[i] = json.dumps([r, s, p["outputs"]], sort_keys=True)
    except BaseException as exc:
        out[i] = "ERR " + repr(exc)
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"distinct": len(set(out)), "errors": [o for o in out if o.startswith("ERR")]}))
'''

MIX = """kind: vendor_mix
name: two-vendors
training_runs_per_year: 20
training: {model: llama-3.1-8b, tokens: 1T, chips: 64}
vendors:
  - {chip: h100, usd_per_chip_hour: 3.0, incumbent: true}
  - {chip: b200, usd_per_chip_hour: 5.0, migration_cost_usd: 1e6}
"""


def test_api_from_eight_threads_in_a_fresh_process(tmp_path):
    config = _write(tmp_path, _config("llama-3.1-8b"))
    (tmp_path / "mix.yaml").write_text(MIX)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", THREADS, str(config), str(tmp_path / "mix.yaml")],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])  # stdout still reaches the pipe
    assert result == {"distinct": 1, "errors": []}
    assert "HiGHS" not in proc.stdout + proc.stderr
