"""API: planning scenarios bound to the training and inference models."""

from __future__ import annotations

import os

from xpuplan.api.serving import infer
from xpuplan.api.training import train
from xpuplan.errors import SpecError
from xpuplan.hardware.efficiency import calibration_for
from xpuplan.infer.result import InferResult
from xpuplan.plan.context import PlanContext
from xpuplan.plan.run import PlanResult, examples, load_example, run_scenario
from xpuplan.plan.scenario import ServingJob, TrainingJob, load_scenario
from xpuplan.specs.registry import hardware_catalog
from xpuplan.train.result import TrainResult


def plan_context(catalog_files: list[str] | None = None, seed: int = 0) -> PlanContext:
    """Bind the planning layer to the training and inference models and the catalog."""
    cat = hardware_catalog(catalog_files)

    def run_training(job: TrainingJob, chip_name: str, n_chips: int) -> TrainResult:
        return train(job.model, chip_name, n_chips, job.seq_len, None, job.precision,
                     job.tokens, catalog_files)

    def run_serving(job: ServingJob, chip_name: str) -> InferResult:
        c = cat.chip(chip_name)
        weights = job.weights
        if weights == "auto":
            weights = "fp8" if c.supports("fp8") else "bf16"
        return infer(job.model, chip_name, None, job.input_len, job.output_len, None,
                     job.ttft_ms, job.tpot_ms, weights, catalog_files=catalog_files)

    return PlanContext(catalog=cat, train=run_training, serve=run_serving,
                       efficiency_sd=lambda chip: calibration_for(
                           cat.chip(chip)).compute_scale_sd, seed=seed)


def plan(scenario: str | os.PathLike | None = None, example: str | None = None,
         catalog_files: list[str] | None = None) -> PlanResult:
    """Run a scenario file, or a built-in example by name (`plan_examples()`)."""
    if (scenario is None) == (example is None):
        raise SpecError("scenario", scenario or example, "give a scenario file or an example")
    s = load_example(example) if example else load_scenario(scenario)
    return run_scenario(plan_context(catalog_files), s)


def plan_examples() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    return {name: load_example(name).description for name in examples()}
