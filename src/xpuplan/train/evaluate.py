"""Evaluate arrays of training layouts: legality masks, memory, step time, throughput, MFU.

MFU = tokens/s · F_model / (chips · P), with F_model the model FLOPs per token of
`workload.flops.flops_per_token_train` (6N + causal attention, MTP included; no recompute)
and P = hardware.roofline.mfu_peak_flops: the chip's dense peak at the GEMM precision, or
at bf16 (attention's precision) where that is higher. HFU adds the recomputed share f of the
forward FLOPs.
Attention counts the causal half of the S x S scores, the FLOPs the step's kernels run
(MaxText since mid-2025, Megatron-Bridge): with PaLM's unhalved count MFU exceeds 1 at long
sequences, where attention dominates (Llama 3.1 8B at 1M tokens on GB300: 1.12).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from xpuplan.hardware.efficiency import ChipEfficiency
from xpuplan.hardware.roofline import chip_rates, mfu_peak_flops
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.layouts import Layouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision
from xpuplan.specs.reasons import Reason
from xpuplan.specs.samples import Samples, by_sample, pair_layouts
from xpuplan.train.comms import Zero3Overlap
from xpuplan.train.memory import MemorySettings, host_offload_bytes, memory_per_chip
from xpuplan.train.microbatch import recomputed_share
from xpuplan.train.step import step_time
from xpuplan.workload.flops import flops_per_token_fwd, flops_per_token_train
from xpuplan.workload.heads import HeadSplit, head_split
from xpuplan.workload.layer import layer_shape

EMBEDDING_AND_LOSS_STAGES = 2  # virtual pipeline stages beyond the layers (see legality)


class TrainReason(Reason):
    """Why a training layout is rejected: the first failed check, per configuration."""

    OK = 0, "ok"
    CHIPS = 1, "tp·pp·dp·cp must equal the chip count"
    HEADS = 2, ("the stack's head rule refuses this tp: tp ranks must divide the attention "
                "heads, and divide or be divided by the KV heads (data/stacks.toml)")
    LAYERS = 3, "pp·vpp must not exceed the layers + 2 (embedding and loss stages)"
    EXPERTS = 4, "ep must divide the experts and the tp·dp·cp ranks (and be 1 for a dense model)"
    BATCH = 5, "dp·micro_batch must divide the global batch"
    SEQUENCE = 6, "cp must divide the sequence length"
    INTERLEAVE = 7, "interleaving (vpp > 1) needs pp > 1 and micro-batches divisible by pp"
    MEMORY = 8, "does not fit in HBM"
    NO_FABRIC = 9, ("the chip has no interconnect bandwidth in the catalog (add "
                    "scaleup_gb_per_s_* with --catalog) so it cannot run multi-chip collectives")


@dataclass(frozen=True)
class TrainProblem:
    """Everything fixed across the layouts being compared."""

    model: ModelSpec
    chip: ChipSpec
    efficiency: ChipEfficiency
    n_chips: int
    seq_len: int
    global_batch: int  # sequences per step
    precision: Precision
    reserved_bytes: float  # HBM the runtime keeps (context, comm buffers, fragmentation)
    # The run's attention materialises the S×S scores (an eager QKᵀ-softmax-V, no flash
    # kernel): full S² FLOPs, rerun under selective recompute (train/step.py step_time).
    dense_attention: bool = False
    moe_capacity_factor: float | None = None  # token-dropping MoE's capacity (None: dropless)
    # MaxText remat policy (workload.remat) of layouts under layer recompute: which tensors
    # stay in HBM and which go to host memory (train/memory.py); None: the recompute code's.
    remat_policy: str | None = None
    # The model-state format (train/memory.py state_bytes: megatron, megatron-bf16-grads,
    # maxtext-W-G-M) and the layers whose activations the run offloads to host
    # memory (Megatron cpu_offloading_num_layers): memory only (train/memory.py).
    state_format: str = "megatron"
    activation_offload_layers: int = 0
    # The GEMM inputs kept for the weight gradients: 'bf16', or Transformer Engine's quantized
    # copies under an FP8 recipe, 'fp8' / 'mxfp8' (train/memory.py SAVED_INPUT_BYTES).
    saved_input_format: str = "bf16"

    @property
    def memory_settings(self) -> MemorySettings:
        return MemorySettings(self.remat_policy, self.state_format, self.activation_offload_layers,
                              self.saved_input_format)


@dataclass
class TrainEval:
    """Arrays (n_cfg,) for the evaluated layouts, or (n_cfg, n_samples) when evaluated with
    `samples` (specs.samples); parts sum to the totals."""

    layouts: Layouts
    reason: np.ndarray  # int8 TrainReason codes
    time: dict[str, np.ndarray]
    memory: dict[str, np.ndarray]
    step_time_s: np.ndarray
    memory_per_chip_bytes: np.ndarray
    tokens_per_s: np.ndarray
    mfu: np.ndarray
    hfu: np.ndarray
    extra: dict = field(default_factory=dict)
    samples: Samples | None = None  # the sample axis (axis 1) when evaluated with samples

    @property
    def legal(self) -> np.ndarray:
        return (self.reason == TrainReason.OK) | (self.reason == TrainReason.MEMORY)

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.step_time_s)

    @property
    def fits(self) -> np.ndarray:
        return self.reason == TrainReason.OK


def train_heads(p: TrainProblem, lay: Layouts) -> HeadSplit:
    """The head split of every layout under the chip vendor's training stack (data/stacks.toml:
    NxD Training pads heads over logical NeuronCores, Megatron-style stacks need tp | heads)."""
    rules = stack_rules(p.chip.vendor, "train")
    return head_split(layer_shape(p.model), lay.tp, rules.ranks_per_chip(p.chip), rules.heads)


def legality(p: TrainProblem, lay: Layouts, heads: HeadSplit | None = None) -> np.ndarray:
    """The first failed structural check per configuration (0 = legal so far)."""
    m = p.model
    heads = heads or train_heads(p, lay)
    n_micro = p.global_batch // np.maximum(lay.dp * lay.micro_batch, 1)
    experts = m.moe.n_routed_experts if m.moe else 1
    checks = [
        (TrainReason.CHIPS, lay.tp * lay.pp * lay.dp * lay.cp == p.n_chips),
        (TrainReason.HEADS, heads.legal),
        # Uneven splits are allowed (Megatron --decoder-first/last-pipeline-num-layers); the
        # busiest stage then holds ceil(L/pp) layers. Megatron-core's TransformerConfig
        # account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split count
        # the embedding and the loss as one layer each, so L + 2 virtual stages can be filled
        # (Megatron-Bridge's Llama 3.1 405B recipe: pp 16 x vpp 8 over 126 layers).
        (TrainReason.LAYERS, lay.pp * lay.vpp <= m.n_layers + EMBEDDING_AND_LOSS_STAGES),
        (TrainReason.EXPERTS, (experts % lay.ep == 0) & ((lay.tp * lay.dp * lay.cp) % lay.ep == 0)),
        (TrainReason.BATCH, p.global_batch % (lay.dp * lay.micro_batch) == 0),
        (TrainReason.SEQUENCE, p.seq_len % lay.cp == 0),
        (TrainReason.INTERLEAVE, (lay.vpp == 1) | ((lay.pp > 1) & (n_micro % lay.pp == 0))),
    ]
    reason = np.zeros(len(lay), dtype=np.int8)
    for code, ok in reversed(checks):  # the first failing check wins
        reason = np.where(ok, reason, code).astype(np.int8)
    return reason


SAMPLED = ("compute_scale",)  # the stack parameters `evaluate` can take per sample


def evaluate(p: TrainProblem, lay: Layouts, samples: Samples | None = None) -> TrainEval:
    """Step time, memory, throughput and MFU of every layout in `lay` (vectorised): arrays
    (L,), or (L, S) with `samples` of the stack's SAMPLED parameters (specs.samples)."""
    if samples is None:
        return _evaluate(p, lay, None)
    samples.check_names(SAMPLED)
    flat = pair_layouts(lay, len(samples))
    scale = samples.value("compute_scale", p.efficiency.stack.compute_scale, len(lay))
    return by_sample(_evaluate(p, flat, scale), lay, samples)


