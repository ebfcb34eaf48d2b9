"""Serving performance of arrays of layouts: memory, prefill, decode, latency, throughput, $/Mtok.

The evaluator skeleton: rates and fabric once (step.serve_rates), then the quantities of
memory.py and step.py, each a small function with its formula and source, assembled here:
  heads (workload.heads): the serving stack's split over tp·r ranks (data/stacks.toml)
  memory per chip         W + KV·B' + workspace + reserve ≤ HBM           (memory.py)
                          (windowed layers hold min(ctx, W) if the stack's pool is windowed)
  running batch           B' = min(B, N_max, max concurrency) (paged, reserved) or B (static
                          slots); N_max the engine's cap on running sequences (engine_batch),
                          SGLang's sized from the layout's KV pool (request_pool_cap)
  decode stage, b = B'/pp  max(device, t_launch) + t_host/pp, device = max(t_weights, t_gemm)
                          + max(t_kv, t_attn) + t_tp + t_ep + t_pp: GEMMs and attention, each
                          its own roofline (DecodeStage); t_launch = L/pp·k·t_k the eager
                          launches without graphs (serve.host); KV read once per query head
                          past the stack's GQA kernel's context (step.fallback_kv_reads)
      t_tp: 2 all-reduces per layer, α (latency) + β (bytes) each (hardware.collectives);
      t_host = t_step + B'·t_seq, the engine's host work per step (step.host_step_time), plus
      (t_0 + B'·t_s)/n for an engine that schedules serially between steps (vLLM V0, n
      decode steps per scheduler call: serve.host.serial_host_time)
      weights read: dense/tp + E_act(b·x/tp)·P_e/x per MoE layer (step.experts_touched),
      x = max(tp, ep) chips one stage's experts are spread over ("DEP" when ep > tp);
      MoE kernels (serve.moe): FLOP += grouped-GEMM tile padding 2·P_e·(E·T·E[⌈m/T⌉] − n·k),
      m ~ Bin(n, k/E) tokens per expert, n = b·x/tp; bytes += the routing permutation's
      activations b·(2D + (4kD + k(2g+2)F_e·s/tp)/s)·2 B per MoE layer, s = min(tp, ep);
      on Neuron (NxD's static dispatch) the experts read are n·k (selective) or E, the rows
      n·k, E·n or whole blocks
  static shapes (serve.static: JetStream, Neuron exports): decode runs b_c·⌈b/b_c⌉ rows over
      a cache of C tokens per slot read whole; Neuron prefill encodes max(I, C) tokens, one
      prompt per call, or, bucketed, the smallest compiled context bucket >= I (NxD Inference
      default: powers of two from 128, stacks.toml context_bucket_min_tokens)
  TPOT (pure decode)      pp · t_stage
  prefill                 max(FLOP/(P·φ), t_read) + t_comm, alone (M = I) and chunked (M = C:
                          the engine's tokens per pass, engine_chunk_tokens); φ by half-rate d½,
                          or a systolic TensorE's instruction tiles (Neuron); Neuron MoE:
                          expert GEMMs at M = one block (moe.neuron_expert_gemm_rows)
                          t_comm of pp stages: + the stage-to-stage sends of the activations
                          (2·M·D bytes each, pp − 1 alone)
  continuous batching     cycle = O·TPOT + γ·B'·t_pf,C: tokens/s = B'·O/cycle, TPOT_eff = cycle/O,
                          γ = busiest DP rank's prefills / mean (step.dp_prefill_straggler);
                          t_pf,C of a pp-stage replica whose engine keeps pp micro-batches in
                          flight (stacks.toml pipelined_prefill: TensorRT-LLM, vLLM) is one
                          stage's share, ⌈L/pp⌉ layers, one weight read and one send per chunk
                          (step.prefill_stages), else all stages in turn;
                          TTFT = t_pf (aggregated) | pools: O/(t_pf,C + O·TPOT/B'), TTFT + KV move
  $/Mtok                  price_replica·t/n·10⁶ (output: TPOT per B'; input: t_pf,C per I)
Neglects queueing delay (TTFT under load), request length spread (and so the preemptions
it causes), speculative decoding and prefix caching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.errors import SpecError
from xpuplan.hardware.collectives import collective_time, ranks_per_domain
from xpuplan.hardware.efficiency import (
    moe_blockwise_dispatch,
    moe_tile_rows,
    prefill_chunk_tokens,
    tensor_engine_tiles,
)
from xpuplan.hardware.stacks import StackRules, stack_rules
from xpuplan.serve import host, moe, static
from xpuplan.serve.memory import (
    ACT_BYTES,
    batch_limit,
    dense_layer_params,
    engine_batch,
    kv_bytes_per_token,
    max_concurrency,
    padded_attention_params,
    request_pool_cap,
    resident_tokens,
    running_batch,
    weight_bytes_per_chip,
    workspace_bytes,
)
from xpuplan.serve.problem import ServeProblem
from xpuplan.serve.step import (
    DecodeStage,
    cycle_throughput,
    decode_step_time,
    disaggregated_throughput,
    dp_prefill_straggler,
    ep_comm_time,
    experts_touched,
    fallback_kv_reads,
    fixed_device_time,
    gemm_phi,
    gemm_shape_factor,
    host_step_time,
    kv_transfer_time,
    prefill_stages,
    prefill_time,
    serve_rates,
    tp_comm_time,
    usd_per_mtok,
)
from xpuplan.specs.layouts import ServeLayouts
from xpuplan.specs.precision import BYTES_PER_ELEMENT
from xpuplan.specs.reasons import Reason
from xpuplan.specs.samples import Samples, by_sample, pair_layouts
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import LayerShape, layer_shape


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
    """Arrays (n_cfg,), or (n_cfg, n_samples) when evaluated with `samples`
    (specs.samples); breakdowns are per decode step of one replica."""

    layouts: ServeLayouts
    reason: np.ndarray
    max_concurrency: np.ndarray
    admission: str  # the KV admission rule max_concurrency used (data/stacks.toml)
    running_batch: np.ndarray  # sequences decoding at once: the batch, capped by the engine/KV
    batch_limit: np.ndarray  # what set running_batch: requested | engine_max_batch | kv_capacity
    engine_max_batch: np.ndarray  # the engine's cap on running sequences (inf: none)
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
    samples: Samples | None = None  # the sample axis (axis 1) when evaluated with samples

    @property
    def fits(self) -> np.ndarray:
        return self.reason == ServeReason.OK


def serve_rules(p: ServeProblem) -> StackRules:
    """The rules of the problem's serving engine, else its chip vendor's default one
    (data/stacks.toml)."""
    return stack_rules(p.chip.vendor, "serve", p.engine)


def engine_max_batch(p: ServeProblem, pool_tokens: np.ndarray) -> np.ndarray:
    """The engine's cap on running sequences per layout (inf: none): the problem's own, else
    its engine's default on the chip, sized from each layout's KV pool of `pool_tokens` where
    the engine does so (StackRules.request_pool: memory.request_pool_cap, C the model's
    max_seq_len; a model without one gets the ceiling)."""
    rules = serve_rules(p)
    cap = p.max_running_batch or rules.max_batch_on(p.chip)
    pool, C = rules.request_pool, p.model.max_seq_len
    if p.max_running_batch or pool is None or C is None or cap is None:
        return np.full(np.shape(pool_tokens), np.inf if cap is None else float(cap))
    sized = request_pool_cap(pool_tokens, C, pool.requests_per_context, pool.requests_min,
                             cap, pool.tokens_per_request_min)
    return np.maximum(sized, 1.0)  # a pool without room for one request fails as KV_CAPACITY


def engine_chunk_tokens(p: ServeProblem) -> int:
    """Tokens one forward pass of the engine schedules (its prefill chunk): the engine's default
    on the chip, else efficiency.toml's."""
    return serve_rules(p).batched_tokens_on(p.chip) or prefill_chunk_tokens()


