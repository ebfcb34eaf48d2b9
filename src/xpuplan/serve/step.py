"""Serving times: one decode step by part, one prefill, the continuous-batching cycle, $/Mtok.

Letters (docs/model.md): L layers, D model width, E experts, k routed per token, I input and
O output tokens per request, B running batch, b = B/pp sequences per pipeline stage, ctx = I +
O/2 the mean context; P the achieved GEMM FLOP/s (peak·η_mamf·c), B_hbm the achieved read
rate (STREAM·m). Arrays are (n_cfg,): layouts, or layout-sample pairs (specs.samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.collectives import Fabric, collective_time
from xpuplan.hardware.roofline import chip_fabric, shape_factor, tile_shape_factor
from xpuplan.serve.host import launch_wait
from xpuplan.serve.problem import ServeProblem
from xpuplan.specs.precision import Precision
from xpuplan.workload.layer import LayerShape


@dataclass(frozen=True)
class ServeRates:
    """The chip's achieved serving rates, built once per problem."""

    gemm_flops: float | np.ndarray  # P = peak(compute precision)·η_mamf·c, FLOP/s
    attn_flops: float | np.ndarray  # attention at the KV precision: peak·η_mamf·c, FLOP/s
    hbm_bw: float | np.ndarray  # B_hbm = STREAM·m, byte/s
    fabric: Fabric  # collective tiers, α scaled by the serving latency scale


def serve_rates(p: ServeProblem, compute_scale: float | np.ndarray | None = None,
                memory_scale: float | np.ndarray | None = None) -> ServeRates:
    """Achieved rates of the problem's chip after efficiency and serving calibration; a scale
    given (per flat configuration, from specs.samples) replaces the calibration's.

    Attention runs at the KV cache's precision (FP8 KV -> FP8 FMHA, as TensorRT-LLM and vLLM
    do), never at FP4: FP4 is a GEMM weight format.
    """
    eff, cal = p.efficiency, p.calibration
    assert p.chip.hbm_bw is not None, "problems refuse a chip without HBM bandwidth"
    c = cal.compute_scale if compute_scale is None else compute_scale
    m = cal.memory_scale if memory_scale is None else memory_scale
    gemm_key = {Precision.fp8: "fp8", Precision.fp4: "fp4"}.get(p.compute, "bf16")
    attn_precision = Precision.fp8 if p.kv == Precision.fp8 else Precision.bf16
    return ServeRates(
        gemm_flops=p.chip.dense_flops(p.compute) * eff.gemm[gemm_key] * c,
        attn_flops=p.chip.dense_flops(attn_precision) * eff.gemm[attn_precision.value] * c,
        hbm_bw=p.chip.hbm_bw * eff.hbm * m,
        fabric=chip_fabric(p.chip, p.efficiency, cal.latency_scale))


def experts_touched(n_experts: int, top_k: int, tokens: np.ndarray) -> np.ndarray | float:
    """Distinct routed experts that n tokens activate in one MoE layer, experts.

    E_act(n) = E·(1 − (1 − k/E)^n)  (uniform independent routing: each expert is missed by a
    token with probability 1 − k/E). 0 for a dense model. Neglects routing skew.
    """
    E, k, n = n_experts, top_k, tokens
    return E * (1 - (1 - k / E) ** n) if k else 0.0


def host_step_time(step_s, per_seq_s, batch) -> np.ndarray:
    """Host time of one engine step that the accelerator waits for, s.

    t_host = t_step + B·t_seq: a fixed part (graph launch, synchronisation, sampling launch)
    and a part per running sequence (scheduling, block tables, output processing, which the
    engine's CPU does for each request every step: vLLM v0.6.0 release blog, 2024-09-05,
    'Performance Diagnosis': with Llama 3 8B on one H100 the HTTP API server took 33 % and
    scheduling 29 % of the execution time). Both are fitted per stack
    (scripts/calibrate_infer.py). An engine that schedules asynchronously overlaps it with
    the device (DecodeStage.host_wait).
    """
    return step_s + per_seq_s * batch


