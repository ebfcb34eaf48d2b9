"""The training memory settings a user states (api.train / xpuplan train): the model-state
format, Megatron CPU-offloaded layers and the quantized GEMM inputs kept under an FP8 recipe,
worked by hand from the model and chip records (train/memory.py states each formula)."""

from __future__ import annotations

import pytest

from xpuplan import api
from xpuplan.errors import SpecError
from xpuplan.sweep.spec import AXES

# Llama 3.1 8B on 8 H100s, one stated layout: tp 1, pp 1, dp 8, ZeRO 1, no recompute, one
# sequence per micro-batch; 64 sequences of 8192 tokens per step.
JOB = {"chip": "h100", "n_chips": 8, "seq_len": 8192, "global_batch": 64}
LAYOUT = {"tp": 1, "pp": 1, "dp": 8, "zero": 1, "micro_batch": 1, "recompute": "none"}
CLI = ["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--seq-len", "8192",
       "--global-batch", "64", "--tp", "1", "--pp", "1", "--dp", "8", "--zero", "1",
       "--micro-batch", "1", "--recompute", "none"]
MEMORY = ("state_format", "cpu_offload_layers", "saved_input_format")


def _train(**kw):
    return api.train("llama-3.1-8b", **JOB, **LAYOUT, **kw)


@pytest.fixture(scope="module")
def plain():
    return _train()


def test_defaults_are_the_estimate_without_settings(plain):
    # Megatron's mixed-precision state (2 + 4 + 12 B per parameter, optimizer sharded over
    # dp = 8 at ZeRO 1), every layer's activations in HBM, nothing in host memory.
    params = api.model_summary("llama-3.1-8b").total_params  # norm weights not in the state
    m = plain.memory_bytes
    assert (m["weights"], m["grads"]) == pytest.approx((2 * params, 4 * params), rel=1e-4)
    assert m["optimizer"] == pytest.approx(12 * params / 8, rel=1e-4)
    assert plain.host_offload_bytes == 0.0 and "host memory" not in plain.takeaway
    explicit = _train(state_format="megatron", cpu_offload_layers=0, saved_input_format="bf16")
    assert explicit.to_dict() == plain.to_dict()


def test_bf16_gradient_buffers_and_offloaded_layers_make_the_layout_fit(plain, run_json):
    # megatron-bf16-grads: gradients 2 B (half of 4), optimizer 16 B (fp32 main gradients
    # join master weights and moments: 16/12 of megatron's); 16 of the 32 layers offloaded:
    # HBM keeps 32 - 16 + 1 layers' activations, host memory the 16.
    layers = api.load_model("llama-3.1-8b").n_layers
    n = layers // 2
    m = plain.memory_bytes
    assert sum(m.values()) > plain.hbm_bytes and not plain.fits
    data = run_json(*CLI, "--state-format", "megatron-bf16-grads",
                    "--cpu-offload-layers", str(n))
    got = data["memory_bytes"]
    assert got["weights"] == m["weights"]
    assert got["grads"] == pytest.approx(m["grads"] / 2)
    assert got["optimizer"] == pytest.approx(m["optimizer"] * 16 / 12)
    assert got["activations"] == pytest.approx(m["activations"] * (layers - n + 1) / layers)
    assert data["host_offload_bytes"] == pytest.approx(m["activations"] * n / layers)
    need = (m["weights"] + m["grads"] / 2 + m["optimizer"] * 16 / 12
            + m["activations"] * (layers - n + 1) / layers + m["logits"] + m["reserved"])
    assert data["memory_per_chip_bytes"] == pytest.approx(need)
    assert need < data["hbm_bytes"] and data["fits"] is True
    assert data["step_time_s"] == plain.step_time_s  # memory only
    assert "offloaded activations in host memory (not checked" in data["takeaway"]


