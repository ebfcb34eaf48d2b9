"""API: planning scenarios bound to the training and inference models."""

from __future__ import annotations

import os

from xpuplan.api.deprecation import legacy_call
from xpuplan.api.serving import infer, serve_problem
from xpuplan.api.training import train
from xpuplan.calibrate.confidence import confidence_for
from xpuplan.catalog.economics import economics_catalog
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.economics.context import PlanContext
from xpuplan.economics.investment import deal_rows
from xpuplan.economics.run import PlanResult, examples, load_example, run_scenario
from xpuplan.economics.scenario import (
    ServingJob,
    TrainingJob,
    load_scenario,
    scenario_from_data,
)
from xpuplan.economics.solve import solve as goal_seek
from xpuplan.economics.summary import tornado as tornado_swings
from xpuplan.economics.templates import scenario_template
from xpuplan.errors import SpecError, UnknownNameError, XpuplanError
from xpuplan.serve.result import ServeResult
from xpuplan.train.result import TrainResult

# Serving units searched: the fewest chips that hold the weights, times 1, 2, 4 and 8 (a search
# range, not a physical figure).
SERVING_UNIT_DOUBLINGS = 3


@legacy_call("catalog_files", "seed", "confidence")
def plan_context(*, catalog_files: list[str] | None = None, seed: int = 0,
                 confidence: dict | None = None) -> PlanContext:
    """Bind the planning layer to the training and inference models and the catalog; the
    confidence of every prediction used is written into `confidence` (kind/chip -> dict)."""
    cat = hardware_catalog(catalog_files)
    seen = {} if confidence is None else confidence

    memo: dict = {}  # a goal-seek reruns one scenario: each model question is asked once

    def run_training(job: TrainingJob, chip_name: str, n_chips: int) -> TrainResult:
        key = ("train", job.model_dump_json(), chip_name, n_chips)
        if key not in memo:
            memo[key] = train(job.model, chip=chip_name, n_chips=n_chips,
                              seq_len=job.seq_len, precision=job.precision, tokens=job.tokens,
                              catalog_files=catalog_files)
        r = memo[key]
        seen[f"train/{r.chip}"] = r.confidence
        return r

    def run_serving(job: ServingJob, chip_name: str) -> ServeResult:
        key = ("serve", job.model_dump_json(), chip_name)
        if key not in memo:
            memo[key] = best_serving(job, chip_name)
        return memo[key]

    def best_serving(job: ServingJob, chip_name: str) -> ServeResult:
        """The serving unit with the most output tokens/s per chip under the SLO, among the
        fewest chips that hold the weights and 2x, 4x, 8x that (more chips can lower TPOT)."""
        c = cat.chip(chip_name)
        weights = job.weights
        if weights == "auto":
            weights = "fp8" if c.supports("fp8") else "bf16"
        fewest = serve_problem(job.model, chip=chip_name, input_len=job.input_len,
                               output_len=job.output_len, weights=weights,
                               catalog_files=catalog_files)[0].n_chips
        results: list[ServeResult] = []
        first_error: XpuplanError | None = None
        for n in (fewest * 2**k for k in range(SERVING_UNIT_DOUBLINGS + 1)):
            try:
                results.append(infer(job.model, chip=chip_name, n_chips=n,
                                     input_len=job.input_len, output_len=job.output_len,
                                     ttft_s=job.ttft_s, tpot_s=job.tpot_s, weights=weights,
                                     catalog_files=catalog_files))
            except XpuplanError as exc:
                first_error = first_error or exc
        if not results:
            assert first_error is not None  # the loop ran at least once and every try raised
            raise first_error
        best = max(results, key=lambda r: r.output_tokens_per_s_per_chip)
        seen[f"serve/{best.chip}"] = best.confidence
        return best

    # Plan intervals draw the efficiency with the training prediction's confidence spread
    # (calibrate.confidence: at least the LOSO spread, wider for unvalidated chips).
    return PlanContext(catalog=cat, econ=economics_catalog(catalog_files),
                       train=run_training, serve=run_serving,
                       efficiency_sd=lambda chip: confidence_for(
                           "train", cat.chip(chip), "bf16").interval_log_sd, seed=seed)


@legacy_call("example", "catalog_files")
def plan(scenario: str | os.PathLike | dict | None = None, *, example: str | None = None,
         catalog_files: list[str] | None = None, solve: str | None = None,
         target: tuple[str, float] | None = None,
         between: tuple[float, float] | None = None, tornado: bool = False) -> PlanResult:
    """Run a scenario file (or an already parsed scenario dict), or a built-in example by
    name (`plan_examples()`). With `solve` (an input key) and `target` (output key, value):
    goal-seek that input by bisection within `between` (economics/solve.py); the result's
    outputs gain `solve`. `tornado` adds ±20 % swings of the headline KPI over every numeric
    input (one rerun per input and side). `confidence` says how far each prediction used is
    validated."""
    if (scenario is None) == (example is None):
        raise SpecError("scenario", scenario or example, "give a scenario file or an example")
    if example is not None:
        s = load_example(example, catalog_files=catalog_files)
    elif isinstance(scenario, dict):
        s = scenario_from_data(scenario, catalog_files=catalog_files)
    else:
        assert scenario is not None  # the check above: exactly one of the two is given
        s = load_scenario(scenario, catalog_files=catalog_files)
    seen: dict = {}
    ctx = plan_context(catalog_files=catalog_files, confidence=seen)
    if solve is None:
        result = run_scenario(ctx, s)
        if tornado:
            result.tornado = tornado_swings(ctx, s, run_scenario, result.outputs)
    else:
        if target is None:
            raise SpecError("target", None, "--solve needs --target OUTPUT=VALUE")
        x, result, record = goal_seek(ctx, s, run_scenario, solve, target[0], target[1],
                                      between)
        result.outputs["solve"] = record
        achieved = "none" if record["achieved"] is None else f"{record['achieved']:.4g}"
        result.explain.insert(0, f"solve: {solve} = {x:.6g} gives {target[0]} = {achieved} "
                              f"(target {target[1]:g}; bisection in [{record['bracket'][0]:g}, "
                              f"{record['bracket'][1]:g}], {record['runs']} runs)")
    result.confidence = seen
    return result


@legacy_call("example")
def scenario_inputs(scenario: str | os.PathLike | None = None, *,
                    example: str | None = None) -> dict:
    """Every input of a scenario file or built-in example, defaults filled in, as a plain dict
    to edit and pass back to `plan(scenario=...)` (what `xpuplan sweep` varies)."""
    if (scenario is None) == (example is None):
        raise SpecError("scenario", scenario or example, "give a scenario file or an example")
    if example is not None:
        return load_example(example).model_dump()
    assert scenario is not None  # the check above: exactly one of the two is given
    return load_scenario(scenario).model_dump()


def plan_examples() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    return {name: load_example(name).description for name in examples()}


def deals(*, catalog_files: list[str] | None = None) -> list[dict]:
    """The catalog's announced compute deals (economics.toml [[deal]] and the user's files),
    one dict each; JSON-ready, amounts in `*_usd` keys, `None` where none is published."""
    return deal_rows(plan_context(catalog_files=catalog_files))


def plan_template(kind: str) -> str:
    """A commented YAML skeleton of one scenario kind (every key the loader accepts)."""
    return scenario_template(kind)


def plan_example_text(name: str) -> str:
    """The YAML text of a built-in scenario, comments included."""
    files = examples()
    if name not in files:
        raise UnknownNameError("example", name, list(files))
    return files[name].read_text()