def fixed_device_time(overhead_s, n_layers, per_layer: bool) -> np.ndarray:
    """Fitted fixed time of one decode step that the device itself spends, per stage, s.

    t_fixed = L'·t_o for a stack that runs each decoder layer as its own kernels
    (stacks.toml fixed_overhead_per = "layer"), L' the stage's layers and t_o the group's fitted
    overhead per layer (calibration_infer.toml layer_overhead_us); 0 otherwise (the stack pays
    the fitted step_overhead_us as a host cost per step instead, `host_step_time`). Each kernel
    of a layer pays a floor the roofline does not see (dispatch over the compute units, ramp and
    drain, the gap to the next kernel), which a CUDA/HIP graph does not remove: on 8x MI300X a small
    all-reduce still takes 6.0-9.1 us replayed in a hipGraph (AMD ROCm blog 'Understanding RCCL
    Bandwidth and xGMI Performance on AMD Instinct MI300X', 2025-03-02). So the fixed time grows
    with the layers, not per step: Llama 3.1 405B (126 layers) pays 1.6 times a 70B's (80).
    The part of a decode step that is neither weight read nor FLOPs does not change with the
    TP degree: dstack's vLLM 0.6.4 runs of Llama 3.1 405B FP8 (batch 4, 128 in, 2048 out) take
    45.98 ms per step on 4 MI300X and 33.10 ms on 8, 12.88 ms apart for the 51.3 GB of weights
    each GPU stops reading (3.98 TB/s, STREAM's 4.10), leaving 20.2 ms at both (dstackai/
    benchmarks comparison/h100sxm5_vs_mi300x/csv_data/throughput_comparsion.csv @06c957a; the
    4-GPU run's flags are not printed, taken as the 8-GPU command at TP4).
    Neglects the kernels per layer (taken as the same for every decoder layer of one stack).
    """
    return np.asarray(n_layers, dtype=float) * (overhead_s if per_layer else 0.0)


def fallback_kv_reads(group, n_in: int, n_out: int, max_context: int | None) -> np.ndarray:
    """Times a decode step reads each cached KV head, averaged over a request's steps, 1.

    1 + (g − 1)·f, g = query heads per KV head on a rank (N'/K'), f = clip((I + O − S)/O, 0, 1)
    the share of decode steps whose context I + t exceeds S, the longest context the engine's
    grouped-query decode kernel takes (data/stacks.toml decode_attention_max_context); 1
    without such a limit. Beyond S the engine runs the generic paged-attention kernel, whose
    grid is (query heads, sequences, partitions): each thread block serves one query head
    and loads its KV head's blocks itself, so a KV head is read once per query head it serves
    (vLLM csrc/attention/paged_attention_v2.cu). ROCm vLLM's custom kernel takes the whole
    GQA group per block and reads the KV once, but only while the batch's longest sequence is
    ≤ S (stacks.toml vllm-v0 record). Neglects L2 hits between the g blocks of one KV head and
    a continuous batch whose longest sequence passes S before the request does.
    """
    g = np.asarray(group, dtype=float)
    if max_context is None:
        return np.ones_like(g)
    share = np.clip((n_in + n_out - max_context) / n_out, 0.0, 1.0)
    return 1.0 + (g - 1.0) * share


def tp_comm_time(n_layers, message_bytes, tp, tp_per_domain, fab: Fabric) -> np.ndarray:
    """Exposed tensor-parallel all-reduces of one stage, s.

    L·2·t_AR(2·n_tok·D): two all-reduces per layer, after attention and after the MLP
    (Shoeybi et al., Megatron-LM 2019 sec. 3); t_AR from the α-β model (hardware.collectives).
    """
    return n_layers * 2 * collective_time("all_reduce", message_bytes, tp, tp_per_domain, fab)


def ep_comm_time(moe_layers, dispatch_bytes, ep, ep_per_domain, fab: Fabric) -> np.ndarray:
    """Exposed expert-parallel all-to-alls of one stage, s.

    L·f·2·t_A2A: dispatch and combine per MoE layer. Experts inside the TP group (ep ≤ tp)
    see every token already and merge in the TP all-reduce (the caller passes a group of 1:
    no all-to-all, no latency);
    across replicas (ep > tp) each chip sends its share 2·n_tok·k·D/tp of the tokens' copies.
    """
    return moe_layers * 2 * collective_time("all_to_all", dispatch_bytes, ep, ep_per_domain, fab)