def _evaluate(p: TrainProblem, lay: Layouts, compute_scale: float | np.ndarray | None
              ) -> TrainEval:
    """`evaluate` of flat configurations, `compute_scale` given per layout (or the stack's)."""
    shape = layer_shape(p.model)
    rules = stack_rules(p.chip.vendor, "train")
    rates = chip_rates(p.chip, p.efficiency, p.precision, compute_scale)
    if rules.collective_stages_serial:  # the stack's multi-node collectives run stage by stage
        rates = replace(rates, fabric=replace(rates.fabric, serial_stages=True))
    heads = train_heads(p, lay)
    reason = legality(p, lay, heads)
    time = step_time(shape, lay, p.seq_len, p.global_batch, rates, heads=heads,
                     tp_overlap=rules.tp_comm_overlap, ranks_per_chip=rules.ranks_per_chip(p.chip),
                     dense_attention=p.dense_attention, capacity_factor=p.moe_capacity_factor,
                     zero3_overlap=Zero3Overlap(rules.zero3_reduce_scatter_overlap,
                                                rules.zero3_all_gather_overlap_with_tp,
                                                rules.zero3_per_layer),
                     core_touches=rules.core_all_reduce_hbm_touches)
    memory = memory_per_chip(shape, lay, p.seq_len, p.global_batch, p.reserved_bytes, heads,
                             p.memory_settings)
    host = host_offload_bytes(shape, lay, p.seq_len, p.global_batch, heads, p.memory_settings)
    step = np.asarray(sum(time.values()))  # the parts sum to the step
    mem = np.asarray(sum(memory.values()))
    reason = np.where((reason == 0) & ~np.isfinite(step), TrainReason.NO_FABRIC, reason)
    reason = np.where((reason == 0) & (mem > p.chip.hbm_bytes), TrainReason.MEMORY,
                      reason).astype(np.int8)
    tokens_per_s = p.global_batch * p.seq_len / step
    peak = p.n_chips * mfu_peak_flops(p.chip, p.precision)
    model_flops = flops_per_token_train(p.model, p.seq_len, causal=True)
    recompute_flops = recomputed_share(lay) * flops_per_token_fwd(p.model, p.seq_len, causal=True)
    return TrainEval(layouts=lay, reason=reason, time=time, memory=memory, step_time_s=step,
                     memory_per_chip_bytes=mem, tokens_per_s=tokens_per_s,
                     mfu=np.asarray(tokens_per_s * model_flops / peak),
                     hfu=tokens_per_s * (model_flops + recompute_flops) / peak,
                     extra={"host_offload_bytes": host})
