"""Measured efficiency records (data/efficiency.toml) and software-stack rules (data/stacks.toml).

Each record keeps the units its source prints (`achieved_tflops`, `busbw_gb_per_s`,
`latency_us`); the properties below are the one place they become fractions of peak and
seconds. hardware/efficiency.py and hardware/stacks.py read only these records.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from xpuplan.catalog.data import records

EFFICIENCY = "efficiency.toml"
STACKS = "stacks.toml"


class Sourced(BaseModel):
    """Fields every measured or configured record carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1)
    retrieved: str = Field(min_length=1)
    confidence: str | None = None
    notes: str = ""


class MatmulMeasurement(Sourced):
    """Largest achievable dense GEMM rate (MAMF) on one chip at one precision."""

    chip: str
    precision: str
    achieved_tflops: float = Field(gt=0)
    peak_dense_tflops: float = Field(gt=0)
    scope: Literal["per_chiplet", "per_gcd"] | None = None  # absent: the whole chip

    @property
    def fraction_of_peak(self) -> float:
        """MAMF / dense peak (both in the source's TFLOP/s)."""
        return self.achieved_tflops / self.peak_dense_tflops


class MemoryMeasurement(Sourced):
    """STREAM-triad HBM bandwidth on one chip."""

    chip: str
    achieved_tb_per_s: float = Field(gt=0)
    peak_tb_per_s: float = Field(gt=0)

    @property
    def fraction_of_peak(self) -> float:
        """STREAM triad / HBM peak."""
        return self.achieved_tb_per_s / self.peak_tb_per_s


class CollectiveMeasurement(Sourced):
    """One collective benchmark (nccl-tests or the like) on one tier of one chip's system."""

    chip: str
    tier: Literal["scaleup", "scaleout"]
    op: str
    algo: str
    n_chips: int = Field(ge=1)
    busbw_gb_per_s: float | None = Field(None, gt=0)
    link_gb_per_s_unidir: float | None = Field(None, gt=0)
    per_chip_nic_gb_per_s: float | None = Field(None, gt=0)
    message_bytes: int | None = Field(None, ge=1)
    latency_us: float | None = Field(None, gt=0)
    latency_message_bytes: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _bandwidth_has_its_link(self) -> CollectiveMeasurement:
        if (self.busbw_gb_per_s or self.per_chip_nic_gb_per_s) and not self.link_gb_per_s_unidir:
            raise ValueError("a bandwidth needs link_gb_per_s_unidir to compare it with")
        return self

    @property
    def busbw_fraction(self) -> float | None:
        """Bus bandwidth / per-direction link rate (nccl-tests definition), if measured."""
        if self.busbw_gb_per_s is None or self.link_gb_per_s_unidir is None:
            return None
        return self.busbw_gb_per_s / self.link_gb_per_s_unidir

    @property
    def nic_fraction(self) -> float | None:
        """Per-chip NIC throughput / NIC rate (scale-out), if measured."""
        if self.per_chip_nic_gb_per_s is None or self.link_gb_per_s_unidir is None:
            return None
        return self.per_chip_nic_gb_per_s / self.link_gb_per_s_unidir

    @property
    def latency_s(self) -> float | None:
        """Small-message collective time α, s."""
        return None if self.latency_us is None else self.latency_us * 1e-6


class RuntimeMemory(Sourced):
    """Share of HBM a runtime keeps for itself."""

    stack: str
    reserved_fraction_of_hbm: float = Field(ge=0, lt=1)


class ServingEngine(Sourced):
    """A serving engine's scheduling facts."""

    stack: str
    prefill_chunk_tokens: int = Field(ge=1)


class MoeKernel(Sourced):
    """A serving stack's grouped-GEMM row tile for MoE experts (serve/moe.py)."""

    stack: str
    grouped_gemm_tile_rows_min: int = Field(ge=1)
    grouped_gemm_tile_rows_max: int = Field(ge=1)

    @model_validator(mode="after")
    def _min_below_max(self) -> MoeKernel:
        if self.grouped_gemm_tile_rows_min > self.grouped_gemm_tile_rows_max:
            raise ValueError("grouped_gemm_tile_rows_min exceeds grouped_gemm_tile_rows_max")
        return self


