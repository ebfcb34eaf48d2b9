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
                 gated expert, 1 otherwise), counted kernel by kernel below, the k copies
                 shared by the min(tp, ep) chips that hold different experts
Uniform routing as in the E_act term (serve.evaluate); neglects routing imbalance (which
only adds rows) and fused variants that keep the activation on chip.

Static-shape stacks (NeuronX Distributed's ExpertMLPs, data/efficiency.toml
moe_blockwise_kernel) dispatch by the tokens n of the compiled graph instead, with no tile
autotuning (neuron_expert_loads, neuron_expert_rows below):
  selective loading   n·k/E < θ: each token gathers its own k experts (no sharing)
  all experts         every expert runs every token (decode at n·k/E ≥ θ; prefill n·k < block)
  blockwise           prefill: ⌈(n·k − (E − 1))/b⌉ + E − 1 static blocks of b token rows,
                      one block's GEMMs at a time (M = b rows: neuron_expert_gemm_rows)
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


def permutation_elems_per_token(hidden: int, expert_width: float, top_k: int, gated: bool,
                                tp=1, ep=1) -> float | np.ndarray:
    """Activation elements one chip moves through HBM per token of its replica in one MoE
    layer's routing, elements.

    2·D + (4·k·D + k·(2g + 2)·F_e/t_m)/s: expand (read D, write k·D), GEMM1 (read k·D, write
    k·g·F_e), activation (read k·g·F_e, write k·F_e), GEMM2 (read k·F_e, write k·D), finalize
    (read k·D, write D); TensorRT-LLM moe_kernels.cu runs these as separate kernels. The k
    copies spread over s = min(tp, ep) chips: with ep ≤ tp every TP rank sees all tokens and
    holds 1/ep of the experts, each split t_m = tp/s ways (TensorRT-LLM Mapping moe_tp_size =
    tp/moe_ep_size); with ep > tp (attention DP) the ep/tp replicas' tokens meet, so a chip
    routes k/tp copies per token of its replica. g = 2 for a gated expert, 1 otherwise.
    Weight bytes are counted elsewhere. 0 for a dense model (k = 0).
    """
    if top_k == 0:
        return 0.0
    D, F, k, g = hidden, expert_width, top_k, 2 if gated else 1
    s = np.minimum(tp, ep)
    return 2 * D + (4 * k * D + k * (2 * g + 2) * F / (tp / s)) / s


def neuron_expert_loads(tokens, top_k: int, n_experts: int, threshold: float) -> np.ndarray:
    """Expert weight sets one Neuron token-generation step reads per MoE layer, experts.

    n·k if n·k/E < θ (forward_selective_loading: each of the n tokens gathers its k experts,
    shared experts read again), else E (forward_all_experts)  (neuronx-distributed
    ExpertMLPsV2.forward; data/efficiency.toml moe_blockwise_kernel). 0 for a dense model.
    """
    n = np.asarray(tokens, dtype=float)
    if top_k == 0:
        return np.zeros_like(n)
    return np.where(n * top_k / n_experts < threshold, n * top_k, float(n_experts))


def neuron_expert_rows(tokens, top_k: int, n_experts: int, threshold: float, block: int,
                       prefill: bool) -> np.ndarray:
    """Token rows the Neuron expert MLPs compute per MoE layer for n tokens, rows.

    n·k if n·k/E < θ (selective loading); decode else E·n (all experts); prefill E·n if
    n·k < b, else b·min(⌈(n·k − (E − 1))/b⌉ + E − 1, n·k), the static block count of
    forward_blockwise (every expert may own a part-filled block), b the block size
    (neuronx-distributed expert_mlps_v2.py; data/efficiency.toml moe_blockwise_kernel).
    0 for a dense model.
    """
    n = np.asarray(tokens, dtype=float)
    if top_k == 0:
        return np.zeros_like(n)
    E, routed = float(n_experts), n * top_k
    blocks = np.minimum(np.ceil((routed - (E - 1)) / block) + E - 1, routed)
    dense = np.where(prefill & (routed >= block), block * blocks, E * n)
    return np.where(routed / E < threshold, routed, dense)


def neuron_padding_flops_per_token(tokens, top_k: int, n_experts: int, expert_params: float,
                                   threshold: float, block: int, prefill: bool) -> np.ndarray:
    """Expert-GEMM FLOPs the Neuron dispatch adds per token of one MoE layer over n·k rows,
    FLOP.

    2·P_e·(rows − n·k)/n, rows = neuron_expert_rows; 0 where n = 0. Divide by tp for one
    chip's share, as padding_flops_per_token.
    """
    n = np.asarray(tokens, dtype=float)
    rows = neuron_expert_rows(n, top_k, n_experts, threshold, block, prefill)
    return 2.0 * expert_params * np.maximum(rows - n * top_k, 0.0) / np.maximum(n, 1.0)


def neuron_expert_gemm_rows(tokens, top_k: int, threshold: float, block: int, n_experts: int
                            ) -> np.ndarray:
    """Rows M of one expert GEMM in a Neuron prefill of n tokens, rows.

    b when blockwise (n·k ≥ b and n·k/E ≥ θ: the kernel loops over its blocks one at a time,
    NKI blockwise MM kernels "loop over all blocks", NxD torch_blockwise_matmul_inference a
    Python loop), else n (all experts or selective loading run the n tokens at once).
    """
    n = np.asarray(tokens, dtype=float)
    blockwise = (n * top_k >= block) & (n * top_k / n_experts >= threshold)
    return np.where(blockwise, float(block), n)


def combined_shape_factor(phi_dense, phi_expert, expert_share) -> np.ndarray:
    """Shape factor of a pass whose GEMMs run at two shapes, dimensionless.

    φ = 1 / ((1 − s)/φ_dense + s/φ_expert), s the expert GEMMs' share of the FLOPs: the time
    of each part at its own rate, as one rate over all the FLOPs.
    """
    s = np.asarray(expert_share, dtype=float)
    return 1.0 / ((1.0 - s) / np.asarray(phi_dense) + s / np.asarray(phi_expert))
