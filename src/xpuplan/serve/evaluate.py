"""Serving performance of arrays of layouts: memory, prefill, decode, latency, throughput, $/Mtok.

Per replica of tp·pp chips, I input and O output tokens per request, batch B, ctx = I + O/2;
experts are split over x = max(tp, ep) chips (ep > tp: expert parallel across ep/tp replicas,
"DEP", attention data-parallel):
  heads (workload.heads)     = the serving stack's split over tp·r ranks (data/stacks.toml):
      padded (NxD Inference) or tp | N with KV heads replicated past K (vLLM, TensorRT-LLM);
      q_f = N'/N scales attention-score FLOPs, kv_f = K'/K the KV bytes, and the attention
      weights grow by s_q·q_f + (1 − s_q)·kv_f
  KV per token per chip      = (L/pp)·c_kv·b_kv·kv_f / tp   (= 1/min(tp, K) unpadded; MLA latent
      replicated)
  admission (data/stacks.toml kv_admission): the tokens a request holds on average,
      paged_resident_tokens: R = I + O/2 (paged KV blocks are allocated as tokens arrive, so
          a steady continuous-batching mix of requests at uniformly spread ages holds
          I + O/2 each; one that outgrows the pool is preempted and recomputed: Kwon et al.,
          PagedAttention, SOSP 2023 sec. 4.2-4.5; vLLM docs 'Preemption'); one whole
          sequence I + O must still fit
      full_sequence: R = I + O (a static cache slot per sequence: NxD Inference, JetStream)
  max concurrency            = ⌊(HBM − reserve − weights − workspace) / (KV per token · R)⌋
      a paged engine runs B' = min(B, max concurrency) and queues the rest (a batch past
      capacity is a max_num_seqs the pool cannot fill, not an error); full_sequence refuses it
  decode stage (b = B/pp)    = max(FLOP/(P·η_c), bytes/(B_hbm·η_m)) + comm + overhead/pp
      bytes = dense weights/tp + E_act(b·x/tp)·P_e·b_w/x + KV read;  FLOP = 2·b·P_active/tp
      E_act(n) = E·(1 − (1 − k/E)^n) experts n tokens touch, uniform routing
      (no shape factor: skinny decode GEMMs are bounded by the roofline max itself)
      MoE (serve.moe): FLOP += grouped-GEMM tile padding, 2·P_e·(E·T·E[⌈m/T⌉] − n·k),
      m ~ Bin(n, k/E) tokens per expert, n = b·x/tp, T sized to n·k/E; KV-read bytes += the
      routing permutation's activations b·(2D + 4kD + k(2g+2)F_e/tp)·2 B per MoE layer
  TPOT (pure decode)         = pp · stage time
  prefill (one request)      = max((2·I·P_active + attn)/(tp·P·η_c·φ(I)), weights/B_hbm)
      φ = the training GEMM shape factor (hardware.roofline.shape_factor) at M = I tokens
  continuous batching: per cycle a replica decodes O steps and prefills B requests whose
      weight reads and TP/EP collectives share chunks of C tokens (engine max_num_tokens), so
      tokens/s = B·O / (O·TPOT + B·t_pf,batched),  effective TPOT = cycle / O,  TTFT = t_prefill
  disaggregated pools: a share t_pf / (t_pf + O·TPOT/B) of chips prefills, the rest decodes;
      tokens/s = R·O / (t_pf + O·TPOT/B) over R replicas, TPOT = pure decode, TTFT adds the
      KV transfer over the scale-out network.
  $/Mtok output = price_replica · TPOT / B · 1e6; input = price_replica · t_prefill / I · 1e6.
Neglects queueing delay (TTFT under load), request length spread (and so the preemptions
it causes), speculative decoding and prefix caching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.collectives import collective_time, ranks_per_domain
from xpuplan.hardware.efficiency import moe_tile_rows, prefill_chunk_tokens
from xpuplan.hardware.roofline import chip_fabric, shape_factor
from xpuplan.hardware.stacks import StackRules, stack_rules
from xpuplan.serve import moe
from xpuplan.serve.problem import ServeProblem
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.specs.precision import BYTES_PER_ELEMENT, Precision
from xpuplan.specs.reasons import Reason
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape, layer_shape

ACT_BYTES = 2.0  # bf16 activations


class ServeReason(Reason):
    """Why a serving layout is rejected: the first failed check, per configuration."""

    OK = 0, "ok"
    CHIPS = 1, "tp·pp must divide the chip count"
    HEADS = 2, ("the serving stack's head rule refuses this tp: tp ranks must divide the "
                "attention heads, and divide or be divided by the KV heads (data/stacks.toml)")
    LAYERS = 3, "pp must not exceed the layers"
    EXPERTS = 4, "ep must divide (or be a multiple of) tp, and divide the experts and chips/pp"
    WEIGHTS = 5, "weights do not fit"
    KV_CAPACITY = 6, "batch exceeds the KV-cache capacity"
    NO_FABRIC = 7, "multi-chip layout on a chip without interconnect bandwidth in the catalog"


@dataclass
class ServeEval:
    """Arrays (n_cfg,); breakdowns are per decode step of one replica."""

    layouts: ServeLayouts
    reason: np.ndarray
    max_concurrency: np.ndarray
    admission: str  # the KV admission rule max_concurrency used (data/stacks.toml)
    running_batch: np.ndarray  # sequences decoding at once: the batch, capped by paged admission
    memory: dict[str, np.ndarray]
    decode: dict[str, np.ndarray]
    ttft_s: np.ndarray
    tpot_s: np.ndarray  # effective (with interleaved prefills, or pure when disaggregated)
    tpot_decode_s: np.ndarray  # pure decode step
    e2e_latency_s: np.ndarray
    output_tokens_per_s: np.ndarray  # all replicas
    output_tokens_per_s_per_chip: np.ndarray
    usd_per_mtok_output: np.ndarray
    usd_per_mtok_input: np.ndarray
    prefill_s: np.ndarray

    @property
    def fits(self) -> np.ndarray:
        return self.reason == ServeReason.OK


def serve_rules(p: ServeProblem) -> StackRules:
    """The rules of the chip vendor's serving stack (data/stacks.toml)."""
    return stack_rules(p.chip.vendor, "serve")