@dataclass(frozen=True)
class DecodeStage:
    """One decode step of b sequences through one stage of ⌈L/pp⌉ layers, s, by part."""

    t_gemm: np.ndarray  # FLOP_gemm/P: the weight GEMMs (projections, MLP or experts, head)
    t_attn: np.ndarray  # FLOP_attn/P_attn: attention over the cached context
    t_weights: np.ndarray  # weight bytes/B_hbm: what the GEMMs read
    t_kv: np.ndarray  # (KV bytes + MoE routing permutation)/B_hbm: what attention reads
    t_tp: np.ndarray
    t_ep: np.ndarray
    t_pp: np.ndarray
    t_overhead: np.ndarray  # host cost of the step charged to this stage (host_step_time/pp)
    t_launch: np.ndarray | float = 0.0  # eager kernel launches of the stage (serve.host)
    host_overlap: bool = False  # the host prepares the next step during this one (async)
    t_fixed: np.ndarray | float = 0.0  # the stage's fixed device time per layer (fixed_device_time)

    @property
    def device(self) -> np.ndarray:
        """max(t_weights, t_gemm) + max(t_kv, t_attn) + t_tp + t_ep + t_pp + t_fixed, s: the
        device's own work, a roofline per kernel, summed, plus its layers' fixed kernel time.

        The GEMMs and the attention kernels run one after the other on the stream, so a batch
        large enough to make the GEMMs compute-bound still waits for the (memory-bound) KV
        read, instead of hiding it under a single max(bytes/B, FLOP/P) of the whole step
        (Yuan et al., "LLM Inference Unveiled: Survey and Roofline Model Insights", arXiv
        2402.16363, 2024: each layer's time from its own roofline, the network's the sum;
        LLM-Viewer README 'Workflow' step 5). The roofline max of each is the shape law of
        skinny decode GEMMs: no φ. Neglects the overlap of one kernel's tail with the next
        one's start (programmatic dependent launch).
        """
        return (np.maximum(self.t_weights, self.t_gemm) + np.maximum(self.t_kv, self.t_attn)
                + self.t_tp + self.t_ep + self.t_pp + self.t_fixed)

    @property
    def host_wait(self) -> np.ndarray:
        """Host time of the step the device waits for, s: t_overhead, or with asynchronous
        scheduling max(0, t_overhead − t_busy), t_busy = max(t_device, t_launch).

        An asynchronous scheduler prepares step n+1 (scheduling, input preparation, output
        processing) while the device runs step n, so a step lasts max(t_busy, t_host): AWS
        Neuron docs, vLLM-Neuron 'Async Scheduling and Async Execution' (vLLM's engine core
        schedules one step ahead through a batch queue of depth 2); TensorRT-LLM docs,
        'Overlap Scheduler' (the CPU work of step n runs during the GPU work of step n+1).
        Neglects the steps whose batch changes, which wait for the previous step's outputs.
        """
        if not self.host_overlap:
            return self.t_overhead
        return np.maximum(0.0, self.t_overhead - self.device
                          - launch_wait(self.device, self.t_launch))

    @property
    def total(self) -> np.ndarray:
        """max(t_device, t_launch) + host_wait, s (serve.host: launches overlap the device)."""
        return self.device + launch_wait(self.device, self.t_launch) + self.host_wait

    def parts(self, pp) -> dict[str, np.ndarray]:
        """The pp-stage step by part, s; sums to decode_step_time (each kernel memory or math
        bound). The overhead part is the host time the device waits for plus the layers'
        fixed device time (t_fixed)."""
        gemm_read, kv_read = self.t_weights >= self.t_gemm, self.t_kv >= self.t_attn
        return {"time/decode/weights_read": np.where(gemm_read, pp * self.t_weights, 0.0),
                "time/decode/kv_read": np.where(kv_read, pp * self.t_kv, 0.0),
                "time/decode/compute": (np.where(gemm_read, 0.0, pp * self.t_gemm)
                                        + np.where(kv_read, 0.0, pp * self.t_attn)),
                "time/decode/comm_tp": pp * self.t_tp, "time/decode/comm_ep": pp * self.t_ep,
                "time/decode/comm_pp": pp * self.t_pp,
                "time/decode/launch_wait": pp * launch_wait(self.device, self.t_launch),
                "time/decode/overhead": pp * (self.host_wait + self.t_fixed)}


