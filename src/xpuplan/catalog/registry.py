"""The hardware catalog as validated specs, looked up by id or alias.

`hardware_catalog()` builds (once per set of user files) every ChipSpec and InstanceSpec;
unknown names raise UnknownNameError with the closest known names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

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

PRICE_TERMS = ("on_demand", "capacity_block", "commit_1y", "commit_3y", "spot")


@dataclass(frozen=True)
class HardwareCatalog:
    """Every known chip and instance, by id, with an alias index."""

    chips: dict[str, ChipSpec]
    instances: dict[str, InstanceSpec]

    def chip(self, name: str) -> ChipSpec:
        """The chip named by id or alias (case-insensitive)."""
        return self.chips[_resolve(name, self.chips, "chip")]

    def instance(self, name: str) -> InstanceSpec:
        return self.instances[_resolve(name, self.instances, "instance")]

    def instances_for(self, chip_id: str) -> list[InstanceSpec]:
        return [i for i in self.instances.values() if i.chip == chip_id]

    def cheapest_instance(self, chip_id: str, term: str = "on_demand") -> InstanceSpec | None:
        """The instance with the lowest per-chip price under `term`, or None if none priced."""
        if term not in PRICE_TERMS:
            raise SpecError("price_term", term, f"allowed: {', '.join(PRICE_TERMS)}")
        priced = [i for i in self.instances_for(chip_id) if i.usd_per_chip_s(term) is not None]
        return min(priced, key=lambda i: i.usd_per_chip_s(term)) if priced else None

    def price_for(self, chip_id: str, term: str = "on_demand") -> tuple[InstanceSpec, str] | None:
        """The cheapest instance under `term`, else under the next term of PRICE_TERMS that has
        one (on-demand, capacity block, 1y, 3y, spot), with the term used; None if unpriced."""
        for t in (term, *[t for t in PRICE_TERMS if t != term]):
            instance = self.cheapest_instance(chip_id, t)
            if instance is not None:
                return instance, t
        return None


def _resolve(name: str, specs: dict, kind: str) -> str:
    key = name.strip().lower()
    if key in specs:
        return key
    for spec_id, spec in specs.items():
        if key in (a.lower() for a in spec.aliases):
            return spec_id
    known = list(specs) + [a for s in specs.values() for a in s.aliases]
    raise UnknownNameError(kind, name, known)


def _build(record: Record, cls: type):
    for key, value in record.facts.items():
        problem = out_of_bounds(key, value) if isinstance(value, (int, float)) else None
        if problem and not isinstance(value, bool):
            raise CatalogError(record.file, f"{record.id}.{key}",
                               f"value {short_repr(value)} {problem}")
    try:
        return cls(**record.facts, **record.figures, sources=record.sources)
    except ValidationError as exc:
        loc, problem = validation_problem(exc)
        raise CatalogError(record.file, f"{short_repr(record.id)}.{loc}", problem) from None


@lru_cache(maxsize=8)
def _catalog(paths: tuple[Path, ...], stamps: tuple) -> HardwareCatalog:
    """The catalog of these files; `stamps` (mtime, size, inode of each) keys the cache so a
    file edited in place is read again."""
    chips = {k: _build(r, ChipSpec) for k, r in read_records("chip", list(paths)).items()}
    instances = {}
    for key, record in read_records("instance", list(paths)).items():
        spec = _build(record, InstanceSpec)
        if spec.chip not in chips:
            raise CatalogError(record.file, f"{record.id}.chip",
                               f"names chip '{spec.chip}', which is not in the catalog")
        instances[key] = spec
    return HardwareCatalog(chips=chips, instances=instances)


def hardware_catalog(user_files: list[str] | None = None) -> HardwareCatalog:
    """The built-in catalog with the user's files (XPUPLAN_CATALOG, then `user_files`) on top."""
    paths = tuple(user_catalog_paths(user_files))
    return _catalog(paths, tuple(_stamp(p) for p in paths))


def _stamp(path: Path) -> tuple:
    """(mtime_ns, size, inode) of a file, or None where it cannot be read (the loader says)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
