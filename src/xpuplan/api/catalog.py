"""API: the catalog (chips, instances, models, serving engines) and a model's sizes and FLOPs."""

from __future__ import annotations

import os

from xpuplan.api.deprecation import legacy_call
from xpuplan.catalog.hardware import user_catalog_paths
from xpuplan.catalog.hf_config import model_spec_from_config
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.model_loader import resolve_builtin
from xpuplan.catalog.models import ModelEntry, model_entries
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import SpecError
from xpuplan.hardware.stacks import default_engine, serving_engines
from xpuplan.specs.bounds import check
from xpuplan.specs.hardware import ChipSpec, InstanceSpec
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.system import SystemSpec
from xpuplan.workload.summary import ModelSummary, summarize

DEFAULT_SEQ_LEN = 4096  # sequence length for per-token FLOPs when none is given


@legacy_call("catalog_files")
def chips(*, catalog_files: list[str] | None = None) -> list[ChipSpec]:
    """Every chip in the catalog, in catalog order."""
    return list(hardware_catalog(catalog_files).chips.values())


@legacy_call("catalog_files")
def chip(name: str, *, catalog_files: list[str] | None = None) -> ChipSpec:
    """One chip by id or alias ('h100', 'trainium2', 'trillium', 'ironwood')."""
    return hardware_catalog(catalog_files).chip(name)


def engines(*, catalog_files: list[str] | None = None) -> dict[str, dict]:
    """The serving engines (`engine=`, `--engine`) of each vendor of the catalog's chips and
    the one its chips run unless told, from data/stacks.toml:
    {vendor: {"engines": [names in file order], "default": name}}, vendors in catalog order
    (a vendor without records has the fallback's)."""
    vendors = dict.fromkeys(c.vendor for c in chips(catalog_files=catalog_files))
    return {v: {"engines": list(serving_engines(v)), "default": default_engine(v)}
            for v in vendors}


@legacy_call("catalog_files")
def systems(*, catalog_files: list[str] | None = None) -> list[SystemSpec]:
    """Every system (chips joined into a scale-up domain and a scale-out fabric)."""
    return list(hardware_catalog(catalog_files).systems.values())


@legacy_call("catalog_files")
def system(name: str, *, catalog_files: list[str] | None = None) -> SystemSpec:
    """One system by id or alias ('trn2-ultraserver', 'gb200-nvl72'), or a chip's default."""
    return hardware_catalog(catalog_files).system(name)


def system_figures(s: SystemSpec) -> dict:
    """A system as JSON: its facts, and each figure as {value, unit, source}."""
    units = {"link_bw_unidir": "B/s", "scaleup_bw_unidir": "B/s", "scaleout_bw_unidir": "B/s",
             "system_power_w": "W", "chip_power_w": "W"}
    figures = {f: {"value": getattr(s, f), "unit": u, "source": s.sources.get(f, s.source)}
               for f, u in units.items() if getattr(s, f) is not None}
    if s.axis_link_bw_unidir:
        figures["axis_link_bw_unidir"] = {"value": list(s.axis_link_bw_unidir), "unit": "B/s",
                                          "source": s.sources.get("axis_link_bw_unidir",
                                                                  s.source)}
    facts = s.model_dump(exclude=set(units) | {"sources", "axis_link_bw_unidir"})
    return {**facts, "figures": figures}


def catalog_paths(catalog_files: list[str] | None = None) -> list:
    """The user catalog files a call reads: $XPUPLAN_CATALOG's, then `catalog_files`."""
    return user_catalog_paths(catalog_files)


@legacy_call("catalog_files")
def instances(*, catalog_files: list[str] | None = None) -> list[InstanceSpec]:
    """Every instance type of the catalog (built-in plus `catalog_files`)."""
    return list(hardware_catalog(catalog_files).instances.values())


@legacy_call("catalog_files")
def instance(name: str, *, catalog_files: list[str] | None = None) -> InstanceSpec:
    """One instance type by name; UnknownNameError lists the close names."""
    return hardware_catalog(catalog_files).instance(name)


def models() -> list[ModelEntry]:
    """The built-in models with their published sizes and sources."""
    return list(model_entries().values())


def load_model(source: str | os.PathLike) -> ModelSpec:
    """A model from a built-in name, a config.json path or folder, or a Hugging Face id."""
    return _load_model(source)


@legacy_call("seq_len")
def model_summary(source: str | os.PathLike | ModelSpec, *,
                  seq_len: int = DEFAULT_SEQ_LEN) -> ModelSummary:
    """Parameters, FLOPs per token and weight bytes of a model."""
    check("seq_len", seq_len)
    m = source if isinstance(source, ModelSpec) else _load_model(source)
    return summarize(m, seq_len)


def builtin_model(name: str) -> str | None:
    """The built-in model id for a name or alias, or None (a path or Hub id is not one)."""
    return resolve_builtin(name)


@legacy_call("name")
def model_from_config(raw: dict, *, name: str) -> ModelSpec:
    """A model from a parsed Hugging Face config.json (e.g. an uploaded file)."""
    if not isinstance(raw, dict):
        raise SpecError("config", type(raw).__name__, "must be a JSON object (config.json)")
    return model_spec_from_config(raw, name=name)


@legacy_call("catalog_files")
def chips_json(*, catalog_files: list[str] | None = None) -> dict:
    """What `xpuplan chips --json` prints."""
    return {"chips": [chip_figures(c) for c in chips(catalog_files=catalog_files)]}


@legacy_call("catalog_files")
def instances_json(*, catalog_files: list[str] | None = None) -> dict:
    """What `xpuplan instances --json` prints."""
    return {"instances": [_per_hour(i.model_dump())
                          for i in instances(catalog_files=catalog_files)]}


def models_json() -> dict:
    """What `xpuplan models --json` prints."""
    return {"models": [{**vars(e), "config_path": str(e.config_path)} for e in models()]}


def chip_figures(c: ChipSpec) -> dict:
    """A chip as JSON: id, facts, and each figure as {value, unit, source}."""
    units = {"bf16_dense_flops": "FLOP/s", "fp8_dense_flops": "FLOP/s",
             "fp4_dense_flops": "FLOP/s", "int8_dense_ops": "OP/s", "hbm_bytes": "B",
             "hbm_bw": "B/s", "scaleup_bw_unidir": "B/s", "scaleout_bw_unidir": "B/s",
             "tdp_w": "W"}
    figures = {f: {"value": getattr(c, f), "unit": u, "source": c.sources.get(f, c.source)}
               for f, u in units.items() if getattr(c, f) is not None}
    facts = c.model_dump(exclude=set(units) | {"sources", "system"})
    return {**facts, "system": c.system.id if c.system else None, "figures": figures}


def _per_hour(d: dict) -> dict:
    """JSON prices per hour (`*_usd_per_hour`), never per second; sources keyed the same."""
    def key(k: str) -> str:
        return k[:-len("_usd_per_s")] + "_usd_per_hour" if k.endswith("_usd_per_s") else k

    out = {key(k): (v * 3600 if k.endswith("_usd_per_s") and v is not None else v)
           for k, v in d.items()}
    out["sources"] = {key(k): v for k, v in d.get("sources", {}).items()}
    return out
