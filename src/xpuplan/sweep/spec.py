"""A sweep spec: the kind of question, its axes, and the cells they expand to.

```yaml
kind: train                 # train | infer | plan
axes:                       # train/infer: any argument of api.train / api.infer
  model: [llama-3.1-8b, llama-3.1-70b]
  chip: [h100, trn2]
  n_chips: [256, 1024]
  tokens: 1T                # a scalar is a fixed value (an axis of one)
sample:                     # optional: n random points, crossed with the grid
  n: 10
  seed: 0
  ranges: {global_batch: [512, 2048]}   # ints if both ends are ints, else floats
```

A `plan` spec names `scenario` (a built-in example or a YAML file, relative to the spec) and
varies its inputs by dotted path instead of `axes`: `vary: {training_runs_per_year: [2, 4],
vendors.1.shortfall: [0.1, 0.2]}` (list items by index); `sample.ranges` takes paths too.

Order: the grid is `itertools.product` of the axes in the order written (the first axis
varies slowest, the last fastest), and each grid point is crossed with the sample points in
the order drawn; `cell_index` counts cells in that order. Cells = prod(len(axis)) x sample.n.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from xpuplan import api
from xpuplan.errors import SpecError
from xpuplan.units import parse_count

KINDS = ("train", "infer", "plan")


def _arguments(fn, drop: tuple[str, ...]) -> tuple[str, ...]:
    """The named arguments of an API function, less `drop` (read from its signature)."""
    return tuple(n for n, p in inspect.signature(fn).parameters.items()
                 if n not in drop and p.kind is not inspect.Parameter.VAR_KEYWORD)


# The axes of each kind: every argument of its API call, plus the layout knobs it can fix.
AXES = {
    "train": _arguments(api.train, ("catalog_files",)) + api.TRAIN_KNOBS,
    "infer": _arguments(api.infer, ("catalog_files", "interval")) + tuple(
        k for k in api.SERVE_KNOBS if k != "batch"),
}
REQUIRED = {"train": ("model", "chip", "n_chips"), "infer": ("model", "chip"), "plan": ()}
RENAMED_AXES = {"chips": "n_chips"}  # deprecated axis names (before SI results) -> the API's
# deprecated axes in another unit -> (the API's, old units per new unit): ms -> s
RESCALED_AXES = {"ttft_ms": ("ttft_s", 1e3), "tpot_ms": ("tpot_s", 1e3)}
COUNT_AXES = ("tokens",)  # accept suffixes: '15T' -> 1.5e13


class Sample(BaseModel):
    """`n` random points drawn uniformly within `ranges` ([low, high] per axis or path)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n: int = Field(gt=0)
    seed: int = 0
    ranges: dict[str, tuple[int | float | str, int | float | str]] = Field(min_length=1)


class SweepSpec(BaseModel):
    """One sweep: kind, the grid (`axes`, or `vary` for plans) and an optional sample."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["train", "infer", "plan"]
    name: str = ""
    description: str = ""
    axes: dict[str, Any] = Field(default_factory=dict)
    scenario: str | None = None  # plan only: built-in example name or scenario YAML path
    vary: dict[str, Any] = Field(default_factory=dict)
    sample: Sample | None = None
    _base: dict | None = PrivateAttr(default=None)  # plan: the scenario's inputs

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        """Old axis names (RENAMED_AXES) of train/infer specs, renamed with a warning."""
        if not isinstance(data, dict) or data.get("kind") == "plan":
            return data
        def renamed(group: Any) -> Any:
            if not isinstance(group, dict):
                return group
            for old, new in RENAMED_AXES.items():
                if old in group and new not in group:
                    warnings.warn(f"sweep axis '{old}' is deprecated; use '{new}'",
                                  DeprecationWarning, stacklevel=2)
            for old, (new, per) in RESCALED_AXES.items():
                if old in group and new not in group:
                    warnings.warn(f"sweep axis '{old}' is deprecated; use '{new}' (= {old} / "
                                  f"{per:g})", DeprecationWarning, stacklevel=2)
                    group = {new if k == old else k: _per(v, per) if k == old else v
                             for k, v in group.items()}
            return {RENAMED_AXES.get(k, k) if RENAMED_AXES.get(k) not in group else k: v
                    for k, v in group.items()}

        data = {**data, "axes": renamed(data.get("axes", {}))}
        if isinstance(data.get("sample"), dict) and "ranges" in data["sample"]:
            data["sample"] = {**data["sample"], "ranges": renamed(data["sample"].get("ranges"))}
        return data

    @model_validator(mode="after")
    def _rules(self) -> SweepSpec:
        """Cross-field rules: the keys each kind allows, required axes, no empty axis."""
        if self.kind == "plan":
            self._check_plan_keys()
        else:
            self._check_axis_names()
        self._check_values()
        return self

    def _check_plan_keys(self) -> None:
        """A plan sweep varies a scenario's inputs: it has a scenario and no axes."""
        if self.axes:
            raise SpecError("axes", next(iter(self.axes)), "a plan sweep varies scenario "
                            "inputs with `vary: {path: [values]}`, not axes")
        if not self.scenario:
            raise SpecError("scenario", None, "a plan sweep needs a scenario (a built-in "
                            f"example: {', '.join(api.plan_examples())}, or a YAML file)")

    def _check_axis_names(self) -> None:
        """A train/infer sweep names only its kind's axes, and every required one."""
        for key in ("scenario", "vary"):
            if getattr(self, key):
                raise SpecError(key, getattr(self, key), f"only for kind plan, not "
                                f"{self.kind}")
        allowed = AXES[self.kind]
        names = [*self.axes, *(self.sample.ranges if self.sample else ())]
        for name in names:
            if name not in allowed:
                raise SpecError("axes", name, f"unknown {self.kind} axis; allowed: "
                                f"{', '.join(allowed)}")
        for name in REQUIRED[self.kind]:
            if name not in names:
                raise SpecError("axes", name, f"required for {self.kind} (give it as a "
                                "list of values or one value)")

    def _check_values(self) -> None:
        """No empty axis; a sampled range is [low, high] numbers, not also on the grid."""
        group = "vary" if self.kind == "plan" else "axes"
        for name, values in self.grid.items():
            if values == []:
                raise SpecError(f"{group}.{name}", [], "an axis needs at least one value")
        for name, (low, high) in (self.sample.ranges.items() if self.sample else ()):
            if name in self.grid:
                raise SpecError(f"sample.ranges.{name}", [low, high],
                                f"{name} is also in {group}; give it in one place")
            low, high = _value(name, low), _value(name, high)
            if isinstance(low, str) or isinstance(high, str) or not low <= high:
                raise SpecError(f"sample.ranges.{name}", [low, high], "must be two numbers "
                                "[low, high] with low <= high")

    @property
    def grid(self) -> dict[str, list]:
        """Axis (or path) -> its values, scalars as one-value lists, in the order written."""
        raw = self.vary if self.kind == "plan" else self.axes
        return {k: [_value(k, x) for x in (v if isinstance(v, list) else [v])]
                for k, v in raw.items()}

    @property
    def base(self) -> dict | None:
        """The scenario's inputs (plan), with defaults filled in; None for train/infer."""
        return self._base

    def n_cells(self) -> int:
        """prod(len(axis)) x sample.n, without expanding."""
        return math.prod(len(v) for v in self.grid.values()) * (self.sample.n if self.sample
                                                                else 1)

    def cells(self) -> Iterator[dict]:
        """Yield each cell's inputs (axis or path -> value) in the stated order."""
        grid = self.grid
        points = self._sample_points()
        for combo in itertools.product(*grid.values()):
            for point in points:
                yield {**dict(zip(grid, combo, strict=True)), **point}

    def _sample_points(self) -> list[dict]:
        """The sampled points, drawn column by column in the order the ranges are written."""
        if self.sample is None:
            return [{}]
        rng = np.random.default_rng(self.sample.seed)
        columns: dict[str, list[int] | list[float]] = {}
        for name, (low, high) in self.sample.ranges.items():
            low, high = _value(name, low), _value(name, high)
            if isinstance(low, int) and isinstance(high, int):
                columns[name] = [int(x) for x in rng.integers(low, high + 1, self.sample.n)]
            else:
                columns[name] = [float(x) for x in rng.uniform(low, high, self.sample.n)]
        return [{k: v[i] for k, v in columns.items()} for i in range(self.sample.n)]


