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
    # A static KV cache of this many tokens per decode slot that decode attention reads whole
    # (JetStream's max_cache_length / max_target_length: serve/static_cache.py); None: the
    # engine pages its cache and reads the context held.
    kv_cache_tokens: int | None = None