def decode_step_time(stage: DecodeStage, pp) -> np.ndarray:
    """Time per output token of pure decode, s.

    TPOT = pp·t_stage: a token passes every stage in turn (b = B/pp sequences per stage).
    """
    return pp * stage.total


def prefill_time(gemm_flops, attn_flops, t_read, comm_s, rates: ServeRates, phi
                 ) -> np.ndarray:
    """One prefill pass, s.

    max(FLOP_gemm/(P·φ) + FLOP_attn/P_attn, t_read) + t_comm, t_read = W·pp/B_hbm for one
    prompt alone (every stage reads its weights once), ·I/C when chunks of C tokens share the
    reads (one stage's W/B_hbm when the stages pipeline, `prefill_stages`); t_comm the TP
    all-reduces, EP all-to-alls and PP sends of the stages charged; φ the GEMM shape factor at
    M = the prompt (or chunk) tokens (hardware.roofline.shape_factor): alone, a prompt's GEMMs
    have M = I rows; batched with others they run in chunks of C (engine max_num_tokens).
    Neglects overlap of the collectives with compute.
    """
    return np.maximum(gemm_flops / (rates.gemm_flops * phi) + attn_flops / rates.attn_flops,
                      t_read) + comm_s


@dataclass(frozen=True)
class PrefillStages:
    """What one prompt's batched prefill charges the replica per pass, by `prefill_stages`."""

    layers: np.ndarray | float  # decoder layers charged
    head: np.ndarray | float  # share of the output head charged
    reads: np.ndarray | float  # stages whose weights are read (per chunk of C tokens)
    sends: np.ndarray | float  # stage-to-stage activation sends


def prefill_stages(pp, stage_layers, n_layers: int, pipelined: bool) -> PrefillStages:
    """The share of a prompt's batched prefill that sets a pp-stage replica's throughput.

    Pipelined (stacks.toml pipelined_prefill): the engine keeps pp micro-batches in flight,
    each stage running ⌈L/pp⌉ layers of a different micro-batch's chunk at once, so per prompt
    the replica is busy for one stage's share: ⌈L/pp⌉ layers, 1/pp of the head (as decode),
    one stage's weight read per chunk and one send of the chunk's activations, 2·C·D bytes, to
    the next stage. With m micro-batches a GPipe pipeline takes (m + pp − 1)/m stage times per
    micro-batch (Huang et al., GPipe, NeurIPS 2019 sec. 2.3; Narayanan et al., Megatron-LM
    SC'21 sec. 2.2: bubble (pp − 1)/m); under continuous batching the engine refills each
    stage's slot as it frees (TensorRT-LLM _torch/pyexecutor/py_executor.py _executor_loop_pp,
    micro_batches of num_micro_batches = pp_size, and the C++ trtGptModelInflightBatching.cpp
    mNumMicroBatches = pp; vLLM config max_concurrent_batches = pp
    'to fill the pipeline', v1 EngineCore batch_queue), so m grows with the run and the
    bubble, paid once at start and end, is neglected, as decode's TPOT = pp·t_stage does.
    Not pipelined: one prompt passes every stage in turn, all L layers, the whole head, pp
    weight reads and pp − 1 sends, as the prompt alone (TTFT) always does.
    Neglects the stage that also holds the head being slower than the others.
    """
    pp = np.asarray(pp, dtype=float)
    if pipelined:
        return PrefillStages(layers=stage_layers, head=1.0 / pp, reads=1.0, sends=1.0)
    return PrefillStages(layers=n_layers, head=1.0, reads=pp, sends=pp - 1.0)


def gemm_phi(half_dim: float, tiles: tuple[int, int, int, int] | None, m, n, k) -> np.ndarray:
    """GEMM rate / plateau rate of an M×K by K×N product, dimensionless.

    The instruction-tile law of the chip's systolic matmul unit where efficiency.toml records
    one (hardware.roofline.tile_shape_factor, Neuron TensorE), else the half-rate law
    φ = 1/(1 + Σ d½/d) with the stack's calibrated d½ (hardware.roofline.shape_factor).
    """
    if tiles is not None:
        return tile_shape_factor(tiles, m, n, k)
    return shape_factor(half_dim, m, n, k)


