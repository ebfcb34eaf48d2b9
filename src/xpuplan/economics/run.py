"""Run a scenario of any kind: dispatch to its model and wrap the answer as a PlanResult."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from xpuplan.economics.context import PlanAnswer, PlanContext
from xpuplan.economics.deals import spend_forecast, tco_compare
from xpuplan.economics.fleets import contract, power_budget
from xpuplan.economics.investment import deal_timeline, investment
from xpuplan.economics.mix_result import vendor_mix
from xpuplan.economics.scenario import Scenario, load_scenario
from xpuplan.economics.summary import input_rows, kpis
from xpuplan.errors import UnknownNameError

RUNNERS: dict[str, Callable[[PlanContext, Any], PlanAnswer]] = {
    "contract": contract, "power_budget": power_budget, "vendor_mix": vendor_mix,
    "investment": investment, "tco_compare": tco_compare,
    "spend_forecast": spend_forecast, "deal_timeline": deal_timeline}


@dataclass
class PlanResult:
    """Answer of one scenario: inputs, sources, outputs, arithmetic and intervals."""
    kind: str
    name: str
    description: str
    inputs: dict  # the validated scenario
    sources: dict  # input -> its source
    outputs: dict
    explain: list[str]  # the arithmetic, one step a line
    interval: dict = field(default_factory=dict)  # output -> [P10, P50, P90]
    sensitivity: list = field(default_factory=list)
    # "train/<chip>" or "serve/<chip>" -> the confidence of the predictions the plan used
    confidence: dict = field(default_factory=dict)
    kpis: list = field(default_factory=list)  # [{label, key, value}], the headline numbers
    input_table: list = field(default_factory=list)  # [{input, value, source}], every input
    tornado: dict | None = None  # ±20 % swings of the headline KPI (economics/summary.py)

    def to_dict(self) -> dict:
        return asdict(self)


def run_scenario(ctx: PlanContext, s: Scenario) -> PlanResult:
    """The PlanResult of a validated scenario (its assumptions applied first)."""
    if s.assumptions:
        ctx = replace(ctx, econ=ctx.econ.with_records(s.assumptions,
                                                      f"scenario {s.name}: assumptions"))
    answer = RUNNERS[s.kind](ctx, s)
    return PlanResult(kind=s.kind, name=s.name, description=s.description,
                      inputs=s.model_dump(), sources=dict(s.sources),
                      outputs=answer.outputs, explain=answer.explain,
                      interval=answer.interval, sensitivity=answer.sensitivity,
                      kpis=kpis(s.kind, answer.outputs), input_table=input_rows(s))


def example_dir() -> Path:
    """Folder of the built-in scenario files."""
    return Path(str(resources.files("xpuplan") / "data" / "scenarios"))


def examples() -> dict[str, Path]:
    """Built-in scenario files by name (file stem)."""
    return {p.stem: p for p in sorted(example_dir().glob("*.yaml"))}


def load_example(name: str, *, catalog_files: list[str] | None = None) -> Scenario:
    """A built-in scenario by name (its record references read with `catalog_files` on top);
    UnknownNameError lists the known ones."""
    files = examples()
    if name not in files:
        raise UnknownNameError("example", name, list(files))
    return load_scenario(files[name], catalog_files=catalog_files)
