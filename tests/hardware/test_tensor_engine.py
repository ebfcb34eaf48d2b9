"""The Neuron TensorE instruction-tile shape law (hardware/roofline.py tile_shape_factor) and the
Neuron collective fixed cost: hand-worked factors at the validated shapes, properties, and their
use by the serving prefill."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.catalog.measurements import collective_measurements, tensor_engines
from xpuplan.hardware.efficiency import tensor_engine_tiles
from xpuplan.hardware.roofline import shape_factor, tile_shape_factor
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.step import gemm_phi, gemm_shape_factor
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.workload.layer import layer_shape


def _problem(chip: str, n_chips: int, input_len: int):
    return api.serve_problem("llama-3.1-70b", chip=chip, n_chips=n_chips, input_len=input_len,
                             output_len=128)[0]


def _tiles():
    te = tensor_engines()["aws"]  # read from the record, never a copy of it
    return te.contraction_rows, te.stationary_columns, te.moving_free_max, te.mm_init_latency_cycles


def test_record_is_the_nki_guides_array_and_cost_model():
    assert _tiles() == (128, 128, 512, 64)
    assert tensor_engine_tiles("aws") == _tiles()
    assert tensor_engine_tiles("nvidia") is None  # GPUs keep the calibrated d½


def test_hand_worked_factors_at_validated_shapes():
    tiles = _tiles()
    # Llama-3-70B on trn1 TP32: K = D = 8192 = 64·128, N = F/32 = 896 = 7·128 -> full tiles;
    # M = 128 tokens: one 128-column MultiplyMoving, issued every max(128, 64) cycles -> 1.
    assert float(tile_shape_factor(tiles, 128, 896, 8192)) == pytest.approx(1.0)
    # trn2 TP64: N = 28672/64 = 448 = 3.5 tiles of 128 -> 448 / 512 = 0.875.
    assert float(tile_shape_factor(tiles, 2048, 448, 8192)) == pytest.approx(0.875)
    # M = 520: one 512-column instruction + an 8-column one costing 64 cycles -> 520/576.
    assert float(tile_shape_factor(tiles, 520, 896, 8192)) == pytest.approx(520 / 576)
    # M = 32 tokens: 32 columns issued every 64 cycles -> 0.5; K = 4000 -> 4000 / 4096.
    assert float(tile_shape_factor(tiles, 32, 128, 4000)) == pytest.approx(0.5 * 4000 / 4096)


@given(st.integers(1, 20000), st.integers(1, 30000), st.integers(1, 30000))
def test_tile_factor_is_a_fraction_and_one_at_full_tiles(m, n, k):
    tiles = _tiles()
    phi = float(tile_shape_factor(tiles, m, n, k))
    assert 0 < phi <= 1 + 1e-12
    assert float(tile_shape_factor(tiles, 512 * m, 128 * n, 128 * k)) == pytest.approx(1.0)


def test_gemm_phi_picks_the_tile_law_only_with_tiles():
    tiles = _tiles()
    assert float(gemm_phi(512.0, tiles, 128, 896, 8192)) == pytest.approx(1.0)
    assert float(gemm_phi(512.0, None, 128, 896, 8192)) == pytest.approx(
        float(shape_factor(512.0, 128, 896, 8192)))
    s = layer_shape(_problem("trn1", 16, 128).model)
    phi = gemm_shape_factor(512.0, 2048, s, np.array([32.0, 64.0]), tiles)
    assert phi.shape == (2,) and phi.tolist() == pytest.approx([1.0, 0.875])


def test_neuron_collective_fixed_cost_comes_from_its_record():
    rec = next(r for r in collective_measurements() if r.chip == "trn1" and r.tier == "scaleup")
    for chip in ("trn1", "trn2", "inf2"):  # trn2, inf2: the vendor's median of one record
        eff = _problem(chip, 16 if chip != "inf2" else 12, 128).efficiency
        assert eff.scaleup_latency_s == pytest.approx(rec.latency_us * 1e-6)


def test_neuron_prefill_gemm_time_scales_with_the_prompt():
    # 70B TP32 on 16 trn1: under the tile law 128- and 2048-token prompts run their GEMMs at
    # the same rate, so the GEMM time grows 16x; the d½ = 512 law would charge the short
    # prompt φ(128)/φ(2048) = 0.21/0.63 of the rate and grow only 16·0.21/0.63 ≈ 5.4x. The
    # whole prefill grows less than 16x (weights read and collective latencies are fixed).
    short, long_ = _problem("trn1", 16, 128), _problem("trn1", 16, 2048)
    lay = ServeLayouts.build(16, 1, 1, 1)
    t128 = float(evaluate_serving(short, lay).prefill_s[0])
    t2048 = float(evaluate_serving(long_, lay).prefill_s[0])
    assert 8 < t2048 / t128 < 16
    nvidia = _problem("h100-sxm", 8, 128), _problem("h100-sxm", 8, 2048)
    lay8 = ServeLayouts.build(8, 1, 1, 1)
    ratio = (float(evaluate_serving(nvidia[1], lay8).prefill_s[0])
             / float(evaluate_serving(nvidia[0], lay8).prefill_s[0]))
    assert ratio < t2048 / t128  # a GPU keeps the half-rate law: short prompts run slower
