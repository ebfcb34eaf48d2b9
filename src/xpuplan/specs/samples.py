"""Samples: the named sample axis of the evaluators (intervals, calibration grids).

A `Samples` holds S values of each of a few named fitted parameters (the stack's
`compute_scale`, ...), one array of shape (S,) per name. Column s means: the problem with
each named parameter replaced by its value in sample s, everything else unchanged.

The axis convention, declared here once: an evaluator given layouts of shape (L,) and no
samples returns every per-configuration array with shape (L,); given `Samples` of size S, with
shape (L, S), layouts on axis 0 and samples on axis 1. An (S,) array is never broadcast
against the (L,) layouts: fitted parameters are plain floats (hardware.efficiency checks),
and per-sample values travel only in a `Samples`.

Inside, an evaluator runs the L·S pairs as one flat (L·S,) array of configurations, layout
l's S samples contiguous (`pair_layouts`, `paired_values`), and `by_sample` folds its result
back to (L, S).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Self, TypeVar

import numpy as np

from xpuplan.errors import SpecError


class _Configs(Protocol):
    def __len__(self) -> int: ...
    def take(self, index: Any) -> Self: ...


C = TypeVar("C", bound=_Configs)  # Layouts or ServeLayouts
R = TypeVar("R")  # an evaluator's dataclass result (TrainEval, ServeEval)


class Samples:
    """S values of each named parameter, arrays of shape (S,): the sample axis (module doc)."""

    __slots__ = ("_values",)

    def __init__(self, **values: object):
        if not values:
            raise SpecError("samples", values, "give at least one named parameter")
        arrays: dict[str, np.ndarray] = {}
        for name, value in values.items():
            a = np.array(value, dtype=np.float64)
            if a.ndim != 1 or a.size == 0:
                raise SpecError(f"samples.{name}", value,
                                "must be a non-empty 1-D array (one value per sample)")
            if not np.isfinite(a).all():
                raise SpecError(f"samples.{name}", value, "must be finite")
            a.setflags(write=False)
            arrays[name] = a
        sizes = {len(a) for a in arrays.values()}
        if len(sizes) > 1:
            raise SpecError("samples", {k: len(a) for k, a in arrays.items()},
                            "every parameter needs the same number of samples")
        self._values = arrays

    def __len__(self) -> int:
        return len(next(iter(self._values.values())))

    def __getitem__(self, name: str) -> np.ndarray:
        return self._values[name]

    def __repr__(self) -> str:
        return f"Samples(n={len(self)}, names={list(self._values)})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._values)

    def check_names(self, allowed: Iterable[str]) -> None:
        """Raise a SpecError for a parameter the evaluator cannot sample."""
        allowed = tuple(allowed)
        for name in self._values:
            if name not in allowed:
                raise SpecError("samples", name, f"allowed: {', '.join(allowed)}")

    def value(self, name: str, point: float, n_layouts: int) -> float | np.ndarray:
        """Parameter `name` per flat configuration, shape (L·S,) (sample index fastest), or
        the point value `point` when it is not sampled."""
        return np.tile(self._values[name], n_layouts) if name in self._values else point


def pair_layouts(layouts: C, n_samples: int) -> C:
    """Layouts (L,) as the flat (L·S,) configurations: each repeated S times in a row; a single
    layout stays as it is (length 1 pairs with every sample elementwise)."""
    if len(layouts) == 1:
        return layouts
    return layouts.take(np.repeat(np.arange(len(layouts)), n_samples))


def by_sample(result: R, layouts: _Configs, samples: Samples) -> R:
    """An evaluator's dataclass result over the flat (L·S,) configurations folded to (L, S):
    each array field (and each array in a dict field) reshaped, `layouts` restored to the
    (L,) ones, `samples` recorded."""
    L, S = len(layouts), len(samples)

    def fold(v):
        if isinstance(v, np.ndarray | float | np.floating):
            return np.broadcast_to(v, (L * S,)).reshape(L, S)
        if isinstance(v, Mapping):
            return {k: fold(x) for k, x in v.items()}
        return v

    fields = dataclasses.fields(result)  # type: ignore[arg-type]
    changes = {f.name: fold(getattr(result, f.name)) for f in fields
               if f.name not in ("layouts", "samples")}
    return dataclasses.replace(result, layouts=layouts, samples=samples,  # type: ignore[type-var]
                               **changes)
