"""Serving engines (data/stacks.toml): each engine's KV admission rule and default batch caps,
the engine chosen on the API, CLI and web body, and validation rows mapped to theirs."""

from __future__ import annotations

import math

import pytest

from xpuplan import api
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.catalog.measurements import stack_records
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import SpecError
from xpuplan.hardware.stacks import (
    default_engine,
    engine_for_framework,
    serving_engines,
    stack_rules,
)

ENGINES = [(r.vendor, r.engine) for r in stack_records()
           if r.workload == "serve" and r.vendor != "default"]
CHIP_OF = {"nvidia": "h100", "amd": "mi300x", "google": "tpu-v6e", "aws": "trn2"}


def _record(vendor: str, engine: str):
    return next(r for r in stack_records()
                if r.workload == "serve" and (r.vendor, r.engine) == (vendor, engine))


@pytest.mark.parametrize("engine,resident", [("tensorrt-llm", 128 + 8192),
                                             ("vllm", 128 + 8192 / 2),
                                             ("sglang", 128 + 8192 / 2)])
def test_admission_by_hand_per_engine(engine, resident):
    # Issue #11's case, 1024 requests of 128 + 8192 tokens on 8 H100 (tp8, fp8 weights and KV):
    # 80 layers x 2 x 8 KV heads x 128 x 1 B / 8 chips = 20,480 B per token per chip. The
    # free HBM (HBM - reserve - weights - workspace) holds free / (20,480 B x R) requests:
    # R = I + O under TensorRT-LLM's GUARANTEED_NO_EVICT, I + O/2 resident under vLLM and
    # SGLang's paged admission (which preempt on overflow).
    r = api.infer("llama-3.1-70b", chip="h100", n_chips=8, tp=8, batch=1024, input_len=128,
                  output_len=8192, weights="fp8", engine=engine)
    m, hbm = r.memory_bytes, hardware_catalog().chip("h100").hbm_bytes
    free = hbm - m["reserved"] - m["weights"] - m["workspace"]
    assert r.max_concurrency == math.floor(free / (20480 * resident))
    assert r.engine == engine and r.admission == _record("nvidia", engine).kv_admission
    assert r.running_batch == r.max_concurrency < 1024
    assert r.running_batch_limit == "kv_capacity"
    # paged engines run about (I + O) / (I + O/2) = 1.97x TensorRT-LLM's sequences
    if engine != "tensorrt-llm":
        trt = api.infer("llama-3.1-70b", chip="h100", n_chips=8, tp=8, batch=1024,
                        input_len=128, output_len=8192, weights="fp8")
        assert r.max_concurrency / trt.max_concurrency == pytest.approx(8320 / 4224, rel=0.01)


@pytest.mark.parametrize("engine", ["tensorrt-llm", "vllm", "sglang"])
def test_engine_default_cap_on_the_chip(engine):
    # Llama 3.1 8B fp8 on one H200 at 128 + 128 tokens holds thousands of sequences: the
    # engine's default cap on running sequences on a 141 GB chip sets the running batch
    # (TensorRT-LLM max_batch_size, vLLM max_num_seqs of its >= 70 GiB tier, SGLang's
    # request pool), read from the records.
    rec, chip = _record("nvidia", engine), hardware_catalog().chip("h200")
    big = [t for t in rec.tier if not t.chips and t.max_running_batch
           and t.hbm_gib_min * 2**30 <= chip.hbm_bytes]
    cap = big[-1].max_running_batch if big else rec.max_running_batch
    r = api.infer("llama-3.1-8b", chip="h200", batch=8192, input_len=128, output_len=128,
                  weights="fp8", kv="fp8", engine=engine)
    assert r.max_concurrency > cap and r.running_batch == cap == r.engine_max_batch
    assert r.running_batch_limit == "engine_max_batch"