def serve_heads(p: ServeProblem, s: LayerShape, tp) -> HeadSplit:
    """The head split of every TP degree in `tp` under the serving stack's rule."""
    rules = serve_rules(p)
    return head_split(s, tp, rules.ranks_per_chip(p.chip), rules.heads)


SAMPLED = ("compute_scale", "memory_scale", "step_overhead_s", "layer_overhead_s",
           "seq_overhead_s")


def evaluate_serving(p: ServeProblem, lay: ServeLayouts, samples: Samples | None = None
                     ) -> ServeEval:
    """Every serving metric for every layout in `lay` (module doc), vectorised: arrays (L,),
    or (L, S) with `samples` of the calibration's SAMPLED parameters (specs.samples)."""
    if samples is None:
        return _evaluate(p, lay, {})
    samples.check_names(SAMPLED)
    flat = pair_layouts(lay, len(samples))
    values = {k: samples.value(k, getattr(p.calibration, k), len(lay)) for k in SAMPLED}
    return by_sample(_evaluate(p, flat, values), lay, samples)


def evaluate_serving_paired(p: ServeProblem, lay: ServeLayouts, samples: Samples) -> ServeEval:
    """Layout i at sample i, arrays (S,): the diagonal of `evaluate_serving`'s (S, S), for a
    search whose layout differs per sample (calibrate.infer_set.latency_bound_batch)."""
    samples.check_names(SAMPLED)
    if len(lay) != len(samples):
        raise SpecError("layouts", len(lay), f"paired with {len(samples)} samples: one "
                        "layout per sample")
    return _evaluate(p, lay, {k: samples.value(k, getattr(p.calibration, k), 1)
                              for k in SAMPLED})


