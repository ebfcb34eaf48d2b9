"""Per-token FLOPs against independent derivations (6N + attention, Megatron formula)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.workload.flops import (
    attention_context,
    attention_flops_fwd,
    flops_per_token_fwd,
    flops_per_token_train,
)
from xpuplan.workload.params import param_counts


def test_dense_train_flops_is_6n_plus_attention():
    # Kaplan et al. 2020 / PaLM app. B: 6·N_matmul + 12·L·S·N·H per token (unhalved).
    m = api.load_model("llama-3.1-70b")
    S = 8192
    p = param_counts(m)
    n_matmul = p.total - p.embedding - p.norms
    expected = 6 * n_matmul + 12 * m.n_layers * S * m.n_heads * m.head_dim
    assert flops_per_token_train(m, S) == pytest.approx(expected, rel=1e-9)


def test_megatron_gpt_formula():
    # Narayanan et al. 2021 eq. 3 without recompute (3/4 of 96·B·s·l·h²·(1+s/6h+V/16lh)):
    # 72·l·h²·(1 + s/(6h) + V/(12·l·h)) per token, for GPT with F = 4h (biases neglected).
    m = api.load_model("gpt3-175b")
    n_l, h, V, s = m.n_layers, m.hidden, m.vocab, 2048
    megatron = 72 * n_l * h * h * (1 + s / (6 * h) + V / (12 * n_l * h))
    assert flops_per_token_train(m, s) == pytest.approx(megatron, rel=0.005)


def test_causal_mask_halves_attention_asymptotically():
    m = api.load_model("llama-3.1-8b")
    full, causal = attention_flops_fwd(m, 8192), attention_flops_fwd(m, 8192, causal=True)
    assert causal / full == pytest.approx((8192 + 1) / (2 * 8192))


def test_sliding_window_limits_context():
    m = api.load_model("mistral-7b")  # sliding window 4096 in every layer
    assert attention_flops_fwd(m, 32768) == pytest.approx(attention_flops_fwd(m, 4096))


@given(S=st.integers(1, 100_000), W=st.integers(1, 100_000))
def test_attention_context_bounds(S, W):
    causal, full = attention_context(S, W, True), attention_context(S, W, False)
    assert 1 <= causal <= full <= min(S, W)


@given(S=st.integers(16, 65536))
def test_forward_flops_grow_with_sequence(S):
    m = api.load_model("llama-3.1-8b")
    assert flops_per_token_fwd(m, S + 1) > flops_per_token_fwd(m, S) > 2 * 7e9