def serve_heads(p: ServeProblem, s: LayerShape, tp) -> HeadSplit:
    """The head split of every TP degree in `tp` under the serving stack's rule."""
    rules = serve_rules(p)
    return head_split(s, tp, rules.ranks_per_chip(p.chip), rules.heads)


def evaluate_serving(p: ServeProblem, lay: ServeLayouts) -> ServeEval:
    """Every serving metric for every layout in `lay` (module doc), vectorised."""
    s = layer_shape(p.model)
    heads = serve_heads(p, s, lay.tp)
    admission = serve_rules(p).kv_admission
    tp, pp, ep, batch = (x.astype(float) for x in (lay.tp, lay.pp, lay.ep, lay.batch))
    n_in, n_out, L, D = p.input_len, p.output_len, s.n_layers, s.hidden
    wb, kvb = BYTES_PER_ELEMENT[p.weights], BYTES_PER_ELEMENT[p.kv]
    f, E = s.moe_fraction, s.n_experts
    layers = np.ceil(L / pp)
    chips_replica = tp * pp
    replicas = np.floor(p.n_chips / chips_replica)

    # Memory per chip.
    pad_attn = s.attn_params * (heads.attn_weight_factor - 1)  # padded heads' extra weights
    dense_layer = (s.attn_params + pad_attn + (1 - f) * s.dense_mlp_params
                   + f * s.moe_fixed_params)
    expert_layer = f * E * s.expert_params
    x = np.maximum(tp, ep)  # chips one stage's experts are spread over
    # Quantised checkpoints keep the embedding and output head in bf16 (ModelOpt
    # hf_quant_config "exclude_modules": ["lm_head"]; embeddings are never quantised).
    edge_bytes = ACT_BYTES * (s.embedding_params + s.lm_head_weights)
    weights = (wb * (L * dense_layer / tp + L * expert_layer / x) + edge_bytes / tp) / pp
    kv_per_token = layers * s.kv_elems_per_token * kvb * heads.kv_factor / tp
    resident = s.context_tokens(n_in + n_out / 2 if admission == "paged_resident_tokens"
                                else n_in + n_out)
    kv_per_seq = kv_per_token * resident  # mean bytes a request holds
    workspace = ACT_BYTES * n_in * (4 * D + 3 * max(s.ffn_width, s.expert_width * s.top_k)) / tp
    free = p.chip.hbm_bytes - p.reserved_bytes - weights - workspace
    whole = kv_per_token * s.context_tokens(n_in + n_out)  # one request at its full length
    max_conc = np.where(free >= whole, np.floor(np.maximum(free, 0.0) / kv_per_seq), 0.0)
    # A paged engine admits what fits and queues (or preempts) the rest: a larger requested
    # batch (max_num_seqs) runs at the capacity. A static-slot engine cannot compile it.
    paged = admission == "paged_resident_tokens"
    requested = batch
    if paged:
        batch = np.minimum(batch, np.maximum(max_conc, 1.0))

    # Rates.
    eff, cal = p.efficiency, p.calibration
    gemm_key = {Precision.fp8: "fp8", Precision.fp4: "fp4"}.get(p.compute, "bf16")
    flops_rate = p.chip.dense_flops(p.compute) * eff.gemm[gemm_key] * cal.compute_scale
    # Attention runs at the KV cache's precision (FP8 KV -> FP8 FMHA, as TensorRT-LLM and
    # vLLM do), never at FP4: FP4 is a GEMM weight format.
    attn_precision = Precision.fp8 if p.kv == Precision.fp8 else Precision.bf16
    attn_rate = (p.chip.dense_flops(attn_precision) * eff.gemm[attn_precision.value]
                 * cal.compute_scale)
    bw = p.chip.hbm_bw * eff.hbm * cal.memory_scale
    fab = chip_fabric(p.chip, p.efficiency, p.calibration.latency_scale)
    ones = np.ones_like(tp)

    # Decode: one step of b = B/pp sequences through one stage of L/pp layers.
    b = np.maximum(batch / pp, 1.0)
    ctx = s.context_tokens(n_in + n_out / 2)
    group_tokens = b * x / tp  # tokens routed to one expert group per step (DEP: all replicas)
    touched = E * (1 - (1 - s.top_k / E) ** group_tokens) if s.top_k else 0.0
    head = np.where(pp == 1, 1.0, 1.0 / pp)  # the output head sits on the last stage only
    bytes_weights = wb * (layers * dense_layer / tp + layers * f * touched * s.expert_params / x
                          ) + ACT_BYTES * head * s.lm_head_params / tp
    bytes_kv = b * kv_per_token * ctx + ACT_BYTES * b * layers * f * (  # + MoE permutation
        moe.permutation_elems_per_token(D, s.expert_width / tp, s.top_k, s.gated))
    tiles = moe_tile_rows()
    pad = moe.padding_flops_per_token(group_tokens, s.top_k, E, s.expert_params, tiles)
    gemm_flops = (2 * b * (layers * (s.matmul_params_per_token + pad_attn)
                           + head * s.lm_head_params) + b * layers * f * pad) / tp
    attn_flops = b * layers * s.decode_attn_flops_per_ctx * ctx * heads.q_factor / tp
    # Skinny decode GEMMs: the roofline max() below is their shape law (no φ).
    t_math = gemm_flops / flops_rate + attn_flops / attn_rate
    t_mem = (bytes_weights + bytes_kv) / bw
    tp_g = ranks_per_domain(ones, tp, fab.domain_chips)
    t_tp = layers * 2 * collective_time("all_reduce", ACT_BYTES * b * D, tp, tp_g, fab)
    # Experts inside the TP group (ep ≤ tp) see every token already (the attention output
    # is replicated) and their outputs merge in the TP all-reduce: no all-to-all. Across
    # replicas (ep > tp) each chip dispatches its share of the tokens' k copies and combines
    # them back: 2 all-to-alls over the ep ranks.
    ep_g = ranks_per_domain(ones, ep, fab.domain_chips)
    dispatch = np.where(ep > tp, ACT_BYTES * b * s.top_k * D / tp, 0.0)
    t_ep = layers * f * 2 * collective_time("all_to_all", dispatch, ep, ep_g, fab)
    pp_g = ranks_per_domain(tp, pp, fab.domain_chips)
    t_pp = collective_time("p2p", ACT_BYTES * b * D, pp, pp_g, fab)
    stage = np.maximum(t_mem, t_math) + t_tp + t_ep + t_pp + cal.step_overhead_s / pp
    tpot_decode = pp * stage

    # Prefill of one request across the whole replica (stages in sequence).
    pf_gemm = 2 * n_in * (L * (s.matmul_params_per_token + pad_attn) + s.lm_head_params) / tp
    pf_attn = n_in * L * s.attention_flops_fwd_per_token(n_in, causal=True) * heads.q_factor / tp
    half, chunk = eff.stack.gemm_half_dim, max(n_in, prefill_chunk_tokens())
    pf_pad, pf_pad_batched = (n_in * L * f * moe.padding_flops_per_token(  # MoE tile padding
        n, s.top_k, E, s.expert_params, tiles) / tp for n in (n_in * ones, chunk * x / tp))
    t_pf_read = weights * pp / bw  # all stages read their weights once

    def pf_comm(n):  # one prefill pass of n tokens: its TP all-reduces and EP all-to-alls
        dispatch = np.where(ep > tp, ACT_BYTES * n * s.top_k * D / tp, 0.0)
        return L * 2 * collective_time("all_reduce", ACT_BYTES * n * D, tp, tp_g, fab) + (
            f * L * 2 * collective_time("all_to_all", dispatch, ep, ep_g, fab))
    # Batched, a prompt shares each pass's collectives (and their latency) with its chunk.
    t_pf_comm, t_pf_comm_batched = pf_comm(n_in), pf_comm(chunk) * n_in / chunk
    # Alone, a prompt's GEMMs have M = I rows; batched with others they run in chunks of C.
    t_pf_attn = pf_attn / attn_rate
    t_pf = np.maximum((pf_gemm + pf_pad) / (flops_rate * shape_factor(
        half, n_in, s.ffn_width / tp, D)) + t_pf_attn, t_pf_read) + t_pf_comm
    t_pf_batched = np.maximum((pf_gemm + pf_pad_batched) / (flops_rate * shape_factor(
        half, chunk, s.ffn_width / tp, D)) + t_pf_attn, t_pf_read * n_in / chunk) + (
        t_pf_comm_batched)

    if p.disaggregated:
        per_request = t_pf_batched + n_out * tpot_decode / batch
        tokens_replica = n_out / per_request
        tpot = tpot_decode
        kv_bytes = n_in * L * s.kv_elems_per_token * kvb
        ttft = t_pf + kv_bytes / (fab.scaleout_bw * fab.scaleout_eff)
    else:
        cycle = n_out * tpot_decode + batch * t_pf_batched
        tokens_replica = batch * n_out / cycle
        tpot = cycle / n_out
        ttft = t_pf
    price = p.usd_per_chip_s if p.usd_per_chip_s is not None else np.nan
    price_replica = price * chips_replica

    reason = _legality(p, lay, heads)
    reason = np.where((reason == 0) & ~np.isfinite(tpot_decode + t_pf), ServeReason.NO_FABRIC,
                      reason)
    reason = np.where((reason == 0) & (free <= 0), ServeReason.WEIGHTS, reason)
    reason = np.where((reason == 0) & ((max_conc < 1) | (~paged & (requested > max_conc))),
                      ServeReason.KV_CAPACITY,
                      reason).astype(np.int8)
    total = tokens_replica * replicas
    memory_bound = t_mem >= t_math
    full = np.ones_like(tp)
    return ServeEval(
        layouts=lay, reason=reason, max_concurrency=max_conc, admission=admission,
        running_batch=batch * np.ones_like(tp),
        memory={"mem/weights": weights, "mem/kv_cache": batch * kv_per_seq,
                "mem/workspace": workspace * full, "mem/reserved": p.reserved_bytes * full},
        decode={  # one pure decode step of the replica, s; parts sum to tpot_decode_s
            "time/decode/weights_read": np.where(memory_bound, pp * bytes_weights / bw, 0.0),
            "time/decode/kv_read": np.where(memory_bound, pp * bytes_kv / bw, 0.0),
            "time/decode/compute": np.where(memory_bound, 0.0, pp * t_math),
            "time/decode/comm_tp": pp * t_tp, "time/decode/comm_ep": pp * t_ep,
            "time/decode/comm_pp": pp * t_pp, "time/decode/overhead": cal.step_overhead_s * full},
        ttft_s=ttft, tpot_s=tpot, tpot_decode_s=tpot_decode, e2e_latency_s=ttft + n_out * tpot,
        output_tokens_per_s=total, output_tokens_per_s_per_chip=total / p.n_chips,
        usd_per_mtok_output=price_replica * tpot_decode / batch * 1e6,
        usd_per_mtok_input=price_replica * t_pf_batched / n_in * 1e6, prefill_s=t_pf)


def _legality(p: ServeProblem, lay: ServeLayouts, heads: HeadSplit) -> np.ndarray:
    m = p.model
    experts = m.moe.n_routed_experts if m.moe else 1
    checks = [
        (ServeReason.CHIPS, p.n_chips % (lay.tp * lay.pp) == 0),
        (ServeReason.HEADS, heads.legal),
        (ServeReason.LAYERS, lay.pp <= m.n_layers),
        (ServeReason.EXPERTS, ((lay.tp % lay.ep == 0) | (lay.ep % lay.tp == 0))
         & (experts % lay.ep == 0) & ((p.n_chips // lay.pp) % lay.ep == 0)),
    ]
    reason = np.zeros(len(lay), dtype=np.int8)
    for code, ok in reversed(checks):
        reason = np.where(ok, reason, code).astype(np.int8)
    return reason
