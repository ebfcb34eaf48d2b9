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


def legacy_call(*positional: str, renamed: dict[str, str] | None = None) -> Callable[[F], F]:
    """Map the old positional arguments after the subject (`positional`, old names in their
    old order) and old keyword names (`renamed`, old -> new) onto the keyword-only signature,
    warning once per call."""
    renamed = renamed or {}

    def wrap(fn: F) -> F:
        params = inspect.signature(fn).parameters.values()
        n_pos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            old: list[str] = []
            if len(args) > n_pos:
                extra = args[n_pos:]
                if len(extra) > len(positional):
                    raise TypeError(f"{fn.__name__}() takes {n_pos + len(positional)} "
                                    f"positional arguments but {len(args)} were given")
                names = [renamed.get(name, name) for name in positional[:len(extra)]]
                for name, value in zip(names, extra, strict=True):
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for '{name}'")
                    kwargs[name] = value
                args = args[:n_pos]
                old.append(f"positional {', '.join(names)}")
            for was, now in renamed.items():
                if was in kwargs:
                    if now in kwargs:
                        raise TypeError(f"{fn.__name__}() got both '{was}' and '{now}'")
                    kwargs[now] = kwargs.pop(was)
                    old.append(f"'{was}' (now '{now}')")
            if old:
                warnings.warn(f"{fn.__name__}(): {'; '.join(old)} is deprecated; pass "
                              "keyword arguments by their current names", DeprecationWarning,
                              stacklevel=2)
            return fn(*args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap
