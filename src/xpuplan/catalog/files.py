"""Read input files safely: regular files only, bounded size, UTF-8, bounded nesting and aliases.

Every file a user names (config.json, catalog TOML/YAML, scenario YAML) goes through here, so
a FIFO, a directory or /dev/zero is refused before it is read, a binary or UTF-16 file gives
one clear line, and a parsed document is checked once for nesting depth, value count (after
YAML alias expansion, which stops alias bombs) and non-finite or oversized numbers. Limits:
data/bounds.toml [files]. Errors come from `error(problem)`, so each caller keeps its type.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from xpuplan.errors import XpuplanError
from xpuplan.limits import file_limit
from xpuplan.specs.bounds import bound_for

ErrorFactory = Callable[[str], XpuplanError]


def read_text(path: Path, error: ErrorFactory) -> str:
    """The file's text: a regular file of at most max_bytes, decoded as UTF-8 (BOM allowed)."""
    limit = file_limit("max_bytes")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"cannot read file ({exc.strerror})") from None
    except ValueError:  # a NUL byte in the path
        raise error("cannot read file (the path contains a NUL byte)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error("not a regular file (a directory, device, FIFO or socket)")
        if info.st_size > limit:
            raise error(f"file is {info.st_size:,} bytes; at most {limit:,} allowed")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read file ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"file is over {limit:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "save it as UTF-8") from None


def parse_json(text: str, error: ErrorFactory) -> Any:
    """JSON without NaN/Infinity, with bounded nesting and integer size."""
    def refuse(constant: str):
        raise error(f"not valid JSON: {constant} is not a JSON number")

    try:
        data = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise error(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (RecursionError, ValueError) as exc:  # deep nesting, ints past Python's digit limit
        raise error(f"not valid JSON ({_reason(exc)})") from None
    check_document(data, error)
    return data


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and refuses more than max_yaml_aliases."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases = getattr(self, "aliases", 0) + 1
            if self.aliases > file_limit("max_yaml_aliases"):
                raise yaml.YAMLError(f"more than {file_limit('max_yaml_aliases')} YAML aliases")
        return super().compose_node(parent, index)


def parse_table(text: str, suffix: str, error: ErrorFactory) -> Any:
    """TOML (suffix .toml) or YAML text, parsed and checked like `parse_json`."""
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        else:
            loader = _BoundedLoader(text)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)  # YAML errors carry the failing position
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"not valid {suffix[1:] or 'yaml'}: {problem}{where}") from None
    except (RecursionError, ValueError, OverflowError) as exc:
        raise error(f"not valid {suffix[1:] or 'yaml'} ({_reason(exc)})") from None
    check_document(data, error)
    return data


def check_document(data: Any, error: ErrorFactory) -> None:
    """Nesting <= max_nesting, values <= max_nodes (aliases expanded, cycles refused), and
    every number finite and within the generic bound."""
    max_depth, max_nodes = file_limit("max_nesting"), file_limit("max_nodes")
    generic = bound_for("generic")
    count = 0
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        count += 1
        if count > max_nodes:
            raise error(f"more than {max_nodes:,} values (YAML aliases expanded)")
        if depth > max_depth:
            raise error(f"{where or 'document'}: nested more than {max_depth} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1, f"{where}.{k}" if where else str(k))
                         for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, bool) or not isinstance(node, (int, float)):
            continue
        elif isinstance(node, float) and not math.isfinite(node):
            raise error(f"{where}: {node} is not a finite number")
        elif not generic.lo <= node <= generic.hi:
            shown = f"{node:.3g}" if isinstance(node, float) else (
                f"an integer of {len(str(abs(node)))} digits" if node.bit_length() < 4000
                else "an integer of over 1,000 digits")
            raise error(f"{where}: {shown} is out of range ({generic.allowed()})")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return "an integer has too many digits" if "digits" in text else text[:120]


def load_json_file(path: Path, error: ErrorFactory) -> Any:
    """Parsed JSON of a file; read and syntax errors come from `error`."""
    return parse_json(read_text(path, error), error)


def load_table_file(path: Path, error: ErrorFactory) -> Any:
    """Parsed TOML or CSV table of a file (by suffix); errors come from `error`."""
    return parse_table(read_text(path, error), path.suffix, error)
