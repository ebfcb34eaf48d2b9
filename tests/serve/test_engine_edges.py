"""Engine edge cases: SGLang's running cap sized from its KV pool, the engine of a serving
comparison, one validation of `engine` on every public API function and the CLI, and the
prefill chunk when an engine record gives none."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.catalog.measurements import serving_engines as engine_defaults
from xpuplan.catalog.measurements import stack_records
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import SpecError
from xpuplan.hardware.stacks import default_engine, stack_rules, unknown_engine
from xpuplan.serve.evaluate import engine_chunk_tokens, evaluate_serving
from xpuplan.serve.memory import request_pool_cap
from xpuplan.specs.layouts import ServeLayouts

CONTEXT = 131072  # Llama 3.1's max_position_embeddings


@pytest.mark.parametrize("pool_tokens,cap", [
    (611_059, 2386),  # 611,059 / 131,072 x 512 = 2386.9 slots: between the bounds
    (200_000, 2048),  # 781 slots, raised to the floor of 2,048
    (2_000_000, 4096),  # 7,812 slots, cut to the ceiling of 4,096
    (3_000, 1500),  # a tiny pool: T // 2 = 1,500 requests bind under the 2,048 slots
])
def test_request_pool_cap_by_hand(pool_tokens, cap):
    # SGLang: min(T // 2, min(max(int(T / C * 512), 2048), 4096)).
    got = request_pool_cap(np.array([pool_tokens]), CONTEXT, 512, 2048, 4096, 2)
    assert got.tolist() == [cap]


@given(st.lists(st.floats(0, 1e8), min_size=2, max_size=20))
def test_request_pool_cap_bounded_and_monotone(pools):
    T = np.sort(np.array(pools))
    cap = request_pool_cap(T, CONTEXT, 512, 2048, 4096, 2)
    assert np.all(cap <= 4096) and np.all(cap >= np.minimum(np.floor(np.floor(T) / 2), 2048))
    assert np.all(np.diff(cap) >= 0)  # a larger pool never lowers the cap


def _sglang(vendor: str):
    return next(r for r in stack_records()
                if r.workload == "serve" and (r.vendor, r.engine) == (vendor, "sglang"))


def test_sglang_cap_on_mi300x_by_hand():
    # Llama 3.1 70B, fp8 weights and KV, tp1 on one MI300X, 128 + 128 tokens: the KV of one
    # token is 80 layers x 2 x 8 KV heads x 128 x 1 B = 163,840 B; the free HBM (HBM - reserve
    # - weights - workspace, about 100.1 GB) holds T = 611,059 tokens, so SGLang's pool gets
    # int(T / 131,072 x 512) = 2,386 slots (record: 512 per context, 2,048 to 4,096), below
    # the 3,182 sequences the KV cache holds: the cap binds, and the search runs the layout
    # at that cap (its own candidate), not at the 4,096 ceiling.
    rec, pool = _sglang("amd"), _sglang("amd").request_pool
    r = api.infer("llama-3.1-70b", chip="mi300x", n_chips=1, tp=1, weights="fp8", kv="fp8",
                  input_len=128, output_len=128, engine="sglang")
    m, hbm = r.memory_bytes, hardware_catalog().chip("mi300x").hbm_bytes
    T = math.floor((hbm - m["reserved"] - m["weights"] - m["workspace"]) / 163840)
    slots = min(max(int(T / CONTEXT * pool.requests_per_context), pool.requests_min),
                rec.max_running_batch)
    assert r.engine_max_batch == min(T // pool.tokens_per_request_min, slots) == 2386
    assert pool.requests_min < r.engine_max_batch < rec.max_running_batch
    assert r.running_batch == r.layout["batch"] == 2386 < r.max_concurrency
    capped = api.infer("llama-3.1-70b", chip="mi300x", n_chips=1, tp=1, weights="fp8",
                       kv="fp8", input_len=128, output_len=128, batch=4096, engine="sglang")
    assert (capped.running_batch, capped.running_batch_limit) == (2386, "engine_max_batch")
    vllm = api.infer("llama-3.1-70b", chip="mi300x", n_chips=1, tp=1, weights="fp8",
                     kv="fp8", input_len=128, output_len=128, batch=4096, engine="vllm")
    assert vllm.engine_max_batch == stack_rules("amd", "serve", "vllm").max_batch_on(
        hardware_catalog().chip("mi300x"))  # vLLM's cap is flat


def test_sglang_cap_per_layout_and_its_overrides():
    # tp1 and tp2 of the same model on two chips hold different pools, so different caps; a
    # benchmark's own max_running_batch replaces the rule, and a model without a context
    # length gets the ceiling.
    problem, _ = api.serve_problem("llama-3.1-70b", chip="mi300x", n_chips=2, weights="fp8",
                                   kv="fp8", input_len=128, output_len=128, engine="sglang")
    lay = ServeLayouts.build(np.array([1, 2]), np.array([1, 1]), np.array([1, 1]), 4096)
    caps = evaluate_serving(problem, lay).engine_max_batch
    assert caps[0] == 2386 and caps[1] == _sglang("amd").max_running_batch  # tp2: T ~ 2.1M
    own = evaluate_serving(dataclasses.replace(problem, max_running_batch=3000), lay)
    assert own.engine_max_batch.tolist() == [3000, 3000]
    bare = dataclasses.replace(problem, model=problem.model.model_copy(
        update={"max_seq_len": None}))
    assert evaluate_serving(bare, lay).engine_max_batch.tolist() == [4096, 4096]


def test_compare_serving_runs_the_engine_given_on_every_chip():
    rows = api.compare_serving(("llama-3.1-8b",), chips=["h200", "mi300x"], n_chips=1,
                               engine="sglang")
    assert [r.result.engine for r in rows] == ["sglang", "sglang"]
    d = json.loads(json.dumps(rows.to_dict(), allow_nan=False))  # strict JSON
    assert d["engine"] == "sglang" and [r["engine"] for r in d["rows"]] == ["sglang"] * 2
    default = api.compare_serving(("llama-3.1-8b",), chips=["h200", "tpu-v6e"], n_chips=1)
    assert default.to_dict()["engine"] is None
    assert [r.result.engine for r in default] == [default_engine("nvidia"),
                                                  default_engine("google")]


def test_compare_serving_refuses_an_engine_a_chip_lacks_before_any_search():
    calls = []
    with pytest.raises(SpecError) as err:
        api.compare_serving(("llama-3.1-8b",), chips=["h200", "trn2", "tpu-v6e", "trn2"],
                            engine="sglang", progress=calls.append)
    cat = hardware_catalog()
    assert err.value.field == "engine" and calls == []
    assert str(err.value) == str(unknown_engine(
        "sglang", ("aws", f"{cat.chip('trn2').name} serves"),
        ("google", f"{cat.chip('tpu-v6e').name} serves")))
    assert "\n" not in str(err.value) and "H200" not in str(err.value)


ARGS = {"model": "llama-3.1-8b", "models": ("llama-3.1-8b",), "chip": "trn2",
        "chips": ["trn2"]}


def test_every_api_function_with_an_engine_validates_it_alike():
    # Every public function taking `engine` refuses one a chip lacks with the one error
    # hardware.stacks.unknown_engine builds, before any search.
    takes = {name: fn for name in api.__all__
             if inspect.isfunction(inspect.unwrap(fn := getattr(api, name)))
             and "engine" in _params(fn)}
    assert set(takes) == {"serve_problem", "infer", "compare_serving"}
    expected = str(unknown_engine("vllm", ("aws", f"{api.chip('trn2').name} serves")))
    for name, fn in takes.items():
        kwargs = {k: v for k, v in ARGS.items() if k in _params(fn)}
        with pytest.raises(SpecError) as err:
            fn(**kwargs, engine="vllm")
        assert (err.value.field, str(err.value)) == ("engine", expected), name


def _params(fn) -> dict:
    return dict(inspect.signature(inspect.unwrap(fn)).parameters)


@pytest.mark.parametrize("argv,start,names", [
    (["infer", "llama-3.1-8b", "--chip", "trn2", "--engine", "sglang"],
     "error: engine = 'sglang': ", ["Trainium2"]),
    (["compare", "llama-3.1-8b", "--serve", "--chip", "h200,trn2,tpu-v6e", "--engine",
      "sglang"], "error: engine = 'sglang': ", ["Trainium2", "TPU v6e"]),
    (["compare", "llama-3.1-8b", "--chip", "h200", "--engine", "vllm"],
     "error: --engine = 'vllm': only with --serve", []),
])
def test_cli_bad_engine_is_one_line_exit_2(run_cli, argv, start, names):
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith(start)
    assert all(n in err for n in names) and "Traceback" not in err


def test_engines_without_a_chunk_take_the_efficiency_default():
    # Each engine's prefill chunk: its record's max_batched_tokens on the chip, else
    # efficiency.toml's default serving_engine record (JetStream, NxD Inference).
    default = engine_defaults()["default"].prefill_chunk_tokens
    for chip, engine in [("tpu-v6e", "jetstream"), ("trn2", "nxd-inference"),
                         ("h200", "tensorrt-llm"), ("mi300x", "sglang")]:
        problem, _ = api.serve_problem("llama-3.1-8b", chip=chip, n_chips=1, engine=engine)
        own = stack_rules(problem.chip.vendor, "serve", engine).batched_tokens_on(problem.chip)
        assert engine_chunk_tokens(problem) == (own or default)
        assert (own is None) == (engine in ("jetstream", "nxd-inference"))