def _evaluate(p: ServeProblem, lay: ServeLayouts, values: dict[str, float | np.ndarray]
              ) -> ServeEval:
    """`evaluate_serving` of flat configurations; `values` holds the sampled calibration
    parameters per configuration (the calibration's own where absent)."""
    s = layer_shape(p.model)
    heads = serve_heads(p, s, lay.tp)
    admission = serve_rules(p).kv_admission
    assert admission is not None  # StackRecord: every serving stack names its admission rule
    paged = admission != "full_sequence"  # paged blocks: the engine queues what does not fit
    tp, pp, ep, requested = (v.astype(float) for v in (lay.tp, lay.pp, lay.ep, lay.batch))
    n_in, n_out, L, D, f = p.input_len, p.output_len, s.n_layers, s.hidden, s.moe_fraction
    b_w, b_kv = BYTES_PER_ELEMENT[p.weights], BYTES_PER_ELEMENT[p.kv]
    cal = {k: values.get(k, getattr(p.calibration, k)) for k in SAMPLED}
    rates = serve_rates(p, cal["compute_scale"], cal["memory_scale"])
    fab, ones = rates.fabric, np.ones_like(tp)
    layers = np.ceil(L / pp)  # per stage
    x = np.maximum(tp, ep)  # chips one stage's experts are spread over
    chips_replica = tp * pp

    # Memory per chip and the running batch.                                   # (n_cfg,)
    weights = weight_bytes_per_chip(s, heads, b_w, tp, pp, x)
    kv_tok = kv_bytes_per_token(s, heads, b_kv, tp, pp)
    C_kv = p.kv_cache_tokens  # a static cache slot, tokens (None: paged)
    I_c = static.context_encoding_tokens(  # the compiled bucket a prompt pads up to, if any
        n_in, C_kv if p.pad_prompt_to_cache else None, p.context_buckets,
        serve_rules(p).context_bucket_min_tokens)
    windowed = serve_rules(p).windowed_kv_pool  # the pool sizes windowed layers by W
    held, whole = static.slot_tokens(
        s, resident_tokens(s, n_in, n_out, admission, windowed),
        s.context_tokens(n_in + n_out) if windowed else n_in + n_out, C_kv)
    kv_seq = kv_tok * held  # mean bytes a request (or a static slot) holds
    workspace = workspace_bytes(s, I_c, tp)
    free = p.chip.hbm_bytes - p.reserved_bytes - weights - workspace
    max_conc = max_concurrency(free, kv_tok, held, whole)
    cap = engine_max_batch(p, free / kv_tok)  # the pool holds free / kv_tok tokens
    engine = engine_batch(requested, cap)
    B = running_batch(engine, max_conc, paged)
    slots = static.decode_rows(B, p.compiled_batch)  # compiled slots (= B unless static)

    # Decode: one step of b = B/pp rows (the compiled batch if static) through L/pp layers.
    b = np.maximum(slots / pp, 1.0)
    ctx = static.decode_context_tokens(s, n_in, n_out, C_kv)  # KV tokens read per step
    dense = dense_layer_params(s, heads)
    neuron_moe = moe_blockwise_dispatch(p.chip.vendor)  # (θ, block) on NxD, else None
    n_moe = b * x / tp  # tokens one MoE layer routes (DEP: all replicas' tokens)
    E_act = (experts_touched(s.n_experts, s.top_k, n_moe) if neuron_moe is None
             else moe.neuron_expert_loads(n_moe, s.top_k, s.n_experts, neuron_moe[0]))
    head = np.where(pp == 1, 1.0, 1.0 / pp)  # the output head sits on the last stage only
    tiles = moe_tile_rows()

    def moe_pad(n, prefill: bool):  # expert-GEMM padding FLOPs per token (serve.moe)
        if neuron_moe is None:
            return moe.padding_flops_per_token(n, s.top_k, s.n_experts, s.expert_params, tiles)
        return moe.neuron_padding_flops_per_token(n, s.top_k, s.n_experts, s.expert_params,
                                                  *neuron_moe, prefill=prefill)
    bytes_weights = b_w * (layers * dense / tp + layers * f * E_act * s.expert_params / x
                           ) + ACT_BYTES * head * s.lm_head_params / tp
    # Past the stack's GQA decode kernel's context limit, a KV head is read per query head.
    reads = fallback_kv_reads(heads.q_heads / heads.kv_heads, n_in, n_out,
                              None if p.model.mla else serve_rules(p).decode_attention_max_context)
    bytes_kv = b * kv_tok * ctx * reads + ACT_BYTES * b * layers * f * (  # + MoE permutation
        moe.permutation_elems_per_token(D, s.expert_width, s.top_k, s.gated, tp, ep))
    pad_attn = padded_attention_params(s, heads)
    pad_moe = moe_pad(n_moe, prefill=False)  # grouped-GEMM tiles or Neuron dispatch
    gemm_flops = (2 * b * (layers * (s.matmul_params_per_token + pad_attn)
                           + head * s.lm_head_params) + b * layers * f * pad_moe) / tp
    attn_flops = b * layers * s.decode_attn_flops_per_ctx * ctx * heads.q_factor / tp
    tp_g = ranks_per_domain(ones, tp, fab.domain_chips)
    a2a = np.where(ep > tp, ep, 1.0)  # all-to-all ranks: none when the experts sit in TP
    ep_g = ranks_per_domain(ones, a2a, fab.domain_chips)
    pp_g = ranks_per_domain(tp, pp, fab.domain_chips)
    dispatch = np.where(ep > tp, ACT_BYTES * b * s.top_k * D / tp, 0.0)
    per_layer = serve_rules(p).overhead_per_layer  # the fitted overhead: per layer or step
    stage = DecodeStage(
        t_gemm=gemm_flops / rates.gemm_flops, t_attn=attn_flops / rates.attn_flops,
        t_weights=bytes_weights / rates.hbm_bw, t_kv=bytes_kv / rates.hbm_bw,
        t_tp=tp_comm_time(layers, ACT_BYTES * b * D, tp, tp_g, fab),
        t_ep=ep_comm_time(layers * f, dispatch, a2a, ep_g, fab),
        t_pp=collective_time("p2p", ACT_BYTES * b * D, pp, pp_g, fab),
        t_overhead=(host_step_time(0.0 if per_layer else cal["step_overhead_s"],
                                   cal["seq_overhead_s"], B) + _serial_host(p, B)) / pp * ones,
        t_launch=_eager_launch(p, layers), host_overlap=p.async_scheduling,
        t_fixed=fixed_device_time(cal["layer_overhead_s"], layers, per_layer))
    tpot_decode = decode_step_time(stage, pp)

    # Prefill of one request (I_c tokens: padded if static): alone, across the replica's stages
    # in turn; batched, per stage when the engine pipelines micro-batches (step.prefill_stages).
    half, C = p.efficiency.stack.gemm_half_dim, max(I_c, engine_chunk_tokens(p))
    te = tensor_engine_tiles(p.chip.vendor)  # a systolic TensorE's tiles, else d½ (step)
    ranks = tp * serve_rules(p).ranks_per_chip(p.chip)  # GEMM shards: Neuron logical cores
    pad_pf, pad_pf_batched = (moe_pad(n, prefill=True) for n in (I_c * ones, C * x / tp))

    def pf_comm(n, n_layers, sends):  # TP all-reduces, EP all-to-alls, PP sends of n tokens
        dispatch = np.where(ep > tp, ACT_BYTES * n * s.top_k * D / tp, 0.0)
        return (tp_comm_time(n_layers, ACT_BYTES * n * D, tp, tp_g, fab)
                + ep_comm_time(f * n_layers, dispatch, a2a, ep_g, fab)
                + sends * collective_time("p2p", ACT_BYTES * n * D, pp, pp_g, fab))

    def pf_flops_phi(n, pad, n_layers, head_share):  # GEMM FLOPs (+ MoE padding), shape factor
        flops = (2 * I_c * (n_layers * (s.matmul_params_per_token + pad_attn)
                            + head_share * s.lm_head_params) + I_c * n_layers * f * pad) / tp
        phi = gemm_shape_factor(half, n, s, ranks, te)
        if neuron_moe is None or not s.top_k:
            return flops, phi
        M = moe.neuron_expert_gemm_rows(n, s.top_k, *neuron_moe, s.n_experts)  # per block
        expert = I_c * n_layers * f * (2 * s.top_k * s.expert_params + pad) / tp
        return flops, moe.combined_shape_factor(
            phi, gemm_phi(half, te, M, s.expert_width / ranks, s.hidden), expert / flops)

    def pf_attn(n_layers):
        return I_c * n_layers * s.attention_flops_fwd_per_token(I_c, causal=True) * (
            heads.q_factor / tp)

    t_read = weights / rates.hbm_bw  # one stage reads its weights once
    flops_pf, phi_pf = pf_flops_phi(I_c * ones, pad_pf, L, 1.0)
    t_pf = prefill_time(flops_pf, pf_attn(L), t_read * pp, pf_comm(I_c, L, pp - 1), rates,
                        phi_pf)
    # Batched, a prompt shares each pass's weight reads and collectives with its chunk of C;
    # a static-shape or bucketed graph encodes one padded prompt per call (serve.static).
    one_per_call = p.pad_prompt_to_cache or static.bucketed(
        p.context_buckets, serve_rules(p).context_bucket_min_tokens)
    st = prefill_stages(pp, layers, L, serve_rules(p).pipelined_prefill)
    flops_c, phi_c = pf_flops_phi(C, pad_pf_batched, st.layers, st.head)
    t_pf_batched = t_pf if one_per_call else prefill_time(
        flops_c, pf_attn(st.layers), t_read * st.reads * n_in / C,
        pf_comm(C, st.layers, st.sends) * n_in / C, rates, phi_c)

    if p.disaggregated:
        tokens_replica = disaggregated_throughput(B, n_out, tpot_decode, t_pf_batched)
        tpot = tpot_decode
        ttft = t_pf + kv_transfer_time(n_in * L * s.kv_elems_per_token * b_kv, fab)
    else:
        straggler = dp_prefill_straggler(B, n_out, x / tp)  # DEP: the busiest rank's prefills
        tokens_replica, tpot = cycle_throughput(B, n_out, tpot_decode, t_pf_batched * straggler)
        ttft = t_pf
    price = p.usd_per_chip_s if p.usd_per_chip_s is not None else np.nan
    price_replica = price * chips_replica

    reason = _legality(p, lay, heads)
    reason = np.where((reason == 0) & ~np.isfinite(tpot_decode + t_pf), ServeReason.NO_FABRIC,
                      reason)
    reason = np.where((reason == 0) & (free <= 0), ServeReason.WEIGHTS, reason)
    reason = np.where((reason == 0) & ((max_conc < 1) | (~paged & (slots > max_conc))),
                      ServeReason.KV_CAPACITY,
                      reason).astype(np.int8)
    total = tokens_replica * np.floor(p.n_chips / chips_replica)  # all replicas
    return ServeEval(
        layouts=lay, reason=reason, max_concurrency=max_conc, admission=admission,
        running_batch=B * ones, batch_limit=batch_limit(requested, engine, B * ones),
        engine_max_batch=cap,
        memory={"mem/weights": weights, "mem/kv_cache": slots * kv_seq,
                "mem/workspace": workspace * ones, "mem/reserved": p.reserved_bytes * ones},
        decode=stage.parts(pp),  # one pure decode step of the replica; sums to tpot_decode_s
        ttft_s=ttft, tpot_s=tpot, tpot_decode_s=tpot_decode, e2e_latency_s=ttft + n_out * tpot,
        output_tokens_per_s=total, output_tokens_per_s_per_chip=total / p.n_chips,
        usd_per_mtok_output=usd_per_mtok(price_replica, tpot_decode, B),
        usd_per_mtok_input=usd_per_mtok(price_replica, t_pf_batched, n_in), prefill_s=t_pf)


def _eager_launch(p: ServeProblem, layers: np.ndarray) -> np.ndarray | float:
    """Host launch time of one eager decode step of a stage, s (serve.host); 0 with graphs or
    when the serving stack has no eager figures."""
    rules = serve_rules(p)
    if p.cuda_graphs or rules.eager_kernels_per_layer is None or rules.eager_launch_s is None:
        return 0.0
    return host.eager_launch_time(layers, rules.eager_kernels_per_layer, rules.eager_launch_s)


def _serial_host(p: ServeProblem, B: np.ndarray) -> np.ndarray | float:
    """Host work between device steps of an engine that schedules serially (vLLM V0), s, per
    step of the replica (serve.host); 0 for an engine without such figures."""
    rules = serve_rules(p)
    if rules.serial_host_step_s is None or rules.serial_host_seq_s is None:
        return 0.0
    return host.serial_host_time(rules.serial_host_step_s, rules.serial_host_seq_s, B,
                                 p.scheduler_steps or rules.scheduler_steps)


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
