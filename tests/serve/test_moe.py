"""MoE kernel costs (serve/moe.py): hand-worked toy routings, limits and properties; the
batched prefill's shared collectives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.hardware.efficiency import prefill_chunk_tokens
from xpuplan.serve import moe
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts

LARGE_N_TOLERANCE = 0.01  # the m ≫ T limit n·k + E·T/2 holds to within 1 %


def test_few_tokens_fill_one_tile_per_touched_expert():
    # E = 8 experts, k = 2, n = 3 tokens, T = 128: one expert gets m ~ Bin(3, 1/4) ≤ 3 < T
    # tokens, so it costs one tile if touched: P(m > 0) = 1 − (3/4)^3 = 37/64, and the
    # grouped GEMM computes 8 · 128 · 37/64 = 592 rows for 3 · 2 = 6 routed copies.
    rows = moe.expert_rows_computed(3, top_k=2, n_experts=8, tile_rows=128)
    assert float(rows) == pytest.approx(8 * 128 * 37 / 64)
    pad = moe.padding_flops_per_token(3, top_k=2, n_experts=8, expert_params=1e6,
                                      tiles=(128, 128))
    assert float(pad) == pytest.approx(2 * 1e6 * (592 - 6) / 3)


def test_every_token_to_every_expert_rounds_up_to_whole_tiles():
    # k = E: every expert gets all n = 200 tokens (no spread), ⌈200/128⌉ = 2 tiles each:
    # 4 experts · 2 · 128 = 1024 rows.
    rows = moe.expert_rows_computed(200, top_k=4, n_experts=4, tile_rows=128)
    assert float(rows) == pytest.approx(1024)


def test_many_tokens_pay_half_a_tile_per_expert():
    # E[⌈m/T⌉] → m̄/T + 1/2 once m spreads over about a tile or more: n = 40,960, k/E = 1/4, m̄ = 10,240 (80 tiles), σ = 87.6 (0.7 tile).
    n, k, E, T = 40_960, 2, 8, 128
    rows = float(moe.expert_rows_computed(n, top_k=k, n_experts=E, tile_rows=T))
    assert rows == pytest.approx(n * k + E * T / 2, rel=LARGE_N_TOLERANCE)


def test_a_dense_model_has_no_moe_cost():
    assert float(moe.expert_rows_computed(1000, top_k=0, n_experts=1, tile_rows=128)) == 0
    assert moe.permutation_elems_per_token(4096, 0, top_k=0, gated=True) == 0


def test_permutation_traffic_counts_each_kernel():
    # D = 2, F = 3, k = 2, gated (g = 2): expand 2 + 4, GEMM1 4 + 12, activation 12 + 6,
    # GEMM2 6 + 4, finalize 4 + 2 = 56 elements per token.
    assert moe.permutation_elems_per_token(2, 3, top_k=2, gated=True) == 56
    # Not gated (g = 1): GEMM1 writes and the activation reads k·F = 6 instead of 12: 44.
    assert moe.permutation_elems_per_token(2, 3, top_k=2, gated=False) == 44


def test_expert_parallel_ranks_share_the_token_copies():
    # TP2 with EP2 (each rank holds half the experts, whole width): a rank routes k/ep = 1
    # copy per token: expand 2 + 2, GEMM1 2 + 6, activation 6 + 3, GEMM2 3 + 2, finalize
    # 2 + 2 = 30 elements, not the 56 of one chip routing both copies.
    assert moe.permutation_elems_per_token(2, 3, top_k=2, gated=True, tp=2, ep=2) == 30
    # TP2 without EP: both copies on every rank at half width F/2 = 1.5: expand 2 + 4,
    # GEMM1 4 + 6, activation 6 + 3, GEMM2 3 + 4, finalize 4 + 2 = 38.
    assert moe.permutation_elems_per_token(2, 3, top_k=2, gated=True, tp=2, ep=1) == 38
    # Attention DP (tp 1) over EP 2: the ranks' tokens meet, each rank routes k copies of
    # its own tokens' share: the same 56 as one chip.
    assert moe.permutation_elems_per_token(2, 3, top_k=2, gated=True, tp=1, ep=2) == 56


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20_000), k=st.integers(1, 8), e_mult=st.integers(1, 32),
       tile=st.sampled_from([16, 64, 128]))
def test_rows_computed_cover_the_routed_copies_and_grow_with_tokens(n, k, e_mult, tile):
    E = k * e_mult
    rows = moe.expert_rows_computed(np.array([n, n + 64]), top_k=k, n_experts=E, tile_rows=tile)
    assert rows[0] >= n * k * (1 - 1e-9)  # padding only adds rows
    assert rows[0] <= n * k + E * tile * (1 + 1e-9)  # at most one extra tile per expert
    assert rows[1] >= rows[0] * (1 - 1e-9)


def test_the_tile_follows_the_mean_tokens_per_expert():
    # triton_kernels routing: block_m = max(16, min(next_pow2(n·k // E), 128)).
    tiles = moe.tile_rows_for(np.array([1, 256, 1000, 8000, 10**6]), 4, 128, 16, 128)
    # n·k/E = 0.03 -> 16 (floor), 8 -> 16, 31.25 -> 32 (⌊31⌋ -> 32), 250 -> 128 (cap), cap
    assert tiles.tolist() == [16, 16, 32, 128, 128]


def test_tile_padding_slows_a_compute_bound_moe_decode(monkeypatch):
    # gpt-oss-120b (128 experts, top-4) at batch 2048 on one H200 with bf16 activations:
    # 2048 · 4 / 128 = 64 tokens per expert, a 64-row tile, m ~ Bin(2048, 1/32) spills
    # into a second tile often enough that the experts compute ~1.47x the routed rows.
    # Only the expert GEMMs pay it, so the compute-bound step grows by less than that.
    p = api.serve_problem("gpt-oss-120b", chip="h200", n_chips=1, input_len=128,
                          output_len=128, weights="fp4", activations="bf16", kv="fp8")[0]
    lay = ServeLayouts.build(tp=1, batch=2048)
    tile = moe.tile_rows_for(2048, 4, 128, 16, 128)
    ratio = float(moe.expert_rows_computed(2048, 4, 128, tile)) / (2048 * 4)
    assert 1.3 < ratio < 1.6
    padded = evaluate_serving(p, lay)
    monkeypatch.setattr("xpuplan.serve.evaluate.moe_tile_rows", lambda: (1, 1))
    unpadded = evaluate_serving(p, lay)
    t_pad, t_raw = (ev.decode["time/decode/compute"][0] for ev in (padded, unpadded))
    assert t_raw > 0  # compute-bound either way
    assert 1.1 < t_pad / t_raw < ratio


def test_a_batched_prefill_shares_its_chunks_collective_latency():
    # TP8 Llama 3.1 70B, 128-token prompts, chunks of C = 8192 tokens: a prompt alone pays
    # every layer's all-reduce latency; batched, 8192/128 = 64 prompts share each pass, so
    # raising the fabric latency adds 64x less to a batched prefill than to a lone one.
    p = api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8, input_len=128,
                          output_len=128, usd_per_chip_hour=1.0)[0]
    lay = ServeLayouts.build(tp=8, batch=64)
    price_replica_s = 8 * 1.0 / 3600

    def prefills(latency_scale):
        q = replace(p, calibration=replace(p.calibration, latency_scale=latency_scale))
        ev = evaluate_serving(q, lay)
        batched = ev.usd_per_mtok_input[0] * 128 / 1e6 / price_replica_s
        return ev.prefill_s[0], batched

    (alone_1, batched_1), (alone_k, batched_k) = prefills(1.0), prefills(1000.0)
    chunk = prefill_chunk_tokens()
    assert (batched_k - batched_1) / (alone_k - alone_1) == pytest.approx(128 / chunk, rel=0.05)


def test_experts_inside_the_tp_group_run_no_all_to_all():
    # Qwen3-235B-A22B on 8 H200, TP8 with EP8: every rank sees every token after the
    # attention all-reduce and merges its experts' outputs in the next one, so there is no
    # all-to-all to pay, not even its latency; attention DP over EP8 (tp 1) pays one.
    p = api.serve_problem("qwen3-235b-a22b", chip="h200", n_chips=8, input_len=128,
                          output_len=128, weights="fp8", kv="fp8")[0]
    inside = evaluate_serving(p, ServeLayouts.build(tp=8, ep=8, batch=64))
    across = evaluate_serving(p, ServeLayouts.build(tp=1, ep=8, batch=64))
    assert inside.decode["time/decode/comm_ep"][0] == 0.0
    assert across.decode["time/decode/comm_ep"][0] > 0.0