def gemm_shape_factor(half_dim: float, tokens: int, s: LayerShape, tp,
                      tiles: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """GEMM rate / plateau rate of a prefill of M = tokens rows, dimensionless.

    φ(M, N = F/tp, K = D) by `gemm_phi`; tp the ranks the GEMM is split over (chips, or
    logical NeuronCores on Neuron, where each core runs its own F/tp-wide shard).
    """
    return gemm_phi(half_dim, tiles, tokens, s.ffn_width / tp, s.hidden) * np.ones_like(
        np.asarray(tp, dtype=float))


def dp_prefill_straggler(batch, n_out: int, dp_ranks) -> np.ndarray:
    """Prefill work per step of the busiest attention-data-parallel rank over the mean, 1.

    γ = E[max_r N_r] / λ = Σ_{j≥1} (1 − F_λ(j−1)^d) / λ,  N_r ~ Poisson(λ = B/O) iid over the
    d = ep/tp ranks that share the experts (1 when ep ≤ tp): a rank admits about B/O new
    prompts per step (Little's law: B running, each for O steps), and the ranks meet at every
    MoE layer's all-to-all, so a step lasts as long as the rank with the most prefill work
    (TensorRT-LLM tech blog 10, "ADP Balance Strategy": under in-flight batching the
    iteration time is dominated by the slowest rank). Neglects the engine's balancing of
    context requests across ranks (attention_dp_config enable_balance) and chunk splitting.
    """
    lam = np.maximum(np.asarray(batch, dtype=float) / n_out, 1e-12)
    d = np.broadcast_to(np.asarray(dp_ranks, dtype=float), lam.shape)
    pairs, inverse = np.unique(np.stack([lam.ravel(), d.ravel()]), axis=1, return_inverse=True)
    lam_u, d_u = pairs  # (n_unique,)
    j_max = int(np.ceil(np.max(lam_u + 12 * np.sqrt(lam_u) + 12)))
    j = np.arange(j_max + 1, dtype=float)[:, None]  # (n_j, 1)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, j_max + 1)))])[:, None]
    pmf = np.exp(-lam_u + j * np.log(lam_u) - log_fact)  # (n_j, n_unique)
    cdf = np.minimum(np.cumsum(pmf, axis=0), 1.0)
    e_max = (1.0 - cdf[:-1] ** d_u).sum(axis=0)  # Σ_{j≥1} P(max ≥ j)
    gamma = np.where(d_u > 1, e_max / lam_u, 1.0)
    return gamma[inverse.ravel()].reshape(lam.shape)


def cycle_throughput(batch, n_out: int, tpot_decode, t_prefill_batched
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Tokens/s of one replica and its effective TPOT under continuous batching, (tok/s, s).

    Per cycle a replica decodes O steps and prefills B requests (chunked, interleaved):
    cycle = O·TPOT + B·t_pf,  tokens/s = B·O / cycle,  TPOT_eff = cycle / O.
    """
    B = batch
    cycle = n_out * tpot_decode + B * t_prefill_batched
    return B * n_out / cycle, cycle / n_out


def disaggregated_throughput(batch, n_out: int, tpot_decode, t_prefill_batched
                             ) -> np.ndarray:
    """Tokens/s of one replica's chips split into prefill and decode pools, tok/s.

    A share t_pf/(t_pf + O·TPOT/B) of the chips prefills, the rest decodes:
    tokens/s = O / (t_pf + O·TPOT/B) (Zhong et al., DistServe, OSDI 2024 sec. 3).
    """
    return n_out / (t_prefill_batched + n_out * tpot_decode / batch)


def kv_transfer_time(kv_bytes, fab: Fabric) -> float:
    """Moving one prompt's KV cache from the prefill to the decode pool, s.

    S_kv / (B_nic·η_nic) over the scale-out network. Neglects its latency and overlap with
    the prefill's later layers.
    """
    return kv_bytes / (fab.scaleout_bw * fab.scaleout_eff)


def usd_per_mtok(price_replica, seconds, tokens) -> np.ndarray:
    """Price of a million tokens that one replica produces in `seconds`, USD/Mtok.

    $ = price_replica·t / n_tok · 10⁶ (output: t = TPOT, n = B; input: t = t_pf, n = I).
    """
    return price_replica * seconds / tokens * 1e6