class BlockwiseMoeKernel(Sourced):
    """A static-shape stack's MoE dispatch: selective loading, all experts or blockwise
    matmul by tokens routed (serve/moe.py, Neuron section)."""

    stack: str
    block_size_tokens: int = Field(ge=1)  # rows of one blockwise-matmul block
    selective_loading_threshold: float = Field(gt=0)  # n·k/E below which each token's experts
    # are gathered one by one instead of running every expert


class EngineTier(BaseModel):
    """A serving engine's defaults on some chips (stacks.toml `[[stack.tier]]`): those named in
    `chips`, else those with at least `hbm_gib_min` GiB of HBM."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    hbm_gib_min: float = Field(default=0.0, ge=0)
    chips: tuple[str, ...] = ()
    max_running_batch: int | None = Field(default=None, ge=1)
    max_batched_tokens: int | None = Field(default=None, ge=1)


class RequestPool(BaseModel):
    """A serving engine that sizes its default cap on running requests from its KV token pool
    (stacks.toml `[stack.request_pool]`, SGLang): T pool tokens, C the model's context length,
    N_hi the record's max_running_batch,
    N_max = min(⌊T/t⌋, min(max(⌊T/C·r⌋, N_lo), N_hi))."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    requests_per_context: int = Field(ge=1)  # r: request slots per C tokens of the pool
    requests_min: int = Field(ge=1)  # N_lo: the fewest slots the pool gets
    tokens_per_request_min: int = Field(ge=1)  # t: running requests at most T // t


class TensorEngine(Sourced):
    """A systolic-array matmul unit's instruction tiles and fixed issue cost
    (hardware/roofline.py tile_shape_factor)."""

    stack: str
    contraction_rows: int = Field(ge=1)  # PE rows: contraction elements per instruction
    stationary_columns: int = Field(ge=1)  # PE columns: stationary free size per instruction
    moving_free_max: int = Field(ge=1)  # most moving columns one instruction streams
    mm_init_latency_cycles: int = Field(ge=1)  # fewest cycles between two instructions


