"""Number formats: bytes per element and which peak FLOP/s rate each runs at.

Element sizes are the formats' definitions (IEEE 754 for fp32/bf16/fp16; OCP 8-bit for fp8).
fp4 is NVFP4 as NVIDIA ModelOpt checkpoints store it: 4-bit E2M1 values plus one FP8 scale per
16-element block (hf_quant_config.json "group_size": 16), 0.5 + 1/16 bytes per element;
per-tensor scales of fp8 are negligible.
"""

from __future__ import annotations

from enum import StrEnum

from xpuplan.errors import SpecError


class Precision(StrEnum):
    """Numeric format of weights, activations or KV cache."""
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"


BYTES_PER_ELEMENT: dict[Precision, float] = {
    Precision.fp32: 4.0,
    Precision.bf16: 2.0,
    Precision.fp16: 2.0,
    Precision.fp8: 1.0,
    Precision.int8: 1.0,
    Precision.fp4: 0.5 + 1 / 16,
}

# The ChipSpec field holding the dense peak a matmul in this format runs at.
PEAK_FIELD: dict[Precision, str] = {
    Precision.fp32: "bf16_dense_flops",  # fp32 training keeps bf16/tf32 tensor-core matmuls
    Precision.bf16: "bf16_dense_flops",
    Precision.fp16: "bf16_dense_flops",
    Precision.fp8: "fp8_dense_flops",
    Precision.int8: "int8_dense_ops",
    Precision.fp4: "fp4_dense_flops",
}


def precision_class(p: Precision | str) -> str:
    """The GEMM format family a calibration group is keyed on: bf16, fp8 (with int8) or fp4."""
    p = Precision(p)
    return {Precision.fp8: "fp8", Precision.int8: "fp8", Precision.fp4: "fp4"}.get(p, "bf16")


def parse_precision(value: str, field: str = "precision") -> Precision:
    """A Precision from user text, or a SpecError listing the allowed names."""
    try:
        return Precision(value.lower())
    except ValueError:
        raise SpecError(field, value,
                        f"allowed: {', '.join(p.value for p in Precision)}") from None
