"""The hardware catalog as validated specs, looked up by id or alias.

`hardware_catalog()` builds (once per set of user files) every ChipSpec, SystemSpec and
InstanceSpec. A chip is silicon; it is always handed out seen inside a system (`chip()`):
a chip name resolves to the chip in its default system, a system name (`trn2-ultraserver`,
`gb200-nvl72`) to its chip in that system. A chip with no systems.toml record gets an implicit
system from its own fabric keys; fabric keys on a chip record that has a system override that
system's (older catalogs). Unknown names raise UnknownNameError with the closest known names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from xpuplan.catalog.data import file_stamp
from xpuplan.catalog.hardware import read_records, user_catalog_paths
from xpuplan.catalog.records import Record
from xpuplan.errors import (
    CatalogError,
    SpecError,
    UnknownNameError,
    short_repr,
    validation_problem,
)
from xpuplan.specs.bounds import out_of_bounds
from xpuplan.specs.hardware import ChipSpec, InstanceSpec
from xpuplan.specs.system import SystemSpec


class PriceTerm(StrEnum):
    """Price basis of an instance: on demand, a capacity block, a 1 or 3 year commit, spot."""
    on_demand = "on_demand"
    capacity_block = "capacity_block"
    commit_1y = "commit_1y"
    commit_3y = "commit_3y"
    spot = "spot"


PRICE_TERMS = tuple(t.value for t in PriceTerm)  # the fallback order of `cheapest`
FABRIC_FIELDS = ("scaleup_fabric", "scaleup_bw_unidir", "scaleout_fabric", "scaleout_bw_unidir")


@dataclass(frozen=True)
class HardwareCatalog:
    """Every known chip (in its default system), system and instance, by id."""

    chips: dict[str, ChipSpec]
    instances: dict[str, InstanceSpec]
    systems: dict[str, SystemSpec]
    views: dict[str, ChipSpec]  # system id -> its chip seen inside it

    def chip(self, name: str) -> ChipSpec:
        """The chip named by id or alias (in its default system), or the chip of the system
        named by id or alias (in that system); case-insensitive."""
        try:
            return self.chips[_resolve(name, self.chips, "chip")]
        except UnknownNameError:
            key = _find(name, self.systems)
            if key is None:
                known = [*_names(self.chips), *_names(self.systems)]
                raise UnknownNameError("chip", name, known) from None
            return self.views[key]

    def system(self, name: str) -> SystemSpec:
        """A system by id or alias, or a chip's default system by the chip's name."""
        key = _find(name, self.systems)
        return self.systems[key] if key is not None else system_of(self.chip(name))

    def instance(self, name: str) -> InstanceSpec:
        return self.instances[_resolve(name, self.instances, "instance")]

    def instances_for(self, chip_id: str, system_id: str | None = None) -> list[InstanceSpec]:
        """Instances of the chip that rent `system_id` (default: the chip's default system).
        An instance belongs to the system that names it, else to its chip's default system."""
        default = system_of(self.chips[chip_id]).id
        system_id = system_id or default
        named = {s.instance: s.id for s in self.systems.values() if s.instance}
        return [i for i in self.instances.values()
                if i.chip == chip_id and named.get(i.id, default) == system_id]

    def cheapest_instance(self, chip_id: str, term: str = "on_demand",
                          system_id: str | None = None) -> InstanceSpec | None:
        """The instance with the lowest per-chip price under `term`, or None if none priced."""
        if term not in PRICE_TERMS:
            raise SpecError("price_term", term, f"allowed: {', '.join(PRICE_TERMS)}")
        priced = [(usd, i) for i in self.instances_for(chip_id, system_id)
                  if (usd := i.usd_per_chip_s(term)) is not None]
        return min(priced, key=lambda p: p[0])[1] if priced else None

    def price_for(self, chip_id: str, term: str = "on_demand",
                  system_id: str | None = None) -> tuple[InstanceSpec, str] | None:
        """The cheapest instance under `term`, else under the next term of PRICE_TERMS that has
        one (on-demand, capacity block, 1y, 3y, spot), with the term used; None if unpriced."""
        for t in (term, *[t for t in PRICE_TERMS if t != term]):
            instance = self.cheapest_instance(chip_id, t, system_id)
            if instance is not None:
                return instance, t
        return None


def system_of(chip: ChipSpec) -> SystemSpec:
    """The system a catalog chip is seen in (`_catalog` builds every view inside one)."""
    assert chip.system is not None, chip.id  # an internal invariant, not user input
    return chip.system


def _find(name: str, specs: dict) -> str | None:
    key = name.strip().lower()
    if key in specs:
        return key
    return next((spec_id for spec_id, spec in specs.items()
                 if key in (a.lower() for a in spec.aliases)), None)


def _names(specs: dict) -> list[str]:
    return list(specs) + [a for s in specs.values() for a in s.aliases]


def _resolve(name: str, specs: dict, kind: str) -> str:
    key = _find(name, specs)
    if key is None:
        raise UnknownNameError(kind, name, _names(specs))
    return key


def _build(record: Record, cls: type, **extra):
    for key, value in record.facts.items():
        problem = out_of_bounds(key, value) if isinstance(value, (int, float)) else None
        if problem and not isinstance(value, bool):
            raise CatalogError(record.file, f"{record.id}.{key}",
                               f"value {short_repr(value)} {problem}")
    try:
        return cls(**record.facts, **record.figures, sources=record.sources, **extra)
    except ValidationError as exc:
        loc, problem = validation_problem(exc)
        where = f"{short_repr(record.id)}.{loc}" if loc else short_repr(record.id)
        raise CatalogError(record.file, where, problem) from None


def implicit_system(chip: ChipSpec) -> SystemSpec:
    """The system a chip record describes with its own fabric keys (no systems.toml record)."""
    topology = {"torus2d": "torus", "torus3d": "torus"}.get(chip.scaleup_topology or "switch",
                                                            chip.scaleup_topology or "switch")
    return SystemSpec(
        id=chip.id, name=chip.name, chip=chip.id, domain_chips=chip.scaleup_domain_chips or 1,
        topology=topology, scaleup_fabric=chip.scaleup_fabric,
        scaleup_bw_unidir=chip.scaleup_bw_unidir, scaleout_fabric=chip.scaleout_fabric,
        scaleout_bw_unidir=chip.scaleout_bw_unidir, default=True, implicit=True,
        source=chip.source, retrieved=chip.retrieved, confidence=chip.confidence,
        sources={f: chip.sources[f] for f in FABRIC_FIELDS if f in chip.sources})


def _overlay(system: SystemSpec, chip: ChipSpec) -> SystemSpec:
    """The system with the chip record's own fabric keys on top (per-link figures rescaled to
    a new per-chip bandwidth; a new domain size drops the torus shape)."""
    update = {f: getattr(chip, f) for f in FABRIC_FIELDS if getattr(chip, f)}
    if chip.scaleup_domain_chips and chip.scaleup_domain_chips != system.domain_chips:
        update.update(domain_chips=chip.scaleup_domain_chips, torus_dims=(),
                      axis_link_bw_unidir=(), topology="switch" if system.topology == "torus"
                      else system.topology)
    if chip.scaleup_topology in ("switch", "full_mesh", "ring"):
        update["topology"] = chip.scaleup_topology
        update["torus_dims"] = ()
    new_bw, old_bw = update.get("scaleup_bw_unidir"), system.scaleup_bw_unidir
    if new_bw and old_bw and new_bw != old_bw:
        scale = new_bw / old_bw
        update["axis_link_bw_unidir"] = tuple(b * scale for b in system.axis_link_bw_unidir)
        if system.link_bw_unidir:
            update["link_bw_unidir"] = system.link_bw_unidir * scale
    if not update:
        return system
    sources = {**system.sources, **{f: chip.sources.get(f, chip.source) for f in update
                                    if f in FABRIC_FIELDS}}
    return SystemSpec(**{**system.model_dump(), **update, "sources": sources})


def chip_in_system(chip: ChipSpec, system: SystemSpec) -> ChipSpec:
    """The chip seen inside the system: the fields evaluators read, filled from the system."""
    sources = {**{f: system.sources.get(f, system.source) for f in FABRIC_FIELDS
                  if getattr(system, f) is not None}, **chip.sources}
    return chip.model_copy(update={
        "scaleup_fabric": system.scaleup_fabric, "scaleup_topology": system.topology,
        "scaleup_bw_unidir": system.scaleup_bw_unidir,
        "scaleup_domain_chips": system.domain_chips, "scaleout_fabric": system.scaleout_fabric,
        "scaleout_bw_unidir": system.scaleout_bw_unidir, "sources": sources, "system": system})


def _systems(chips: dict[str, ChipSpec], paths: list[Path]) -> dict[str, SystemSpec]:
    """Every system by id: systems.toml and the user's, then implicit ones; one default each."""
    systems: dict[str, SystemSpec] = {}
    for key, record in read_records("system", paths).items():
        spec = _build(record, SystemSpec)
        chip_key = _find(spec.chip, chips)
        if chip_key is None:
            raise CatalogError(record.file, f"{record.id}.chip",
                               f"names chip '{spec.chip}', which is not in the catalog")
        systems[key] = spec.model_copy(update={"chip": chip_key})
    for chip_id, chip in chips.items():
        own = [s for s in systems.values() if s.chip == chip_id]
        if not own:
            systems[chip_id] = implicit_system(chip)
            continue
        default = next((s for s in own if s.default), own[0])
        systems[default.id.lower()] = _overlay(default.model_copy(update={"default": True}), chip)
        for s in own:
            if s.id != default.id and s.default:
                systems[s.id.lower()] = s.model_copy(update={"default": False})
    return systems


@lru_cache(maxsize=8)
def _catalog(paths: tuple[Path, ...], stamps: tuple) -> HardwareCatalog:
    """The catalog of these files; `stamps` (mtime, size, inode of each) keys the cache so a
    file edited in place is read again."""
    silicon = {k: _build(r, ChipSpec) for k, r in read_records("chip", list(paths)).items()}
    systems = _systems(silicon, list(paths))
    views = {k: chip_in_system(silicon[s.chip], s) for k, s in systems.items()}
    chips = {c: next(views[k] for k, s in systems.items() if s.chip == c and s.default)
             for c in silicon}
    instances = {}
    for key, record in read_records("instance", list(paths)).items():
        spec = _build(record, InstanceSpec)
        chip_key = _find(spec.chip, chips)
        system_key = _find(spec.chip, systems)
        if chip_key is None and system_key is None:
            raise CatalogError(record.file, f"{record.id}.chip",
                               f"names chip '{spec.chip}', which is not in the catalog")
        owner = chip_key if chip_key is not None else systems[str(system_key)].chip
        instances[key] = spec.model_copy(update={"chip": owner})
    for s in systems.values():
        if s.instance and s.instance.lower() not in instances:
            raise CatalogError("systems", f"{s.id}.instance",
                               f"names instance '{s.instance}', which is not in the catalog")
    return HardwareCatalog(chips=chips, instances=instances, systems=systems, views=views)


def hardware_catalog(user_files: list[str] | None = None) -> HardwareCatalog:
    """The built-in catalog with the user's files (XPUPLAN_CATALOG, then `user_files`) on top."""
    paths = tuple(user_catalog_paths(user_files))
    return _catalog(paths, tuple(file_stamp(p) for p in paths))