def _per(value, per: float):
    """An axis value, list or [low, high] range in the new unit (numbers / per)."""
    if isinstance(value, (list, tuple)):
        return [_per(v, per) for v in value]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value / per if number else value


def _value(name: str, value):
    """Parse count suffixes for count axes ('15T'); other values as written."""
    if name.split(".")[-1] in COUNT_AXES and isinstance(value, str):
        return parse_count(value, name)
    return value


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a spec file; a plan spec's scenario is loaded and its paths checked."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError("spec", str(path), f"cannot read the file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SpecError("spec", str(path), f"not valid YAML: {str(exc).splitlines()[0]}"
                        ) from None
    if not isinstance(data, dict):
        raise SpecError("spec", str(path), "expected a mapping with kind and axes")
    return spec_from_dict(data, path.parent)


def spec_from_dict(data: dict, base_dir: Path | None = None) -> SweepSpec:
    """Validate a spec given as a dict; ValidationError becomes one SpecError line."""
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc) from None
    if spec.kind == "plan":
        assert spec.scenario is not None  # the plan validator requires a scenario
        spec._base = _scenario(spec.scenario, base_dir)
        names = [*spec.grid, *(spec.sample.ranges if spec.sample else ())]
        for name in names:
            check_path(spec._base, name)
    return spec


def _scenario(name: str, base_dir: Path | None) -> dict:
    if name in api.plan_examples():
        return api.scenario_inputs(example=name)
    file = Path(name) if base_dir is None or Path(name).is_absolute() else base_dir / name
    if not file.exists():
        raise SpecError("scenario", name, "neither a built-in example ("
                        f"{', '.join(api.plan_examples())}) nor an existing file")
    return api.scenario_inputs(scenario=file)


def check_path(base: dict, path: str) -> None:
    """A dotted path must lead through the scenario's inputs to a value it has."""
    node: Any = base
    parts = path.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise SpecError("vary", path, f"{where} is a list of {len(node)}; use an index "
                                f"0-{len(node) - 1}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise SpecError("vary", path, f"unknown key {part!r} in {where}; allowed keys: "
                                f"{', '.join(sorted(node))}")
            node = node[part]
        else:
            raise SpecError("vary", path, f"{where} is a single value ({node!r}), not a group")


def _spec_error(exc: ValidationError) -> SpecError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model = Sample if err["loc"][0] == "sample" else SweepSpec
        where = ".".join(["spec", *(str(p) for p in err["loc"][:-1])])
        return SpecError(where, err["loc"][-1], "unknown key; allowed keys: "
                         f"{', '.join(model.model_fields)}")
    if err["type"] == "literal_error" and loc == "kind":
        return SpecError("kind", err.get("input"), f"allowed: {', '.join(KINDS)}")
    return SpecError(f"spec.{loc}" if loc else "spec", err.get("input"), err["msg"])
