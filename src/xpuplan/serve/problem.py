"""The serving problem: everything fixed across the serving layouts being compared.

Layouts are `specs.layouts.ServeLayouts`, arrays of (tp, pp, ep, batch); a Trainium or TPU
chip counts as one chip, not its cores.
"""

from __future__ import annotations

from dataclasses import dataclass

from xpuplan.hardware.efficiency import ChipEfficiency, ServeCalibration
from xpuplan.specs.hardware import ChipSpec
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import Precision


@dataclass(frozen=True)
class ServeProblem:
    """Everything fixed across the serving layouts being compared."""

    model: ModelSpec
    chip: ChipSpec
    efficiency: ChipEfficiency
    calibration: ServeCalibration
    n_chips: int
    input_len: int
    output_len: int
    weights: Precision
    kv: Precision
    compute: Precision  # the precision GEMMs run at (the activations'; the weights' by default)
    reserved_bytes: float
    usd_per_chip_s: float | None
    disaggregated: bool = False
    # Static shapes (serve/static.py); None: the engine pages its cache and runs the live batch.
    kv_cache_tokens: int | None = None  # a static KV cache per decode slot, read whole, tokens
    compiled_batch: int | None = None  # decode rows every token-generation step computes
    pad_prompt_to_cache: bool = False  # prefill pads each prompt to kv_cache_tokens (Neuron)
    context_buckets: tuple[int, ...] = ()  # compiled prefill lengths a prompt pads up to, tokens;
    # (): the engine's default rule (data/stacks.toml context_bucket_min_tokens), if it has one
    max_running_batch: int | None = None  # the engine's cap on running sequences; None: the
    # serving stack's default (data/stacks.toml), e.g. a benchmark's --max_batch_size
    engine: str | None = None  # the serving engine (data/stacks.toml); None: the vendor's default
    cuda_graphs: bool = True  # False: the engine launches every kernel eagerly (serve.host)
    scheduler_steps: int | None = None  # decode steps per scheduler call (vLLM V0
    # --num-scheduler-steps); None: the engine's default (data/stacks.toml)
    async_scheduling: bool = False  # True: the engine schedules step n+1 on the host while
    # step n runs (vLLM async_scheduling), so host work overlaps the device (serve.step)