class StackRecord(Sourced):
    """One vendor's software-stack rules for training or serving (stacks.toml header)."""

    vendor: str = Field(min_length=1)
    workload: Literal["train", "serve"]
    name: str = Field(min_length=1)
    engine: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")  # serve: the CLI's name
    vendor_default: bool = False  # serve: the engine a chip of `vendor` gets unless told
    frameworks: tuple[str, ...] = ()  # serve: words of a validation row's framework column
    max_batched_tokens: int | None = Field(default=None, ge=1)  # serve: tokens per forward
    tier: tuple[EngineTier, ...] = ()  # serve: per-chip defaults over the flat ones
    request_pool: RequestPool | None = None  # serve: the cap sized from the KV pool
    heads: Literal["pad", "divide"]
    tp_counts: Literal["chips", "logical_cores"]
    kv_admission: Literal["paged_resident_tokens", "reserved_full_sequence",
                          "full_sequence"] | None = None
    max_running_batch: int | None = Field(default=None, ge=1)  # serve: engine's sequence cap
    max_running_batch_source: str | None = None
    weight_only: tuple[str, ...] = ()
    weight_only_source: str | None = None
    tp_comm_overlap: float = Field(default=0.0, ge=0.0, le=1.0)  # train: share of TP comm hidden
    tp_comm_overlap_source: str | None = None
    zero3_reduce_scatter_overlap: float = Field(default=1.0, ge=0.0, le=1.0)  # train: ZeRO-3 RS
    zero3_all_gather_overlap_with_tp: float = Field(default=1.0, ge=0.0, le=1.0)  # ZeRO-3 AG
    zero3_per_layer: bool = False  # train: ZeRO-3 collectives per layer, each paying α
    zero3_overlap_source: str | None = None
    core_all_reduce_hbm_touches: float | None = Field(default=None, gt=0)  # train: on-chip TP
    core_collective_source: str | None = None
    collective_stages_serial: bool = False  # train: multi-node collectives' stages add
    collective_stages_source: str | None = None
    windowed_kv_pool: bool = True  # serve: windowed layers cache only their window's tokens
    windowed_kv_pool_source: str | None = None
    eager_kernels_per_layer: int | None = Field(default=None, ge=1)  # serve: without graphs
    eager_launch_us: float | None = Field(default=None, gt=0)  # host time per kernel launch
    eager_source: str | None = None
    serial_host_step_us: float | None = Field(default=None, ge=0)  # serve: host per scheduler call
    serial_host_seq_us: float | None = Field(default=None, ge=0)  # serve: ... per running sequence
    serial_host_source: str | None = None
    scheduler_steps: int = Field(default=1, ge=1)  # serve: decode steps per scheduler call
    context_bucket_min_tokens: int | None = Field(default=None, ge=1)  # serve: smallest prefill
    context_buckets_source: str | None = None  # bucket of a power-of-two bucketing rule
    decode_attention_max_context: int | None = Field(default=None, ge=1)  # serve: GQA kernel's
    decode_attention_source: str | None = None  # longest context (beyond: generic kernel)
    fixed_overhead_per: Literal["step", "layer"] = "step"  # serve: unit of the fitted overhead
    fixed_overhead_source: str | None = None
    pipelined_prefill: bool = False  # serve: pp stages prefill different micro-batches at once
    pipelined_prefill_source: str | None = None

    @model_validator(mode="after")
    def _serving_names_its_admission(self) -> StackRecord:
        if self.workload == "serve" and self.kv_admission is None:
            raise ValueError("a serving stack needs kv_admission (paged_resident_tokens, "
                             "reserved_full_sequence or full_sequence)")
        if self.workload == "serve" and self.engine is None:
            raise ValueError("a serving stack needs engine (its name on the CLI, e.g. vllm)")
        if ((self.max_running_batch or self.max_batched_tokens or self.tier)
                and not self.max_running_batch_source):
            raise ValueError("max_running_batch, max_batched_tokens and tier need their own "
                             "max_running_batch_source")
        if self.request_pool and (self.max_running_batch is None
                                  or self.request_pool.requests_min > self.max_running_batch):
            raise ValueError("request_pool needs max_running_batch (its ceiling) at least its "
                             "requests_min")
        return self

    @model_validator(mode="after")
    def _collective_rules_name_their_sources(self) -> StackRecord:
        if self.core_all_reduce_hbm_touches and not self.core_collective_source:
            raise ValueError("core_all_reduce_hbm_touches needs its own core_collective_source")
        if self.collective_stages_serial and not self.collective_stages_source:
            raise ValueError("collective_stages_serial needs its own collective_stages_source")
        if self.fixed_overhead_per == "layer" and not self.fixed_overhead_source:
            raise ValueError("fixed_overhead_per = 'layer' needs its own fixed_overhead_source")
        if self.pipelined_prefill and not self.pipelined_prefill_source:
            raise ValueError("pipelined_prefill needs its own pipelined_prefill_source")
        return self

    @model_validator(mode="after")
    def _figures_name_their_sources(self) -> StackRecord:
        if self.weight_only and not self.weight_only_source:
            raise ValueError("weight_only needs its own weight_only_source")
        if self.tp_comm_overlap and not self.tp_comm_overlap_source:
            raise ValueError("tp_comm_overlap needs its own tp_comm_overlap_source")
        if ((self.zero3_reduce_scatter_overlap < 1 or self.zero3_all_gather_overlap_with_tp < 1
             or self.zero3_per_layer) and not self.zero3_overlap_source):
            raise ValueError("zero3_reduce_scatter_overlap and zero3_all_gather_overlap_with_tp "
                             "below 1, and zero3_per_layer, need their own zero3_overlap_source")
        if not self.windowed_kv_pool and not self.windowed_kv_pool_source:
            raise ValueError("windowed_kv_pool = false needs its own windowed_kv_pool_source")
        if (self.eager_kernels_per_layer is None) != (self.eager_launch_us is None) or (
                self.eager_launch_us and not self.eager_source):
            raise ValueError("eager_kernels_per_layer and eager_launch_us come together, with "
                             "their eager_source")
        if (self.serial_host_step_us is None) != (self.serial_host_seq_us is None) or (
                self.serial_host_seq_us is not None and not self.serial_host_source):
            raise ValueError("serial_host_step_us and serial_host_seq_us come together, with "
                             "their serial_host_source")
        if self.context_bucket_min_tokens and not self.context_buckets_source:
            raise ValueError("context_bucket_min_tokens needs its own context_buckets_source")
        if self.decode_attention_max_context and not self.decode_attention_source:
            raise ValueError("decode_attention_max_context needs its own decode_attention_source")
        return self


