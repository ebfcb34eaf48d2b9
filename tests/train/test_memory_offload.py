"""MaxText remat policies in the memory estimate: 'device' tensors in HBM, 'offload' ones in
pinned host memory (train.memory, workload.remat.placement), against hand counts."""

from __future__ import annotations

import numpy as np
import pytest

from xpuplan.catalog.model_loader import load_model
from xpuplan.errors import SpecError
from xpuplan.specs.layouts import Layouts
from xpuplan.train.memory import (
    MemorySettings,
    activation_bytes_per_token_layer,
    host_offload_bytes,
    memory_per_chip,
    policy_bytes_per_token_layer,
    state_bytes,
)
from xpuplan.workload.layer import layer_shape
from xpuplan.workload.remat import placement

L8B = layer_shape(load_model("llama-3.1-8b"))  # D 4096, 32 x 128 heads, 8 KV heads, F 14336
D, Q, KV, F, LAYERS = 4096, 32 * 128, 8 * 128, 14336, 32
SEQ, MB = 8192, 3
OFFLOAD_QKVO = (
    "custom:decoder_layer_input=offload;query_proj=offload;key_proj=offload;"
    "value_proj=offload;out_proj=offload"
)  # tpu-recipes v6e Llama 3.1 8B


def _fsdp(**kw) -> Layouts:
    return Layouts.build(tp=1, pp=1, dp=8, zero=3, micro_batch=MB, recompute=2, **kw)


def test_placement_of_presets_and_custom():
    assert placement("full") == {"decoder_layer_input": "device"}
    assert placement("minimal_offloaded")["mlpwo"] == "offload"
    assert placement("minimal_offloaded")["decoder_layer_input"] == "device"
    assert placement("save_qkv_proj")["query_proj"] == "device"
    custom = placement("custom:decoder_layer_input=offload;mlpwo=offload;context=remat")
    assert custom == {"decoder_layer_input": "offload", "mlpwo": "offload"}
    with pytest.raises(SpecError):
        placement("custom:query_proj=host")


def test_offloaded_qkvo_policy_by_hand():
    # Offloaded per token per layer: input D + Q + K + V + O's output D, 2 B each; on device
    # nothing, so HBM holds one layer's working set only (the rest of it is rebuilt).
    lay = _fsdp()
    device, host = policy_bytes_per_token_layer(L8B, lay, OFFLOAD_QKVO)
    assert device[0] == 0.0
    assert host[0] == pytest.approx(2 * (D + Q + 2 * KV + D))
    tokens = MB * SEQ
    assert host_offload_bytes(L8B, lay, SEQ, 24, settings=MemorySettings(OFFLOAD_QKVO))[0] == (
        pytest.approx(2 * (D + Q + 2 * KV + D) * tokens * LAYERS)
    )  # 22.5 GB
    whole = activation_bytes_per_token_layer(L8B, lay, np.zeros(1, dtype=np.int64))[0]
    act = memory_per_chip(L8B, lay, SEQ, 24, 0.0, settings=MemorySettings(OFFLOAD_QKVO))[
        "mem/activations"
    ]
    assert act[0] == pytest.approx(whole * tokens)  # one layer, nothing kept across layers


def test_device_policy_keeps_named_tensors_in_hbm():
    # tpu-recipes TPU7x Llama 3.1 70B style: input, Q, K, V and context on device:
    # per token per layer 2·(D + Q + K + V + N·H), times tokens and layers, plus one layer's
    # working set beyond them.
    policy = (
        "custom:decoder_layer_input=device;query_proj=device;key_proj=device;"
        "value_proj=device;context=device"
    )
    lay = _fsdp()
    device, host = policy_bytes_per_token_layer(L8B, lay, policy)
    kept = 2 * (D + Q + 2 * KV + Q)
    assert device[0] == pytest.approx(kept) and host[0] == 0.0
    whole = activation_bytes_per_token_layer(L8B, lay, np.zeros(1, dtype=np.int64))[0]
    act = memory_per_chip(L8B, lay, SEQ, 24, 0.0, settings=MemorySettings(policy))[
        "mem/activations"
    ][0]
    assert act == pytest.approx((kept * LAYERS + whole - kept) * MB * SEQ)


def test_full_preset_keeps_the_layer_input_like_korthikanti():
    # MaxText 'full' keeps decoder_layer_input (2·D/σ per token per layer), Korthikanti's
    # full recompute 2sbh/t with SP.
    lay = Layouts.build(tp=4, pp=1, dp=2, recompute=2)
    device, host = policy_bytes_per_token_layer(L8B, lay, "full")
    assert device[0] == pytest.approx(2 * D / 4) and host[0] == 0.0


def test_offload_lowers_hbm_and_no_policy_is_unchanged():
    lay = _fsdp()
    plain = memory_per_chip(L8B, lay, SEQ, 24, 0.0)
    offl = memory_per_chip(L8B, lay, SEQ, 24, 0.0, settings=MemorySettings(OFFLOAD_QKVO))
    assert offl["mem/activations"][0] < plain["mem/activations"][0]
    assert all(np.array_equal(plain[k], offl[k]) for k in plain if k != "mem/activations")
    assert host_offload_bytes(L8B, lay, SEQ, 24)[0] == 0.0
    # a layout without layer recompute ignores the policy
    none = Layouts.build(tp=1, pp=1, dp=8, zero=3, micro_batch=MB)
    assert np.array_equal(
        memory_per_chip(L8B, none, SEQ, 24, 0.0)["mem/activations"],
        memory_per_chip(L8B, none, SEQ, 24, 0.0, settings=MemorySettings(OFFLOAD_QKVO))[
            "mem/activations"
        ],
    )


