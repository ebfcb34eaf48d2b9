"""MaxText remat policies -> the share of a layer's forward FLOPs recomputed (workload.remat)."""

from __future__ import annotations

import pytest

from xpuplan.catalog.model_loader import load_model
from xpuplan.errors import SpecError
from xpuplan.workload.layer import layer_shape
from xpuplan.workload.remat import kept_tensors, recompute_fraction, remat_op_flops

SEQ = 8192
QKVO = ("custom:decoder_layer_input=offload;query_proj=offload;key_proj=offload;"
        "value_proj=offload;out_proj=offload")


def _llama8b_by_hand() -> dict[str, float]:
    """Llama 3.1 8B per token of one layer, from its config (D 4096, 32 heads of 128, 8 KV
    heads, F 14336 gated): Q 2·D·N·H, K+V 2·D·2·K·H, O 2·N·H·D, MLP gate+up 2·2·D·F, down
    2·F·D, causal attention 2·N·(H+H)·(S+1)/2."""
    D, N, K, H, F = 4096, 32, 8, 128, 14336
    return {"q": 2 * D * N * H, "kv": 2 * D * 2 * K * H, "o": 2 * N * H * D,
            "attention": 2 * N * 2 * H * (SEQ + 1) / 2, "mlpwi": 2 * 2 * D * F,
            "mlpwo": 2 * F * D}


def test_op_flops_match_a_hand_count_for_llama_8b():
    F = remat_op_flops(layer_shape(load_model("llama-3.1-8b")), SEQ)
    for op, flops in _llama8b_by_hand().items():
        assert F[op] == pytest.approx(flops, rel=1e-3), op
    assert F["moe_mlpwi"] == F["moe_mlpwo"] == 0


def test_saving_qkvo_recomputes_attention_and_the_mlp_gate_up():
    # tpu-recipes' Llama 3.1 8B on v6e: Q/K/V/O offloaded -> attention + gate/up run again,
    # the down projection's output is never read by the backward.
    F = _llama8b_by_hand()
    want = (F["attention"] + F["mlpwi"]) / sum(F.values())
    got = recompute_fraction(layer_shape(load_model("llama-3.1-8b")), SEQ, QKVO)
    assert got == pytest.approx(want, rel=1e-3)
    assert 0.59 < got < 0.61  # 268 of 469 MFLOP per token


NXD_MLP = ("custom:query_proj=device;key_proj=device;value_proj=device;context=device;"
           "out_proj=device")


def test_nxd_mlp_checkpoint_recomputes_only_the_gate_and_up():
    # NxD's Llama 3 70B at seq 8192 checkpoints (CoreAttention, LlamaMLP) under the flash
    # kernel (run_llama_nxd.py, neuronx-distributed 2.21-2.24): only the MLP's gate/up GEMMs
    # run again. Llama 3.1 70B: D 8192, 64 heads of 128, 8 KV heads, F 28672 gated.
    D, N, K, H, F = 8192, 64, 8, 128, 28672
    gate_up = 2 * 2 * D * F
    total = (2 * D * N * H + 2 * D * 2 * K * H + 2 * N * H * D + 2 * N * 2 * H * (SEQ + 1) / 2
             + gate_up + 2 * F * D)
    got = recompute_fraction(layer_shape(load_model("llama-3.1-70b")), SEQ, NXD_MLP)
    assert got == pytest.approx(gate_up / total, rel=1e-3)
    assert 0.50 < got < 0.52  # 940 of 1845 MFLOP per token


def test_presets_order_from_most_to_least_recompute():
    s = layer_shape(load_model("llama-3.1-70b"))
    f = {p: recompute_fraction(s, SEQ, p) for p in (
        "full", "save_qkv_proj", "save_dot_except_mlp", "minimal", "minimal_with_context")}
    assert f["full"] > f["save_qkv_proj"] > f["save_dot_except_mlp"] > f["minimal"]
    assert f["minimal_with_context"] == 0.0
    F = remat_op_flops(s, SEQ)  # full recomputes everything but the MLP's down projection
    assert f["full"] == pytest.approx(1 - F["mlpwo"] / sum(F.values()))


def test_custom_all_remat_equals_full_and_fused_names_count():
    s = layer_shape(load_model("llama-3.1-8b"))
    assert recompute_fraction(s, SEQ, "custom:decoder_layer_input=device") == \
        recompute_fraction(s, SEQ, "full")
    split = "custom:query_proj=device;key_proj=device;value_proj=device"
    assert recompute_fraction(s, SEQ, "custom:qkv_proj=device") == \
        recompute_fraction(s, SEQ, split)
    # 'remat' drops a tensor like leaving it out
    assert recompute_fraction(s, SEQ, "custom:context=remat") == recompute_fraction(s, SEQ,
                                                                                     "full")


def test_moe_policy_recomputes_the_experts_gate_up():
    s = layer_shape(load_model("mixtral-8x7b"))
    F = remat_op_flops(s, 4096)
    assert F["moe_mlpwi"] == pytest.approx(2 * F["moe_mlpwo"])  # gated: gate + up = 2 x down
    assert recompute_fraction(s, 4096, "custom:moe_mlpwi_0=device;moe_mlpwi_1=device") < \
        recompute_fraction(s, 4096, "full") - F["moe_mlpwi"] / sum(F.values()) + 1e-12


@pytest.mark.parametrize("policy", ["bogus", "full:x", "custom:context=disk"])
def test_bad_policy_is_a_spec_error(policy):
    with pytest.raises(SpecError, match="remat_policy"):
        kept_tensors(policy)
