"""Chip, system and instance records: the shipped catalog plus a user's own files on top.

Shipped: `xpuplan/data/chips.toml` ([[chip]]), `systems.toml` ([[system]]) and `instances.toml`
([[instance]]). A user adds or overrides records with a TOML/YAML file holding `chips:`,
`systems:` and/or `instances:` lists (or [[chip]]/[[system]]/[[instance]] tables), named by
`--catalog PATH` or the XPUPLAN_CATALOG environment variable (several paths joined by the OS
path separator). A user record whose id is already
known replaces only the keys it gives, each new figure carrying the user's source.
"""

from __future__ import annotations

import os
from pathlib import Path

from xpuplan.catalog.data import builtin_file, data_table, user_table
from xpuplan.catalog.records import FigureKind, Record, parse_record
from xpuplan.errors import CatalogError, short_repr

CATALOG_ENV = "XPUPLAN_CATALOG"

CHIP_FACTS = {"id", "aliases", "vendor", "family", "name", "year", "scaleup_fabric",
              "scaleup_topology", "scaleup_domain_chips", "scaleout_fabric", "cores_per_chip",
              "logical_core_size",
              "source", "retrieved", "confidence", "notes"}
CHIP_FIGURES = (
    FigureKind("bf16_dense_flops", "bf16_dense", "flops"),
    FigureKind("fp8_dense_flops", "fp8_dense", "flops"),
    FigureKind("fp4_dense_flops", "fp4_dense", "flops"),
    FigureKind("int8_dense_ops", "int8_dense", "flops"),
    FigureKind("hbm_bytes", "hbm", "bytes"),
    FigureKind("hbm_bw", "hbm", "bytes_per_s"),
    FigureKind("scaleup_bw_unidir", "scaleup", "bytes_per_s", directional=True),
    FigureKind("scaleout_bw_unidir", "scaleout", "bytes_per_s", directional=True),
    FigureKind("tdp_w", "tdp", "watts"),
)
INSTANCE_FACTS = {"id", "aliases", "provider", "chip", "chips", "region", "price_date",
                  "source", "retrieved", "confidence", "notes"}
INSTANCE_FIGURES = (
    FigureKind("on_demand_usd_per_s", "on_demand", "usd_per_s"),
    FigureKind("commit_1y_usd_per_s", "commit_1y", "usd_per_s"),
    FigureKind("commit_3y_usd_per_s", "commit_3y", "usd_per_s"),
    FigureKind("spot_usd_per_s", "spot", "usd_per_s"),
    FigureKind("capacity_block_usd_per_s", "capacity_block", "usd_per_s"),
    FigureKind("network_bw", "network", "bytes_per_s"),
)
SYSTEM_FACTS = {"id", "aliases", "name", "chip", "chips_per_node", "domain_chips", "topology",
                "torus_dims", "torus_wrap_unit", "links_per_chip", "scaleup_fabric",
                "scaleout_fabric", "instance", "default", "source", "retrieved", "confidence",
                "notes"}
SYSTEM_FIGURES = (
    FigureKind("link_bw_unidir", "link", "bytes_per_s", directional=True),
    FigureKind("axis_link_bw_unidir", "axis_link", "bytes_per_s", directional=True),
    FigureKind("scaleup_bw_unidir", "scaleup", "bytes_per_s", directional=True),
    FigureKind("scaleout_bw_unidir", "scaleout", "bytes_per_s", directional=True),
    FigureKind("system_power_w", "system_power", "watts"),
    FigureKind("chip_power_w", "chip_power", "watts"),
)
SECTIONS = {"chip": ("chip", "chips"), "system": ("system", "systems"),
            "instance": ("instance", "instances")}
KINDS = {"chip": (CHIP_FACTS, CHIP_FIGURES), "system": (SYSTEM_FACTS, SYSTEM_FIGURES),
         "instance": (INSTANCE_FACTS, INSTANCE_FIGURES)}
# Sections of the same user files that catalog/economics.py reads (owned-system costs go under
# owned_system, since system/systems here are hardware systems).
ECONOMICS_SECTIONS = ("owned_system", "facility", "deal", "gw_cost", "cost_of_capital",
                      "owned_cost", "reported_margin", "price_trend")


def user_catalog_paths(explicit: list[str] | None = None) -> list[Path]:
    """User catalog files: the XPUPLAN_CATALOG paths, then any given explicitly."""
    env = [p for p in os.environ.get(CATALOG_ENV, "").split(os.pathsep) if p]
    return [Path(p) for p in env + list(explicit or [])]


def read_records(kind: str, user_paths: list[Path]) -> dict[str, Record]:
    """All records of one kind ('chip', 'system' or 'instance') by id, built-in first, users
    on top."""
    facts, figures = KINDS[kind]
    records: dict[str, Record] = {}
    builtin = f"{kind}s.toml"
    tables = [(builtin_file(builtin), data_table(builtin))]
    for path, data in tables + [(p, user_table(p)) for p in user_paths]:
        unknown = set(data) - {s for pair in SECTIONS.values() for s in pair} - set(
            ECONOMICS_SECTIONS)
        if unknown:
            raise CatalogError(str(path), sorted(unknown)[0], "unknown section; allowed: "
                               f"chips, systems, instances, {', '.join(ECONOMICS_SECTIONS)}")
        for section in SECTIONS[kind]:
            rows = data.get(section) or []
            if not isinstance(rows, list):
                raise CatalogError(str(path), section, "must be a list of records")
            for i, raw in enumerate(rows):
                where = f"{section}[{i}]" + (f" ({short_repr(raw.get('id'), 40)})"
                                             if isinstance(raw, dict) else "")
                record = parse_record(raw, str(path), facts, figures, where)
                if not isinstance(record.facts.get("id"), str) or not record.facts["id"]:
                    raise CatalogError(str(path), f"{where}.id", "every record needs an id "
                                       "(a non-empty string)")
                key = str(record.facts["id"]).lower()
                records[key] = records[key].merged_with(record) if key in records else record
    return records
