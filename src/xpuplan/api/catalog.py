"""API: the catalog (chips, instances, models) and a model's sizes and FLOPs."""

from __future__ import annotations

import os

from xpuplan.catalog.hardware import user_catalog_paths
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.models import ModelEntry, model_entries
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.specs.bounds import check
from xpuplan.specs.hardware import ChipSpec, InstanceSpec
from xpuplan.specs.model import ModelSpec
from xpuplan.workload.summary import ModelSummary, summarize

DEFAULT_SEQ_LEN = 4096  # sequence length for per-token FLOPs when none is given


def chips(catalog_files: list[str] | None = None) -> list[ChipSpec]:
    """Every chip in the catalog, in catalog order."""
    return list(hardware_catalog(catalog_files).chips.values())


def chip(name: str, catalog_files: list[str] | None = None) -> ChipSpec:
    """One chip by id or alias ('h100', 'trainium2', 'trillium', 'ironwood')."""
    return hardware_catalog(catalog_files).chip(name)


def catalog_paths(catalog_files: list[str] | None = None) -> list:
    """The user catalog files a call reads: $XPUPLAN_CATALOG's, then `catalog_files`."""
    return user_catalog_paths(catalog_files)


def instances(catalog_files: list[str] | None = None) -> list[InstanceSpec]:
    return list(hardware_catalog(catalog_files).instances.values())


def instance(name: str, catalog_files: list[str] | None = None) -> InstanceSpec:
    return hardware_catalog(catalog_files).instance(name)


def models() -> list[ModelEntry]:
    """The built-in models with their published sizes and sources."""
    return list(model_entries().values())


def load_model(source: str | os.PathLike) -> ModelSpec:
    """A model from a built-in name, a config.json path or folder, or a Hugging Face id."""
    return _load_model(source)


def model_summary(source: str | os.PathLike | ModelSpec,
                  seq_len: int = DEFAULT_SEQ_LEN) -> ModelSummary:
    """Parameters, FLOPs per token and weight bytes of a model."""
    check("seq_len", seq_len)
    m = source if isinstance(source, ModelSpec) else _load_model(source)
    return summarize(m, seq_len)


def chip_figures(c: ChipSpec) -> dict:
    """A chip as JSON: id, facts, and each figure as {value, unit, source}."""
    units = {"bf16_dense_flops": "FLOP/s", "fp8_dense_flops": "FLOP/s",
             "fp4_dense_flops": "FLOP/s", "int8_dense_ops": "OP/s", "hbm_bytes": "B",
             "hbm_bw": "B/s", "scaleup_bw_unidir": "B/s", "scaleout_bw_unidir": "B/s",
             "tdp_w": "W"}
    figures = {f: {"value": getattr(c, f), "unit": u, "source": c.sources.get(f, c.source)}
               for f, u in units.items() if getattr(c, f) is not None}
    facts = c.model_dump(exclude=set(units) | {"sources"})
    return {**facts, "figures": figures}
