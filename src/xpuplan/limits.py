"""Limits on input files and messages (data/bounds.toml [files]), read once.

The lowest layer: errors.py bounds its messages with `file_limit("max_message_chars")`, and
specs/bounds.py checks input files with the others (max_bytes, max_depth, max_yaml_aliases).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def bounds_table() -> dict[str, Any]:
    """The whole of data/bounds.toml, parsed."""
    text = (resources.files("xpuplan") / "data" / "bounds.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def file_limit(key: str) -> int:
    """A limit on input files or messages (data/bounds.toml [files]): max_bytes, ..."""
    return int(bounds_table()["files"][key])
