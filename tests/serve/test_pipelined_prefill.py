"""Batched prefill of a pipeline-parallel replica (serve.step.prefill_stages, stacks.toml
pipelined_prefill): an engine with pp micro-batches in flight charges one stage's share per
prompt; one prompt alone (TTFT) still passes every stage in turn. Hand-worked cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pydantic import ValidationError

from xpuplan import api
from xpuplan.catalog.measurements import StackRecord
from xpuplan.hardware.collectives import collective_time
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve import evaluate as ev_mod
from xpuplan.serve.evaluate import engine_chunk_tokens, evaluate_serving
from xpuplan.serve.step import gemm_shape_factor, prefill_stages, serve_rates
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.workload.layer import layer_shape

N_IN, N_OUT, B = 2048, 128, 64


def test_prefill_stages_by_hand():
    # Llama 3.1 405B's 126 layers over 2 stages of 63: pipelined, a prompt costs one stage
    # (63 layers, half the head, one weight read, one send); else both stages in turn.
    st = prefill_stages(np.array([2.0]), np.array([63.0]), 126, pipelined=True)
    assert (st.layers[0], st.head[0], st.reads, st.sends) == (63.0, 0.5, 1.0, 1.0)
    st = prefill_stages(np.array([2.0]), np.array([63.0]), 126, pipelined=False)
    assert (st.layers, st.head, st.reads[0], st.sends[0]) == (126, 1.0, 2.0, 1.0)


def test_the_engines_the_sources_cover():
    for vendor, engine in (("nvidia", "tensorrt-llm"), ("nvidia", "vllm"), ("amd", "vllm"),
                           ("nvidia", "vllm-v0"), ("amd", "vllm-v0")):
        assert stack_rules(vendor, "serve", engine).pipelined_prefill, (vendor, engine)
    for vendor, engine in (("nvidia", "sglang"), ("google", "jetstream"),
                           ("aws", "nxd-inference")):
        assert not stack_rules(vendor, "serve", engine).pipelined_prefill, (vendor, engine)
    with pytest.raises(ValidationError, match="pipelined_prefill_source"):
        StackRecord(vendor="nvidia", workload="serve", name="x", engine="x", heads="divide",
                    tp_counts="chips", kv_admission="paged_resident_tokens", source="s",
                    retrieved="2026-12-02", pipelined_prefill=True)


def _problem():
    # TensorRT-LLM on 4 B200s, Llama 3.1 405B FP8, chunks of C = 8192 tokens.
    p = api.serve_problem("llama-3.1-405b", chip="b200", n_chips=4, input_len=N_IN, output_len=N_OUT,
                          weights="fp8")[0]
    assert engine_chunk_tokens(p) == 8192
    return p


def _batched_prefill(p, tp, pp):
    """Per-prompt batched prefill t_pf,C from the cycle: (TPOT_eff − TPOT)·O/B', and TTFT."""
    ev = evaluate_serving(p, ServeLayouts.build(tp=tp, pp=pp, batch=B))
    assert ev.running_batch[0] == B
    return (ev.tpot_s[0] - ev.tpot_decode_s[0]) * N_OUT / B, ev.ttft_s[0]


def _not_pipelined(monkeypatch, p):
    rules = replace(ev_mod.serve_rules(p), pipelined_prefill=False)
    monkeypatch.setattr(ev_mod, "serve_rules", lambda _: rules)


def test_tp2_pp2_prefills_as_fast_as_tp4_on_the_same_gpus(monkeypatch):
    # GEMM FLOPs of one prompt on one chip, s.matmul_params_per_token = 3.18767e9 and the
    # head 2.10135e9 parameters: TP4 x PP1 2·2048·(126·3.18767e9 + 2.10135e9)/4 = 4.1344e14;
    # TP2 x PP2, one stage of 63 layers and half the head, 2·2048·(63·3.18767e9 +
    # 0.5·2.10135e9)/2 = 4.1344e14: the same work per chip, so the same GEMM time at
    # P·φ (φ at N = F/2 is 1.067 against 1.049 at F/4), and TP2's all-reduces are over half the
    # layers at bus factor 1 against 1.5. Not pipelined, TP2 x PP2 took twice the GEMM time.
    p = _problem()
    s, r = layer_shape(p.model), serve_rates(p)
    flops = 2 * N_IN * (63 * s.matmul_params_per_token + 0.5 * s.lm_head_params) / 2
    assert flops == pytest.approx(4.1344e14, rel=1e-4)
    assert flops == pytest.approx(
        2 * N_IN * (126 * s.matmul_params_per_token + s.lm_head_params) / 4, rel=1e-12)
    t_gemm = flops / (r.gemm_flops * gemm_shape_factor(p.efficiency.stack.gemm_half_dim, 8192,
                                                        s, 2))
    assert t_gemm == pytest.approx(0.1418, rel=2e-3)  # 4.1344e14 / (2.733e15 · 1.067)
    tp4, _ = _batched_prefill(p, 4, 1)
    pp2, _ = _batched_prefill(p, 2, 2)
    assert t_gemm < pp2 < 1.2 * t_gemm  # + attention (1.6 ms), the all-reduces and the send
    assert 0.75 < pp2 / tp4 < 1.0  # was 2x its TP4 x PP1 twin before the stages overlapped
    _not_pipelined(monkeypatch, p)
    serial, _ = _batched_prefill(p, 2, 2)
    assert serial / tp4 > 1.6


def test_serial_stages_cost_twice_less_one_send(monkeypatch):
    # Not pipelined, the prompt passes both stages: twice one stage's GEMMs, attention and
    # all-reduces, but one send of the chunk's activations (2·8192·16384 B = 268 MB) per chunk
    # instead of one per stage: 2·t_pipelined − t_serial = t_p2p(268 MB)·I/C.
    p = _problem()
    pipelined, _ = _batched_prefill(p, 2, 2)
    _not_pipelined(monkeypatch, p)
    serial, _ = _batched_prefill(p, 2, 2)
    fab = serve_rates(p).fabric
    send = collective_time("p2p", 2 * 8192 * 16384, np.array([2.0]), np.array([2.0]), fab)[0]
    assert 0 < send < 2e-3
    assert 2 * pipelined - serial == pytest.approx(send * N_IN / 8192, rel=1e-6)


def test_ttft_still_passes_every_stage(monkeypatch):
    # One prompt alone runs all 126 layers on one stage's 2 chips after the other, whatever the
    # engine: 2·4.1344e14 = 8.2688e14 FLOP per chip, at least 2 x 0.1418 s (φ at M = 2048 is
    # below φ at the 8192-token chunk), twice the pipelined batched prompt's GEMM time.
    p = _problem()
    pipelined, ttft = _batched_prefill(p, 2, 2)
    assert ttft > 2 * 0.1418 > pipelined
    _not_pipelined(monkeypatch, p)
    _, ttft_serial = _batched_prefill(p, 2, 2)
    assert ttft_serial == ttft
