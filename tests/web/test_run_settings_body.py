"""The CLI's run settings in web bodies (memory knobs, remat policy, MoE capacity, price basis,
engine run settings): a body with them gives exactly the API's (and the CLI's) figure, which
differs from the figure without them; a bad value is a 422 naming the field."""

from __future__ import annotations

import pytest

from xpuplan import api

TRAIN = {"model": "llama-3.1-8b", "chip": "h100", "n_chips": 8}
INFER = {"model": "llama-3.1-8b", "chip": "h100", "engine": "vllm"}


def _post(client, path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("body", "kwargs", "key"), [
    ({"state_format": "maxtext-bf16-fp32-fp32", "cpu_offload_layers": 4, "tp": 1, "pp": 1},
     {"state_format": "maxtext-bf16-fp32-fp32", "cpu_offload_layers": 4, "tp": 1, "pp": 1},
     "memory_per_chip_bytes"),
    ({"precision": "fp8", "saved_inputs": "fp8"},
     {"precision": "fp8", "saved_input_format": "fp8"}, "memory_per_chip_bytes"),
    ({"remat_policy": "minimal"}, {"remat_policy": "minimal"}, "step_time_s"),
    ({"model": "qwen3-30b-a3b", "capacity_factor": 1.25, "dense_attention": True},
     {"moe_capacity_factor": 1.25, "dense_attention": True}, "step_time_s"),
])
def test_train_run_settings_give_the_api_figure(client, body, kwargs, key):
    web = _post(client, "/api/train", {**TRAIN, **body})
    model = body.get("model", TRAIN["model"])
    with_them = api.train(model, chip="h100", n_chips=8, **kwargs).to_dict()
    layout = {k: kwargs[k] for k in ("tp", "pp", "precision") if k in kwargs}
    without = api.train(model, chip="h100", n_chips=8, **layout).to_dict()
    assert web[key] == with_them[key] != without[key]


def test_train_price_basis_gives_the_api_cost(client, run_json):
    body = {**TRAIN, "tokens": "1T", "price_term": "commit_1y", "usd_per_chip_hour": 2.5}
    web = _post(client, "/api/train", body)
    cli = run_json("train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--tokens", "1T",
                   "--price-term", "commit_1y", "--usd-per-chip-hour", "2.5")
    assert web == cli
    default = _post(client, "/api/train", {**TRAIN, "tokens": "1T"})
    assert web["cost_usd"] != default["cost_usd"] and web["usd_per_chip_hour"] == 2.5


def test_search_memory_knobs_equal_the_cli_json(client, run_json):
    body = {**TRAIN, "top": 2, "state_format": "megatron-bf16-grads", "cpu_offload_layers": 2}
    web = _post(client, "/api/search", body)
    cli = run_json("search", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--top", "2",
                   "--state-format", "megatron-bf16-grads", "--cpu-offload-layers", "2")
    for side in (web, cli):
        side.pop("search_time_s", None)
    assert web == cli


V0 = {"model": "llama-3.1-8b", "chip": "h100", "engine": "vllm-v0"}
# a small model at batch 1 on an engine with eager launch figures (stacks.toml amd/serve vllm):
# the host's launches outlast the device step
TINY = {"model": "gpt2", "chip": "mi300x", "engine": "vllm", "batch": 1, "input_len": 256,
        "output_len": 256}
NEURON = {"model": "llama-3.1-8b", "chip": "trn2"}


@pytest.mark.parametrize(("base", "settings", "kwargs"), [
    (V0, {"max_running_batch": 64, "scheduler_steps": 8},
     {"max_running_batch": 64, "scheduler_steps": 8}),
    (V0, {"async_scheduling": True}, {"async_scheduling": True}),
    (TINY, {"eager": True}, {"cuda_graphs": False}),
    (TINY, {"cuda_graphs": False}, {"cuda_graphs": False}),
    (NEURON, {"compiled_batch": 8, "compiled_seq_len": 2048, "context_buckets": [2048, 1024]},
     {"compiled_batch": 8, "compiled_seq_len": 2048, "context_buckets": (1024, 2048)}),
    (NEURON, {"compiled_batch": 8, "compiled_seq_len": 2048, "context_buckets": "1024,2048"},
     {"compiled_batch": 8, "compiled_seq_len": 2048, "context_buckets": (1024, 2048)}),
    ({"model": "llama-3.1-8b", "chip": "tpu-v6e"}, {"static_kv_tokens": 4096},
     {"static_kv_tokens": 4096}),
])
def test_infer_run_settings_give_the_api_tpot(client, base, settings, kwargs):
    web = _post(client, "/api/infer", {**base, **settings})
    model, rest = base["model"], {k: v for k, v in base.items() if k != "model"}
    with_them = api.infer(model, **rest, **kwargs).to_dict()
    without = api.infer(model, **rest).to_dict()
    assert web["tpot_s"] == with_them["tpot_s"] != without["tpot_s"]


