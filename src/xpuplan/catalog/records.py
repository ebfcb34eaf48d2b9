"""Read catalog records from TOML/YAML files and turn unit-suffixed keys into SI figures.

A record is one chip, system or instance. Its keys are either plain facts (`id`, `vendor`, `chips`)
or figures whose key names the unit the source prints (`hbm_tb_per_s`, `bf16_dense_tflops`,
`scaleup_gb_per_s_bidir`). Each figure becomes an SI value with the source it came from: the
record's `source` unless `[sources]` names one for that key. A figure without a source, a key
with an unknown unit, a value that is not a number: rejected, naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xpuplan.catalog.files import load_table_file
from xpuplan.errors import CatalogError, short_repr
from xpuplan.specs.bounds import out_of_bounds
from xpuplan.units import UNITS, unit_factor


@dataclass(frozen=True)
class FigureKind:
    """How a family of data keys maps to one SI field: `<stem>_<unit>[_<direction>]`."""

    si_field: str
    stem: str
    dimension: str  # a key of units.UNITS
    directional: bool = False  # bandwidths whose direction must be stated (_unidir/_bidir)


@dataclass
class Record:
    """One catalog record after reading: plain facts, SI figures, and each figure's source."""

    file: str
    facts: dict[str, Any]
    figures: dict[str, float | tuple[float, ...]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.facts["id"])

    def merged_with(self, override: Record) -> Record:
        """This record with the override's facts and figures on top (a user's partial edit)."""
        return Record(file=override.file, facts={**self.facts, **override.facts},
                      figures={**self.figures, **override.figures},
                      sources={**self.sources, **override.sources})


def read_table_file(path: Path) -> dict[str, Any]:
    """Parse a .toml, .yaml or .yml file into a dict, or raise CatalogError (catalog.files:
    regular files only, bounded size and nesting, UTF-8, finite numbers, YAML aliases capped)."""
    def error(problem: str) -> CatalogError:
        return CatalogError(str(path), None, problem)

    data = load_table_file(Path(path), error)
    if not isinstance(data, dict):
        raise CatalogError(str(path), None, "expected a mapping at the top level")
    return data


def parse_record(raw: dict[str, Any], file: str, plain_keys: set[str],
                 kinds: tuple[FigureKind, ...], where: str) -> Record:
    """Split a raw record into facts and SI figures; check every figure has a source."""
    if not isinstance(raw, dict):
        raise CatalogError(file, where, "each record must be a mapping of keys to values")
    extra_sources = raw.get("sources") or {}
    if not isinstance(extra_sources, dict):
        raise CatalogError(file, f"{where}.sources", "must map figure keys to sources")
    record = Record(file=file, facts={})
    for key, value in raw.items():
        if key == "sources":
            continue
        if key in plain_keys:
            record.facts[key] = value
            continue
        kind, factor = _figure_kind(key, kinds, file, where)
        source = extra_sources.get(key) or raw.get("source")
        if not source:
            raise CatalogError(file, f"{where}.{key}", "figure has no source (add `source` to "
                               "the record or `sources.<key>`)")
        number = _number(value, file, f"{where}.{key}")
        record.figures[kind.si_field] = (tuple(v * factor for v in number)
                                         if isinstance(number, tuple) else number * factor)
        figure = record.figures[kind.si_field]
        problem = (None if isinstance(figure, tuple) else out_of_bounds(kind.si_field, figure))
        if problem:
            raise CatalogError(file, f"{where}.{key}", f"value {short_repr(value)} {problem} "
                               f"(checked in SI units as {kind.si_field})")
        record.sources[kind.si_field] = str(source)
    unknown = set(extra_sources) - set(raw)
    if unknown:
        raise CatalogError(file, f"{where}.sources.{sorted(unknown)[0]}",
                           "names a figure the record does not have")
    return record


def _figure_kind(key: str, kinds: tuple[FigureKind, ...], file: str,
                 where: str) -> tuple[FigureKind, float]:
    """Match a key to the figure it holds and the factor to SI; reject unknown keys/units."""
    for kind in kinds:
        if key == kind.si_field:
            return kind, 1.0
        if not key.startswith(kind.stem + "_"):
            continue
        unit = key[len(kind.stem) + 1:]
        scale = 1.0
        if kind.directional:
            if unit.endswith("_bidir"):
                unit, scale = unit[: -len("_bidir")], 0.5  # per direction = half the total
            elif unit.endswith("_unidir"):
                unit = unit[: -len("_unidir")]
            else:
                continue
        factor = unit_factor(kind.dimension, unit)
        if factor is not None:
            return kind, factor * scale
    raise CatalogError(file, f"{where}.{key}", "unknown key or unit; allowed figures: "
                       + ", ".join(_allowed(kinds)))


def _allowed(kinds: tuple[FigureKind, ...]) -> list[str]:
    names = []
    for kind in kinds:
        units = "|".join(UNITS[kind.dimension])
        names.append(f"{kind.stem}_<{units}>" + ("_<unidir|bidir>" if kind.directional else ""))
    return names


def _number(value: Any, file: str, key: str) -> float | tuple[float, ...]:
    """A non-negative number, or a list of them (a per-axis figure) as a tuple."""
    if isinstance(value, list) and value:
        return tuple(_scalar(v, file, f"{key}[{i}]") for i, v in enumerate(value))
    return _scalar(value, file, key)


def _scalar(value: Any, file: str, key: str) -> float:
    """A non-negative number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogError(file, key, f"value {short_repr(value)} is not a number (the unit "
                           "goes in the key, e.g. hbm_gb = 80)")
    if value < 0:
        raise CatalogError(file, key, f"value {value} is negative")
    return float(value)