def test_vllm_tiers_pick_by_chip_name_then_hbm():
    # vLLM's server defaults: 1024 sequences / 8192 tokens on devices of >= 70 GiB except an
    # A100 (named), 256 / 2048 below; SGLang's chunk doubles from 160 GiB (B200, MI300X).
    cat, vllm = hardware_catalog(), stack_rules("nvidia", "serve", "vllm")
    rec = _record("nvidia", "vllm")
    named = next(t for t in rec.tier if "a100-80gb" in t.chips)
    sized = next(t for t in rec.tier if t.hbm_gib_min)
    assert vllm.max_batch_on(cat.chip("a100-80gb")) == named.max_running_batch
    assert vllm.max_batch_on(cat.chip("h100")) == sized.max_running_batch
    assert vllm.batched_tokens_on(cat.chip("h100")) == sized.max_batched_tokens
    assert vllm.max_batch_on(cat.chip("a100-40gb")) == rec.max_running_batch  # 40 GB < 70 GiB
    sglang = stack_rules("amd", "serve", "sglang")
    assert sglang.batched_tokens_on(cat.chip("mi300x")) == 2 * sglang.max_batched_tokens
    assert sglang.batched_tokens_on(cat.chip("h200")) == sglang.max_batched_tokens


@pytest.mark.parametrize("vendor,engine", ENGINES)
def test_api_call_per_engine(vendor, engine):
    r = api.infer("llama-3.1-8b", chip=CHIP_OF[vendor], n_chips=1, batch=8,
                  input_len=512, output_len=512, engine=engine)
    assert r.engine == engine
    assert r.admission == _record(vendor, engine).kv_admission
    assert r.to_dict()["engine"] == engine and r.output_tokens_per_s > 0


def test_default_engine_per_vendor_and_unknown_engine_error():
    for vendor in ("nvidia", "amd", "google"):  # the record marked vendor_default
        assert default_engine(vendor) == next(r.engine for r in stack_records()
                                              if r.vendor == vendor and r.vendor_default)
    assert default_engine("aws") == "nxd-inference"  # its only serving record
    assert default_engine("intel") == default_engine("default") == "vllm"  # no record
    with pytest.raises(SpecError) as err:
        api.serve_problem("llama-3.1-8b", chip="trn2", engine="vllm")
    assert err.value.field == "engine"
    assert str(err.value).endswith("serves with nxd-inference (default nxd-inference)")


def test_cli_engine_error_names_the_chips_engines(run_cli, run_json):
    code, out, err = run_cli("infer", "llama-3.1-8b", "--chip", "h100", "--engine", "jetstream")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: engine = 'jetstream': ")
    assert "serves with tensorrt-llm, vllm, vllm-v0, sglang (default tensorrt-llm)" in err
    d = run_json("infer", "llama-3.1-8b", "--chip", "mi300x", "--batch", "4", "--engine",
                 "sglang")
    assert (d["engine"], d["admission"]) == ("sglang", "paged_resident_tokens")


def test_web_body_takes_the_engine():
    from xpuplan.web.schemas import InferRequest

    body = InferRequest(model="llama-3.1-8b", chip="h100", batch=4, engine="vllm")
    assert body.engine == "vllm"


def test_validation_rows_run_the_engine_of_their_framework():
    # TensorRT-LLM and NIM rows -> tensorrt-llm; vLLM on TPU -> vllm, JetStream -> jetstream;
    # Neuron's vLLM fork runs NxD Inference (the only AWS engine); AMD's harness -> vllm.
    assert engine_for_framework("nvidia", "NVIDIA NIM 1.8.0 (TensorRT-LLM)") == "tensorrt-llm"
    assert engine_for_framework("google", "vLLM (TPU backend)") == "vllm"
    assert engine_for_framework("google", "JetStream + MaxText") == "jetstream"
    assert engine_for_framework("aws", "NxD Inference + vLLM (Neuron fork)") == "nxd-inference"
    assert engine_for_framework("amd", "AMD MLPerf harness (PyTorch 2.10)") == "vllm"
    rows, _ = infer_rows()
    for r in rows:
        assert r.problem.engine in serving_engines(r.vendor)
    assert {r.problem.engine for r in rows if r.vendor == "google"} == {"jetstream", "vllm"}