def test_bf16_gradient_buffer_follows_megatron_table():
    # Megatron distrib-optimizer table: bf16 params + fp32 grads 6 + 12/d bytes per
    # parameter, half-precision grads 4 + 16/d (grads 2 B, fp32 main grads in the optimizer).
    lay = Layouts.build(tp=1, pp=1, dp=8, zero=1)
    fp32 = memory_per_chip(L8B, lay, SEQ, 64, 0.0)
    bf16 = memory_per_chip(L8B, lay, SEQ, 64, 0.0, settings=MemorySettings(state_format="megatron-bf16-grads"))
    params = fp32["mem/weights"][0] / 2
    assert fp32["mem/grads"][0] == pytest.approx(4 * params)
    assert fp32["mem/optimizer"][0] == pytest.approx(12 * params / 8)
    assert bf16["mem/grads"][0] == pytest.approx(2 * params)
    assert bf16["mem/optimizer"][0] == pytest.approx(16 * params / 8)
    state = sum(bf16[k][0] for k in ("mem/weights", "mem/grads", "mem/optimizer"))
    assert state == pytest.approx((4 + 16 / 8) * params)


def test_cpu_offloaded_layers_leave_hbm_but_one_in_transfer():
    # Megatron cpu_offloading_num_layers = 10 of Llama 3.1 8B's 32 layers, no recompute:
    # HBM keeps 32 - 10 + 1 layers' activations, host memory 10 layers'.
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=2)
    per_layer = activation_bytes_per_token_layer(L8B, lay, lay.recompute)[0] * 2 * SEQ
    settings = MemorySettings(offload_layers=10)
    act = memory_per_chip(L8B, lay, SEQ, 64, 0.0, settings=settings)["mem/activations"][0]
    assert act == pytest.approx(per_layer * 23)
    assert host_offload_bytes(L8B, lay, SEQ, 64, settings=settings)[0] == pytest.approx(
        per_layer * 10
    )
    plain = memory_per_chip(L8B, lay, SEQ, 64, 0.0)["mem/activations"][0]
    assert plain == pytest.approx(per_layer * LAYERS)


def test_fp8_recipe_keeps_quantized_gemm_inputs():
    # Llama 3.1 8B, tp 1, no recompute, per token per layer: bf16 keeps 2 B x (D + QKV + ctx
    # + D + 2F + F + 2D); under TE's FP8 recipe the four GEMM-only inputs (normed attention
    # input D, context N·H, normed MLP input D, down-projection input F) take 1 B each.
    lay = Layouts.build(tp=1, pp=1, dp=8)
    qkv, ctx = Q + 2 * KV, Q
    bf16 = activation_bytes_per_token_layer(L8B, lay, lay.recompute)[0]
    fp8 = activation_bytes_per_token_layer(L8B, lay, lay.recompute, gemm_input_bytes=1.0)[0]
    assert bf16 == pytest.approx(2 * (D + qkv + ctx + D + 2 * F + F + 2 * D))
    assert fp8 == pytest.approx(1 * (D + ctx + D + F) + 2 * (qkv + 2 * F + 2 * D))
    mx = memory_per_chip(L8B, lay, SEQ, 64, 0.0,
                         settings=MemorySettings(saved_input_format="mxfp8"))["mem/activations"]
    per_token = (1 + 1 / 32) * (D + ctx + D + F) + 2 * (qkv + 2 * F + 2 * D)
    assert mx[0] == pytest.approx(per_token * SEQ * LAYERS)


def test_maxtext_state_formats():
    # MaxText defaults (fp32 weights as master, fp32 grads, fp32 mu and nu): 4 + 4 + 8 B per
    # parameter; mu_dtype bf16: optimizer 2 + 4; weight_dtype bf16: 2 + 4 + (2 + 2).
    assert state_bytes("maxtext-fp32-fp32-fp32") == (4.0, 4.0, 8.0)
    assert state_bytes("maxtext-fp32-fp32-bf16") == (4.0, 4.0, 6.0)
    assert state_bytes("maxtext-bf16-fp32-bf16") == (2.0, 4.0, 4.0)
    assert state_bytes("megatron") == (2.0, 4.0, 12.0)
    with pytest.raises(SpecError):
        state_bytes("maxtext-fp16-fp32-fp32")
    lay = Layouts.build(tp=1, pp=1, dp=8, zero=3)
    mem = memory_per_chip(L8B, lay, SEQ, 64, 0.0,
                          settings=MemorySettings(state_format="maxtext-fp32-fp32-fp32"))
    params = memory_per_chip(L8B, lay, SEQ, 64, 0.0)["mem/weights"][0] / 2  # per chip
    assert mem["mem/weights"][0] == pytest.approx(4 * params)
    assert mem["mem/optimizer"][0] == pytest.approx(8 * params)


def test_logits_and_rebuilt_layer_are_not_live_together():
    # Under layer recompute the head's logits are freed before the last layer's backward
    # rebuilds its working set: the peak holds the larger of the two, not their sum.
    lay = Layouts.build(tp=1, pp=1, dp=8, micro_batch=MB, recompute=2)
    mem = memory_per_chip(L8B, lay, SEQ, 24, 0.0)
    tokens = MB * SEQ
    logits = 4 * tokens * 128256
    whole = activation_bytes_per_token_layer(L8B, lay, np.zeros(1, dtype=np.int64))[0] * tokens
    kept = 2 * D * tokens * LAYERS  # the layer inputs
    assert mem["mem/activations"][0] == pytest.approx(kept + whole)
    assert mem["mem/activations"][0] + mem["mem/logits"][0] == pytest.approx(
        kept + max(whole, logits))
