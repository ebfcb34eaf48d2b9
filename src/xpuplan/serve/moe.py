"""Costs of a routed-expert (MoE) layer that the dense roofline terms leave out, per layer.

Two mechanisms of the grouped-GEMM MoE kernels serving engines run (TensorRT-LLM's CUTLASS
MoE: expandInputRows -> grouped GEMM1 -> doActivation -> grouped GEMM2 -> finalizeMoeRouting,
cpp/tensorrt_llm/kernels/cutlass_kernels/moe_gemm/moe_kernels.cu; vLLM's fused_moe pads the
same way with moe_align_block_size):
  tile padding   a grouped GEMM computes whole row tiles of T rows per expert, so an expert
                 that receives m tokens costs ⌈m/T⌉·T rows; with n tokens routed k of E
                 uniformly, m ~ Binomial(n, k/E) and the rows computed are
                 E·T·E[⌈m/T⌉] = E·T·Σ_{j≥0} P(m > j·T)   (≥ n·k, → n·k + E·T/2 when m ≫ T);
                 the kernel sizes the tile to the mean share, T = clip(2^⌈log2 ⌊n·k/E⌋⌉,
                 T_min, T_max) (triton_kernels routing: block_m = max(16, min(
                 next_power_of_2(tokens_per_expt), 128)); data/efficiency.toml moe_kernel)
  permutation    the token copies are gathered into expert order and scattered back through
                 HBM: per token 2·D + 4·k·D + k·(2g + 2)·F_e activation elements (g = 2 for a
                 gated expert, 1 otherwise), counted kernel by kernel below
Uniform routing as in the E_act term (serve.evaluate); neglects routing imbalance (which
only adds rows) and fused variants that keep the activation on chip.
"""

from __future__ import annotations

import math

import numpy as np

_erfc = np.frompyfunc(math.erfc, 1, 1)


def tile_rows_for(tokens, top_k: int, n_experts: int, tile_min: int, tile_max: int
                  ) -> np.ndarray:
    """Rows of the grouped-GEMM tile the MoE kernel picks for `tokens` routed top-k of E, rows.

    clip(2^⌈log2 max(1, ⌊n·k/E⌋)⌉, T_min, T_max): the next power of two of the mean tokens
    per expert (triton_kernels routing.py block_m; data/efficiency.toml moe_kernel).
    """
    per_expert = np.maximum(1.0, np.floor(np.asarray(tokens, dtype=float) * top_k / n_experts))
    return np.clip(2.0 ** np.ceil(np.log2(per_expert)), tile_min, tile_max)


def expert_rows_computed(tokens, top_k: int, n_experts: int, tile_rows) -> np.ndarray:
    """Rows the grouped expert GEMMs compute for `tokens` routed top-k of E, rows.

    E·T·Σ_{j≥0} P(m > j·T), m ~ Binomial(n, k/E); P(m > 0) = 1 − (1 − k/E)^n exactly, the
    tail terms j ≥ 1 by the normal approximation with continuity correction. Equals n·k when
    every expert's share is a whole number of tiles; 0 for no tokens or a dense model (k = 0).
    """
    n = np.asarray(tokens, dtype=float)
    if top_k == 0:
        return np.zeros_like(n)
    E, p = float(n_experts), top_k / n_experts
    T = np.broadcast_to(np.asarray(tile_rows, dtype=float), n.shape)
    mean, sd = n * p, np.sqrt(n * p * (1 - p))  # tokens one expert receives
    occupied = 1.0 - (1.0 - p) ** n  # P(m > 0): the expert is touched at all
    j_max = int(np.ceil(np.max((mean + 8 * sd) / T, initial=0.0))) + 1
    j = np.arange(1, j_max + 1, dtype=float)[:, None]  # (n_j, 1)
    z = (j * T.reshape(1, -1) + 0.5 - mean.reshape(1, -1)) / (np.sqrt(2) * np.maximum(
        sd.reshape(1, -1), 1e-12))  # (n_j, n_cfg)
    tail = (0.5 * _erfc(z).astype(float)).sum(axis=0).reshape(n.shape)  # Σ_{j≥1} P(m > jT)
    return E * T * (occupied + tail)


def padding_flops_per_token(tokens, top_k: int, n_experts: int, expert_params: float,
                            tiles: tuple[int, int]) -> np.ndarray:
    """Expert-GEMM FLOPs the tile padding adds per token of one MoE layer, FLOP.

    2·P_e·(E·T·E[⌈m/T⌉] − n·k) / n  (expert_rows_computed, T = tile_rows_for(n) within
    tiles = (T_min, T_max)), with P_e the weights of one expert; 0 where n = 0. Divide by
    tp for one chip's share, as the routed FLOPs 2·k·P_e.
    """
    n = np.asarray(tokens, dtype=float)
    T = tile_rows_for(n, top_k, n_experts, *tiles) if top_k else 1.0
    extra = np.maximum(expert_rows_computed(n, top_k, n_experts, T) - n * top_k, 0.0)
    return 2.0 * expert_params * extra / np.maximum(n, 1.0)


def permutation_elems_per_token(hidden: int, expert_width: float | np.ndarray, top_k: int,
                                gated: bool) -> float | np.ndarray:
    """Activation elements one token moves through HBM in one MoE layer's routing, elements.

    2·D + 4·k·D + k·(2g + 2)·F_e: expand (read D, write k·D), GEMM1 (read k·D, write k·g·F_e),
    activation (read k·g·F_e, write k·F_e), GEMM2 (read k·F_e, write k·D), finalize (read
    k·D, write D); TensorRT-LLM moe_kernels.cu runs these as separate kernels. Weight bytes
    are counted elsewhere. 0 for a dense model (k = 0).
    """
    if top_k == 0:
        return 0.0
    D, F, k, g = hidden, expert_width, top_k, 2 if gated else 1
    return 2 * D + 4 * k * D + k * (2 * g + 2) * F