@pytest.mark.parametrize("fmt,saved_bytes", [("fp8", 1.0), ("mxfp8", 1.0 + 1.0 / 32)])
def test_fp8_recipe_keeps_quantized_gemm_inputs(fmt, saved_bytes):
    # Under an FP8 recipe the four GEMM-only inputs per layer (the normed attention and MLP
    # inputs D each, the context N·H, the down projection's input F) are kept in 1 B (MXFP8:
    # plus one scale byte per 32) instead of 2, for every token of every layer.
    m = api.load_model("llama-3.1-8b")
    bf16 = _train(precision="fp8")
    quant = _train(precision="fp8", saved_input_format=fmt)
    per_token_layer = (2.0 - saved_bytes) * (2 * m.hidden + m.n_heads * m.head_dim
                                             + m.ffn_hidden)
    saved = per_token_layer * JOB["seq_len"] * m.n_layers
    assert bf16.memory_bytes["activations"] - quant.memory_bytes["activations"] == (
        pytest.approx(saved))
    assert bf16.memory_per_chip_bytes - quant.memory_per_chip_bytes == pytest.approx(saved)


def test_search_counts_the_settings(plain):
    # recompute left free: without the settings no recompute is over HBM (the fixture), so
    # the search recomputes; with bf16 gradient buffers and 16 layers offloaded it fits
    # without recompute, which is faster
    free = {k: v for k, v in LAYOUT.items() if k != "recompute"}
    default = api.train("llama-3.1-8b", **JOB, **free)
    lean = api.train("llama-3.1-8b", **JOB, **free, state_format="megatron-bf16-grads",
                     cpu_offload_layers=16)
    assert not plain.fits and default.fits and default.parallelism["recompute"] != "none"
    assert lean.fits and lean.parallelism["recompute"] == "none"
    assert lean.step_time_s < default.step_time_s


def test_sweep_axes_include_the_settings():
    assert set(MEMORY) <= set(AXES["train"])


@pytest.mark.parametrize("kw,needle", [
    ({"state_format": "megatron-fp32"}, "state_format = 'megatron-fp32': megatron, "
                                        "megatron-bf16-grads or maxtext-W-G-M"),
    ({"state_format": "maxtext-fp32-fp16-bf16"}, "each fp32 or bf16"),
    ({"state_format": None}, "state_format = None"),
    ({"cpu_offload_layers": -1}, "cpu_offload_layers = -1: must be an integer from 0"),
    ({"cpu_offload_layers": 2.5}, "cpu_offload_layers = 2.5: must be an integer"),
    ({"cpu_offload_layers": None}, "cpu_offload_layers = None"),
    ({"cpu_offload_layers": 32}, "cpu_offload_layers = 32: at most 31: llama-3.1-8b has 32"),
    ({"saved_input_format": "fp4"}, "saved_input_format = 'fp4': allowed: bf16, fp8, mxfp8"),
    ({"saved_input_format": "fp8"}, "saved_input_format = 'fp8': quantized GEMM inputs need "
                                    "precision fp8, not bf16"),
])
def test_bad_settings_name_field_value_and_what_is_allowed(kw, needle):
    with pytest.raises(SpecError) as err:
        _train(**kw)
    assert needle in str(err.value)


def test_search_cli_takes_the_settings(run_cli, run_json):
    # The stated layout without recompute is over HBM (the fixture), so `xpuplan search`
    # with it finds nothing that fits; with bf16 gradient buffers and 16 layers offloaded
    # the same layout fits and is the search's answer.
    search = ["search", *CLI[1:]]
    code, _, err = run_cli(*search)
    assert code == 2 and err.startswith("error:")
    data = run_json(*search, "--state-format", "megatron-bf16-grads",
                    "--cpu-offload-layers", "16")
    lean = _train(state_format="megatron-bf16-grads", cpu_offload_layers=16)
    assert data["configs_fitting"] == 1 and data["top"][0]["fits"] is True
    assert data["top"][0]["step_time_s"] == pytest.approx(lean.step_time_s, rel=1e-9)