class LatencyLimit(Sourced):
    """An MLPerf Inference scenario's p99 latency limits (validation/mlperf_latency.toml)."""

    name: str = Field(min_length=1)  # MLPerf's benchmark name
    model: str = Field(min_length=1)  # the catalog model the validation rows use
    scenario: Literal["server", "server-interactive"]  # the csv's scenario column
    ttft_ms: float = Field(gt=0)  # p99 time to first token
    tpot_ms: float = Field(gt=0)  # p99 time per output token
    percentile: float = Field(gt=0, le=100)

    @property
    def ttft_s(self) -> float:
        """p99 time-to-first-token limit, s."""
        return self.ttft_ms * 1e-3

    @property
    def tpot_s(self) -> float:
        """p99 time-per-output-token limit, s."""
        return self.tpot_ms * 1e-3


def matmul_measurements() -> tuple[MatmulMeasurement, ...]:
    """Every [[matmul]] record of efficiency.toml."""
    return records(EFFICIENCY, "matmul", MatmulMeasurement)


def memory_measurements() -> tuple[MemoryMeasurement, ...]:
    """Every [[memory]] record of efficiency.toml."""
    return records(EFFICIENCY, "memory", MemoryMeasurement)


def collective_measurements() -> tuple[CollectiveMeasurement, ...]:
    """Every [[collective]] record of efficiency.toml."""
    return records(EFFICIENCY, "collective", CollectiveMeasurement)


def runtime_memory() -> dict[str, RuntimeMemory]:
    """[[runtime_memory]] records of efficiency.toml by stack."""
    return {r.stack: r for r in records(EFFICIENCY, "runtime_memory", RuntimeMemory)}


def serving_engines() -> dict[str, ServingEngine]:
    """[[serving_engine]] records of efficiency.toml by stack."""
    return {r.stack: r for r in records(EFFICIENCY, "serving_engine", ServingEngine)}


def moe_kernels() -> dict[str, MoeKernel]:
    """[[moe_kernel]] records of efficiency.toml by stack."""
    return {r.stack: r for r in records(EFFICIENCY, "moe_kernel", MoeKernel)}


def moe_blockwise_kernels() -> dict[str, BlockwiseMoeKernel]:
    """[[moe_blockwise_kernel]] records of efficiency.toml by stack (vendor)."""
    return {r.stack: r for r in records(EFFICIENCY, "moe_blockwise_kernel", BlockwiseMoeKernel)}


def tensor_engines() -> dict[str, TensorEngine]:
    """[[tensor_engine]] records of efficiency.toml by stack (vendor)."""
    return {r.stack: r for r in records(EFFICIENCY, "tensor_engine", TensorEngine)}


def stack_records() -> tuple[StackRecord, ...]:
    """Every [[stack]] record of stacks.toml."""
    return records(STACKS, "stack", StackRecord)


def latency_limits() -> tuple[LatencyLimit, ...]:
    """Every [[benchmark]] record of validation/mlperf_latency.toml."""
    return records("validation/mlperf_latency.toml", "benchmark", LatencyLimit)
