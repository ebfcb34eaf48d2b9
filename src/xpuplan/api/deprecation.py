"""Old call forms of the API, kept working for a deprecation period.

The API takes its subject positionally and everything else by keyword
(`train(model, *, chip, n_chips, ...)`). `legacy_call` lets a function still accept the
positional arguments and keyword names it took before, each with a DeprecationWarning.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def legacy_call(*positional: str, renamed: dict[str, str] | None = None,
                rescaled: dict[str, tuple[str, float]] | None = None) -> Callable[[F], F]:
    """Map the old positional arguments after the subject (`positional`, old names in their
    old order), old keyword names (`renamed`, old -> new) and old keywords in another unit
    (`rescaled`, old -> (new, old units per new unit): new = old / per, e.g. ttft_ms ->
    (ttft_s, 1000)) onto the keyword-only signature, warning once per call."""
    renamed = renamed or {}
    rescaled = rescaled or {}

    def wrap(fn: F) -> F:
        params = inspect.signature(fn).parameters.values()
        n_pos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            old: list[str] = []
            if len(args) > n_pos:
                names = _positional(fn.__name__, args[n_pos:], n_pos, positional, renamed,
                                    kwargs)
                args = args[:n_pos]
                old.append(f"positional {', '.join(names)}")
            old += _keywords(fn.__name__, kwargs, renamed, rescaled)
            if old:
                warnings.warn(f"{fn.__name__}(): {'; '.join(old)} is deprecated; pass "
                              "keyword arguments by their current names", DeprecationWarning,
                              stacklevel=2)
            return fn(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap


def _positional(name: str, extra: tuple, n_pos: int, positional: tuple[str, ...],
                renamed: dict[str, str], kwargs: dict) -> list[str]:
    """Move the extra positional arguments into `kwargs` by their old names; the names."""
    if len(extra) > len(positional):
        raise TypeError(f"{name}() takes {n_pos + len(positional)} positional arguments but "
                        f"{n_pos + len(extra)} were given")
    names = [renamed.get(p, p) for p in positional[:len(extra)]]
    for key, value in zip(names, extra, strict=True):
        if key in kwargs:
            raise TypeError(f"{name}() got multiple values for '{key}'")
        kwargs[key] = value
    return names


def _keywords(name: str, kwargs: dict, renamed: dict[str, str],
              rescaled: dict[str, tuple[str, float]]) -> list[str]:
    """Rename (and rescale) the old keywords in `kwargs` in place; what was old."""
    old = []
    moves = {**{was: (now, None) for was, now in renamed.items()}, **rescaled}
    for was, (now, per) in moves.items():
        if was not in kwargs:
            continue
        if now in kwargs:
            raise TypeError(f"{name}() got both '{was}' and '{now}'")
        value = kwargs.pop(was)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        kwargs[now] = value / per if per is not None and number else value  # check() rejects
        old.append(f"'{was}' (now '{now}')" if per is None else
                   f"'{was}' (now '{now}' = {was} / {per:g})")
    return old