def test_infer_price_gives_the_api_cost(client):
    web = _post(client, "/api/infer", {**INFER, "usd_per_chip_hour": 2.0})
    with_it = api.infer("llama-3.1-8b", chip="h100", engine="vllm", usd_per_chip_hour=2.0)
    without = api.infer("llama-3.1-8b", chip="h100", engine="vllm")
    key = "usd_per_mtok_output"
    assert web[key] == with_it.to_dict()[key] != without.to_dict()[key]


def test_infer_run_settings_equal_the_cli_json(client, run_json):
    body = {**V0, "max_running_batch": 64, "scheduler_steps": 8, "eager": True,
            "price_term": "spot"}
    cli = run_json("infer", "llama-3.1-8b", "--chip", "h100", "--engine", "vllm-v0",
                   "--max-running-batch", "64", "--scheduler-steps", "8", "--eager",
                   "--price-term", "spot")
    assert _post(client, "/api/infer", body) == cli


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/train", {**TRAIN, "cpu_offload_layers": -1}, "cpu_offload_layers"),
    ("/api/train", {**TRAIN, "capacity_factor": 0}, "capacity_factor"),
    ("/api/train", {**TRAIN, "tokens": "1T", "usd_per_chip_hour": 0}, "usd_per_chip_hour"),
    ("/api/train", {**TRAIN, "price_term": "forever"}, "price_term"),
    ("/api/train", {**TRAIN, "remat_policy": ""}, "remat_policy"),
    ("/api/train", {**TRAIN, "state_format": "x" * 201}, "state_format"),
    ("/api/search", {**TRAIN, "cpu_offload_layers": 10_001}, "cpu_offload_layers"),
    ("/api/search", {**TRAIN, "saved_inputs": ""}, "saved_inputs"),
    ("/api/infer", {**INFER, "scheduler_steps": 1025}, "scheduler_steps"),
    ("/api/infer", {**INFER, "max_running_batch": 0}, "max_running_batch"),
    ("/api/infer", {**INFER, "compiled_batch": 10**7 + 1}, "compiled_batch"),
    ("/api/infer", {**INFER, "static_kv_tokens": 0}, "static_kv_tokens"),
    ("/api/infer", {**INFER, "compiled_seq_len": 1.5}, "compiled_seq_len"),
    ("/api/infer", {**INFER, "async_scheduling": "sometimes"}, "async_scheduling"),
    ("/api/compare", {"usd_per_chip_hour": -1}, "usd_per_chip_hour"),
])
def test_bad_run_setting_is_a_422_naming_the_field(client, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]
    assert r.json()["detail_text"].startswith(field)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/train", {**TRAIN, "cpu_offload_layers": 32}, "cpu_offload_layers"),
    ("/api/train", {**TRAIN, "state_format": "maxtext-fp16-fp32-fp32"}, "state_format"),
    ("/api/train", {**TRAIN, "saved_inputs": "fp8"}, "saved_input_format"),
    ("/api/train", {**TRAIN, "remat_policy": "most"}, "remat_policy"),
    ("/api/infer", {**INFER, "context_buckets": "1024,lots"}, "context_buckets"),
    ("/api/infer", {**INFER, "compiled_seq_len": 512}, "compiled_seq_len"),
])
def test_setting_the_api_refuses_is_a_one_line_422_naming_it(client, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert "\n" not in r.json()["detail"] and "Traceback" not in r.text


@pytest.mark.parametrize("buckets", [[0], [2048] * 65, []])
def test_bad_context_buckets_are_a_422_naming_the_field(client, buckets):
    r = client.post("/api/infer", json={**INFER, "context_buckets": buckets})
    assert r.status_code == 422, r.text
    assert r.json()["detail_text"].startswith("context_buckets")


def test_eager_and_cuda_graphs_both_true_is_a_422(client):
    r = client.post("/api/infer", json={**INFER, "eager": True, "cuda_graphs": True})
    assert r.status_code == 422
    assert "not both" in r.json()["detail_text"]


def test_compare_price_basis_equals_the_cli_json(client, run_json):
    body = {"model": "llama-3.1-8b", "chip": "h100,trn2", "n_chips": 64, "tokens": "2T",
            "usd_per_chip_hour": 3.0}
    cli = run_json("compare", "llama-3.1-8b", "--chip", "h100,trn2", "--chips", "64",
                   "--tokens", "2T", "--usd-per-chip-hour", "3")
    web = _post(client, "/api/compare", body)
    assert web == cli
    assert web != _post(client, "/api/compare", {**body, "usd_per_chip_hour": None})
