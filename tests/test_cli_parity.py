"""A published run typed into the CLI gives what `xpuplan validate` predicts for it.

scripts/cli_parity.py builds, from a validation CSV row alone, the `xpuplan train|infer --json`
command a user with the published information would type; here a handful of rows, one per
vendor and kind and each exercising a run option (engine batch cap, scheduler steps, eager
launches, async scheduling, static shapes, context buckets, int8 KV, dense attention, a
MaxText remat policy with a config.json shape, the memory settings), must give validate's
in-sample figure within 1e-6 relative (calibrate/report.py computes it the same way:
predict_row, evaluate), and a training row validate's memory per chip and fits.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from xpuplan.calibrate.infer_set import infer_rows, predict_row
from xpuplan.calibrate.train_set import train_rows
from xpuplan.train.evaluate import evaluate

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "cli_parity.py"
ROWS = [
    "trtllm_v1_Llama-3.1-8B_h200_tp1_128_128",  # infer/nvidia: --max-running-batch
    "mlperf51_dell_8xmi300x_l270b99_offline",  # infer/amd: --scheduler-steps, --eager
    "mlperf61_amd_8xmi355x_l270b_offline",  # infer/amd: --async-scheduling
    "optneuron_trn2_llama31_8b_tp4_throughput",  # infer/aws: --compiled-batch/--compiled-seq-len
    "neuron_trn2_llama33_70b_bf16_ttft",  # infer/aws: --context-buckets
    "jetstream_pt_v5e8_Llama-3-8B_bf16",  # infer/google: --static-kv-tokens
    "jetstream_pt_v5e8_Llama-3-8B_int8",  # infer/google: --kv int8
    "narayanan21_t1_gpt1.7B",  # train/nvidia
    "rocmte_mi300x_llama3_8b_fsdp_fp8_bs4",  # train/amd
    "neuron_trn1_llama2-7b_16nodes_v2160_5",  # train/aws: --dense-attention
    "maxtext_v5p_512b_512chips",  # train/google: --remat-policy, config.json shape
    # train/nvidia: --state-format megatron-bf16-grads, --cpu-offload-layers, --saved-inputs fp8
    "mbridge_2511_gb200_llama3-70b_fp8-cs_64g",
    "mbridge_2511_b200_qwen3-30b-a3b_fp8-mx_8g",  # train/nvidia: --saved-inputs mxfp8
    "tpurecipes_tpu7x_deepseek-v3_bf16_128c",  # train/google: --state-format maxtext-..., offload
]


@pytest.fixture(scope="module")
def parity():
    spec = importlib.util.spec_from_file_location("cli_parity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def validate_figures() -> dict[str, float]:
    infer, _ = infer_rows()
    train, _ = train_rows()
    out = {r.id: float(predict_row(r)[0]) for r in infer if r.id in ROWS}
    out.update({r.id: float(evaluate(r.problem, r.layout).tokens_per_s[0]) / r.problem.n_chips
                for r in train if r.id in ROWS})
    return out


@pytest.fixture(scope="module")
def validate_memory() -> dict[str, tuple[float, bool]]:
    train, _ = train_rows()
    return {r.id: (float(ev.memory_per_chip_bytes[0]), bool(ev.fits[0]))
            for r in train if r.id in ROWS for ev in [evaluate(r.problem, r.layout)]}


@pytest.mark.parametrize("row_id", ROWS)
def test_cli_gives_validates_figure(parity, validate_figures, validate_memory, row_id,
                                    tmp_path):
    kind, row = parity.csv_rows()[row_id]
    args, missing = parity.build_command(kind, row, tmp_path)
    assert missing == []  # the CLI has an option for every knob the row publishes
    code, out, err = parity.run_cli(args)
    assert code == 0, err
    data = json.loads(out)
    figure = parity.cli_figure(row, kind, data)
    assert figure == pytest.approx(validate_figures[row_id], rel=1e-6)
    if kind == "train":
        memory, fits = validate_memory[row_id]
        assert (data["memory_per_chip_bytes"], data["fits"]) == (pytest.approx(memory), fits)


def test_run_options_change_the_prediction(run_json):
    # a static 2048-token cache read whole each step slows decode against the paged default;
    # one decode step per scheduler call pays vLLM V0's serial host time every token
    base = ["infer", "llama-2-7b", "--chip", "tpu-v5e", "--chips", "8", "--tp", "8",
            "--engine", "jetstream", "--batch", "64", "--input-len", "218", "--output-len", "939"]
    paged = run_json(*base)["tpot_s"]
    assert run_json(*base, "--static-kv-tokens", "2048")["tpot_s"] > paged
    v0 = ["infer", "llama-3.1-8b", "--chip", "mi300x", "--chips", "1", "--batch", "64",
          "--engine", "vllm-v0"]
    assert run_json(*v0)["tpot_s"] > run_json(*v0, "--scheduler-steps", "8")["tpot_s"]


def test_run_settings_reach_the_serving_problem():
    from xpuplan import api

    p, _ = api.serve_problem("llama-3.1-8b", chip="trn2", input_len=1000, output_len=200,
                             max_running_batch=48, scheduler_steps=4, cuda_graphs=False,
                             async_scheduling=True, context_buckets=(4096, 2048),
                             compiled_batch=8, compiled_seq_len=2048)
    assert (p.max_running_batch, p.scheduler_steps, p.cuda_graphs, p.async_scheduling) == (
        48, 4, False, True)
    assert (p.context_buckets, p.compiled_batch, p.kv_cache_tokens, p.pad_prompt_to_cache) == (
        (2048, 4096), 8, 2048, True)
    q, _ = api.serve_problem("llama-3.1-8b", chip="tpu-v5e", static_kv_tokens=1280)
    assert (q.kv_cache_tokens, q.pad_prompt_to_cache, q.context_buckets) == (1280, False, ())
