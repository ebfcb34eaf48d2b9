"""Every number inside a result's nested dicts and lists, for tests that check the
explanation quotes the same figures as the tables."""

from __future__ import annotations


def numbers_in(obj) -> list[float]:
    """Every int or float (not bool) found anywhere inside `obj`."""
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in numbers_in(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in numbers_in(v)]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return [float(obj)]
    return []
