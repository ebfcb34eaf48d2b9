"""Strict JSON (RFC 8259) for `--json`: no NaN or Infinity, ever.

A non-finite float becomes `null`, and the top-level object gains `null_reasons`, mapping
each such value's path (`rows[2].mfu`) to why; numpy values become plain numbers, paths and
enums their text. `json.dumps(allow_nan=False)` then guarantees the output parses with any
strict parser.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import PurePath
from typing import Any


def strict_json(obj: Any) -> str:
    """`obj` as one line of strict JSON (see module doc)."""
    reasons: dict[str, str] = {}
    clean = _clean(obj, "", reasons)
    if reasons and isinstance(clean, dict):
        clean["null_reasons"] = reasons
    return json.dumps(clean, allow_nan=False)


def _clean(x: Any, where: str, reasons: dict[str, str]) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v, f"{where}.{k}" if where else str(k), reasons)
                for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v, f"{where}[{i}]", reasons) for i, v in enumerate(x)]
    if hasattr(x, "tolist") and hasattr(x, "dtype"):  # numpy scalar or array
        return _clean(x.tolist(), where, reasons)
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        if math.isfinite(x):
            return x
        reasons[where or "value"] = (f"{x} (not finite: undefined or unbounded for this input;"
                                     " JSON has no such number)")
        return None
    if isinstance(x, Enum):
        return _clean(x.value, where, reasons)
    if isinstance(x, PurePath):
        return str(x)
    return str(x)
