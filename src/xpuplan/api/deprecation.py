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
            args, old = _old_positional(fn.__name__, args, kwargs, n_pos, positional, renamed)
            old += _old_keywords(fn.__name__, kwargs, renamed, rescaled)
            if old:
                warnings.warn(f"{fn.__name__}(): {'; '.join(old)} is deprecated; pass "
                              "keyword arguments by their current names", DeprecationWarning,
                              stacklevel=2)
            return fn(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap


def _old_positional(fn_name: str, args: tuple, kwargs: dict[str, Any], n_pos: int,
                    positional: tuple[str, ...], renamed: dict[str, str]
                    ) -> tuple[tuple, list[str]]:
    """Move the arguments past the first `n_pos` into `kwargs` under their current names:
    (the positional arguments left, what was deprecated)."""
    if len(args) <= n_pos:
        return args, []
    extra = args[n_pos:]
    if len(extra) > len(positional):
        raise TypeError(f"{fn_name}() takes {n_pos + len(positional)} "
                        f"positional arguments but {len(args)} were given")
    names = [renamed.get(name, name) for name in positional[:len(extra)]]
    for name, value in zip(names, extra, strict=True):
        if name in kwargs:
            raise TypeError(f"{fn_name}() got multiple values for '{name}'")
        kwargs[name] = value
    return args[:n_pos], [f"positional {', '.join(names)}"]


def _old_keywords(name: str, kwargs: dict, renamed: dict[str, str],
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
