"""The shipped data files, each read once: parsed, source shorthands resolved, records validated.

Every built-in file under `xpuplan/data/` (chips, systems, instances, efficiency, calibration,
stacks, economics, models, audit tables) is read through `data_table(name)`: once per process,
through catalog.files' limits (regular file, bounded size and nesting, UTF-8, finite numbers).
A user's catalog file goes through `user_table(path)` (read again once it changes on disk).
bounds.toml alone is read by `xpuplan.limits`, the layer below, since it holds those limits.

Records become pydantic models with `records` (a `[[section]]` array) or `keyed_records`
(`[section."key"]` tables); a record that does not validate is a CatalogError naming the file,
the record and the field. Each model converts the source's units to SI in one place (a
property named for the SI quantity) and keeps the record's `source`.

Source shorthands: a file may define `[source_refs]`, shorthand -> full reference. A `source`
(or a `sources.<key>` / `<key>_source` value) that opens with a shorthand and a comma, or is
the shorthand alone, reads with the reference in its place; one that opens with an undefined
shorthand (capitals joined by dashes, e.g. `MLE-XYZ,`) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from xpuplan.catalog.records import read_table_file
from xpuplan.errors import CatalogError, validation_problem

REFS = "source_refs"
_SHORTHAND = re.compile(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)(,|$)")

M = TypeVar("M", bound=BaseModel)


def builtin_file(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("xpuplan") / "data" / name))


@cache
def data_table(name: str) -> dict[str, Any]:
    """A shipped data file, parsed once, its source shorthands resolved (read-only: share it)."""
    path = builtin_file(name)
    return resolve_sources(read_table_file(path), str(path))


def user_table(path: Path) -> dict[str, Any]:
    """A user's catalog file like `data_table`: read again only once it changes on disk."""
    return _user_table(path, file_stamp(path))


@lru_cache(maxsize=32)
def _user_table(path: Path, stamp: tuple[int, int, int] | None) -> dict[str, Any]:
    return resolve_sources(read_table_file(path), str(path))


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(mtime_ns, size, inode) of a file, or None where it cannot be read (the reader says)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def resolve_sources(data: dict[str, Any], file: str) -> dict[str, Any]:
    """`data` without its `[source_refs]` table, every shorthand source spelled out."""
    refs = data.get(REFS, {})
    if not isinstance(refs, dict) or not all(isinstance(v, str) and v for v in refs.values()):
        raise CatalogError(file, REFS, "must map each shorthand to its full reference")
    return _resolve_tree({k: v for k, v in data.items() if k != REFS}, "", refs, file)


def _resolve_tree(node: Any, where: str, refs: dict[str, str], file: str) -> Any:
    """`node` (at dotted path `where`) with every `source`, `<key>_source` and `sources.<key>`
    value below it expanded."""
    if isinstance(node, list):
        return [_resolve_tree(v, f"{where}[{i}]", refs, file) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        here = f"{where}.{key}" if where else str(key)
        if key == "source" or str(key).endswith("_source"):
            out[key] = _expand_source(value, here, refs, file)
        elif key == "sources" and isinstance(value, dict):
            out[key] = {k: _expand_source(v, f"{here}.{k}", refs, file) for k, v in value.items()}
        else:
            out[key] = _resolve_tree(value, here, refs, file)
    return out


def _expand_source(value: Any, where: str, refs: dict[str, str], file: str) -> Any:
    """A source with its opening shorthand replaced by the full reference; CatalogError at
    `where` for a shorthand not in `refs`."""
    if not isinstance(value, str):
        return value
    match = _SHORTHAND.match(value)
    if match is None:
        return value
    if match[1] not in refs:
        raise CatalogError(file, where, f"source shorthand {match[1]!r} is not in "
                           f"[{REFS}] (defined: {', '.join(refs) or 'none'})")
    return refs[match[1]] + value[len(match[1]):]


def validated(model: type[M], raw: Any, file: str, where: str) -> M:
    """`raw` as a `model`, or CatalogError at `where`.<field> with pydantic's one-line reason."""
    if not isinstance(raw, dict):
        raise CatalogError(file, where, "each record must be a table of keys to values")
    try:
        return model(**raw)
    except ValidationError as exc:
        key, problem = validation_problem(exc)
        raise CatalogError(file, f"{where}.{key}" if key else where, problem) from None


@cache
def records(name: str, section: str, model: type[M]) -> tuple[M, ...]:
    """The `[[section]]` records of shipped file `name`, validated as `model` (once)."""
    rows = data_table(name).get(section, [])
    file = str(builtin_file(name))
    if not isinstance(rows, list):
        raise CatalogError(file, section, "must be a list of records ([[section]])")
    return tuple(validated(model, raw, file, f"{section}[{i}]") for i, raw in enumerate(rows))


@cache
def keyed_records(name: str, section: str, model: type[M]) -> Mapping[str, M]:
    """The `[section."key"]` records of shipped file `name` by key, validated as `model`
    (once; read-only)."""
    table = data_table(name).get(section, {})
    file = str(builtin_file(name))
    if not isinstance(table, dict):
        raise CatalogError(file, section, 'must be tables by key ([section."key"])')
    return MappingProxyType({key: validated(model, raw, file, f"{section}.{key}")
                             for key, raw in table.items()})
