"""The training validation set: published runs as TrainProblems with their measured tokens/s.

`data/validation/train_measurements.csv` copies ../shared/data's development set with its
sources, plus columns converting each measurement to tokens/s per physical chip and the
layout to chip counts (see data/validation/README.md for each source's FLOP convention);
`attention_kernel` = dense marks runs whose attention materialised the S×S scores.
Rows whose model shape or layout is not published are kept in the file but skipped here,
with the reason. A row with a `remat_policy` (MaxText's preset or custom save list) is
recomputed by the share of its forward that policy recomputes (workload.remat), instead of
the nearest of none/selective/full in `recompute`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from xpuplan.catalog.data import builtin_file
from xpuplan.catalog.model_loader import load_model, resolve_builtin
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.hardware.efficiency import StackCalibration, chip_efficiency, reserved_fraction
from xpuplan.specs.layouts import Layouts
from xpuplan.specs.model import ModelSpec, MoESpec
from xpuplan.specs.precision import Precision, precision_class
from xpuplan.train.evaluate import TrainProblem
from xpuplan.workload.layer import layer_shape
from xpuplan.workload.remat import recompute_fraction

if TYPE_CHECKING:
    import pandas as pd

GPT2_BPE_VOCAB = 50257  # GPT-3 uses GPT-2's byte-level BPE (Brown et al. 2020 sec. 2.1)
PRECISION = {"fp16": "fp16", "bf16": "bf16", "fp8": "fp8", "fp8-cs": "fp8", "mxfp8": "fp8",
             "fp8-mx": "fp8", "nvfp4": "fp4", "fp4": "fp4"}
RECOMPUTE = {"full": 2, "selective": 1, "selective_op": 1, "selective_layer": 1, "minimal": 1,
             "minimal_offloaded": 1}
BUILTIN_NAMES = {"deepseek-v3": "deepseek-v3", "qwen3-235b-a22b": "qwen3-235b-a22b",
                 "qwen3-30b-a3b": "qwen3-30b-a3b"}


@dataclass(frozen=True)
class TrainRow:
    """One usable measurement: its problem, the published layout and the measured figure."""

    id: str
    source_group: str
    vendor: str
    family: str
    precision_class: str  # bf16 / fp8 / fp4: the GEMM format group
    problem: TrainProblem
    layout: Layouts
    measured_tokens_per_s_per_chip: float
    confidence: str


def _num(row, key):
    value = row.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _model(row) -> ModelSpec | None:
    name = str(row["model_name"]).lower()
    builtin = BUILTIN_NAMES.get(name) or resolve_builtin(name)
    if builtin is not None:
        return load_model(builtin)
    dims = [_num(row, k) for k in ("n_layers", "hidden", "ffn_hidden", "n_heads")]
    if any(d is None for d in dims):
        return None
    layers, hidden, ffn, heads = (int(d) for d in dims)
    kv = int(_num(row, "n_kv_heads") or heads)
    moe = None
    if row["model_family"] == "moe" and _num(row, "n_experts"):
        moe = MoESpec(n_routed_experts=int(row["n_experts"]), top_k=int(row["top_k"]),
                      expert_ffn_hidden=ffn, moe_layers=(True,) * layers)
    return ModelSpec(name=str(row["model_name"]), model_type="validation-row", n_layers=layers,
                     hidden=hidden, ffn_hidden=ffn, n_heads=heads, n_kv_heads=kv,
                     head_dim=hidden // heads, vocab=int(_num(row, "vocab") or GPT2_BPE_VOCAB),
                     tied_embeddings=False, gated_mlp=bool(row["gated_mlp"]), moe=moe)


@lru_cache(maxsize=1)
def _frame() -> pd.DataFrame:
    import pandas as pd  # lazily: only validation and calibration read the CSV tables

    return pd.read_csv(builtin_file("validation/train_measurements.csv"))


def train_rows(stack: StackCalibration | None = None) -> tuple[list[TrainRow], dict[str, str]]:
    """Usable rows (with `stack` in place of the calibrated one if given) and skip reasons."""
    cat = hardware_catalog()
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    rows, skipped = [], {}
    for row in _frame().to_dict("records"):
        model = _model(row)
        layout = [_num(row, k) for k in ("tp_chips", "pp_chips", "dp_chips")]
        batch = _num(row, "global_batch_seqs")
        if model is None:
            skipped[row["id"]] = "model shape not published"
            continue
        if any(v is None for v in layout) or batch is None:
            skipped[row["id"]] = "layout or global batch not published"
            continue
        chip = cat.chip(row["chip_id"])
        if chip.hbm_bw is None:
            skipped[row["id"]] = f"{chip.id} has no HBM bandwidth in the catalog"
            continue
        precision = Precision(PRECISION[str(row["precision"]).lower()])
        eff = chip_efficiency(chip, vendor_of, stack, precision)
        problem = TrainProblem(model=model, chip=chip, efficiency=eff,
                               n_chips=int(row["n_chips_true"]), seq_len=int(row["seq_len"]),
                               global_batch=int(batch), precision=precision,
                               reserved_bytes=reserved_fraction() * chip.hbm_bytes,
                               dense_attention=str(row.get("attention_kernel")) == "dense",
                               moe_capacity_factor=_num(row, "moe_capacity_factor"))
        problem = replace(problem, state_format=str(_num(row, "state_format") or "megatron"),
                          activation_offload_layers=int(_num(row, "cpu_offload_layers") or 0),
                          saved_input_format=str(_num(row, "saved_input_format") or "bf16"))
        zero = _num(row, "zero_stage")
        recompute = RECOMPUTE.get(str(row["recompute"]).lower(), 0)
        policy = row.get("remat_policy")
        if isinstance(policy, str) and policy:  # MaxText's save list: the share it recomputes
            recompute, fraction = 2, recompute_fraction(layer_shape(model), int(row["seq_len"]),
                                                        policy)
            problem = replace(problem, remat_policy=policy)  # and where it keeps the rest
        else:
            fraction = None
        lay = Layouts.build(tp=int(layout[0]), pp=int(layout[1]), dp=int(layout[2]),
                            cp=int(_num(row, "cp_chips") or 1), ep=int(_num(row, "ep_chips") or 1),
                            vpp=int(_num(row, "vpp") or 1),
                            micro_batch=int(_num(row, "micro_batch") or 1),
                            zero=int(zero) if zero is not None else 1,
                            recompute=recompute, recompute_fraction=fraction)
        rows.append(TrainRow(id=row["id"], source_group=row["source_group"],
                             vendor=chip.vendor, family=chip.family,
                             precision_class=precision_class(precision), problem=problem,
                             layout=lay,
                             measured_tokens_per_s_per_chip=float(row["tokens_per_s_per_chip"]),
                             confidence=str(row.get("conversion_confidence", ""))))
    return rows, skipped


def with_stack(row: TrainRow, stack: StackCalibration) -> TrainRow:
    """The same row evaluated under other stack parameters."""
    eff = replace(row.problem.efficiency, stack=stack)
    return replace(row, problem=replace(row.problem, efficiency=eff))
