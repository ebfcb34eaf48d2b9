"""Shared sweep fixtures: small specs on disk, and one finished training sweep to read."""

from __future__ import annotations

import pytest
import yaml

from xpuplan import sweep

# 2 models x 3 chips x 2 counts, 1T tokens: priced, so cost and time both rank; a100 fp8
# fails (no FP8 rate), so every sweep here also holds error rows.
TRAIN_SPEC = {"kind": "train", "axes": {"model": ["llama-3.1-8b", "gpt-1.7b"],
                                        "chip": ["h100", "trn2", "a100"],
                                        "n_chips": [32, 64], "precision": ["bf16", "fp8"],
                                        "tokens": "1T"}}
# Serving cells take milliseconds: the resume and runner tests use these.
INFER_SPEC = {"kind": "infer", "axes": {"model": ["llama-3.1-8b"], "chip": ["h100", "trn2"],
                                        "n_chips": [1, 2], "input_len": [512, 2048],
                                        "output_len": [128, 256, 512]}}


def _write_spec(folder, data: dict, name: str = "spec.yaml") -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


@pytest.fixture
def write_spec():
    """write_spec(folder, data) -> the path of `data` written as a YAML spec."""
    return _write_spec


@pytest.fixture
def specs():
    """The shared spec dicts by kind."""
    return {"train": TRAIN_SPEC, "infer": INFER_SPEC}


@pytest.fixture(scope="session")
def train_sweep(tmp_path_factory):
    """(spec, out folder, report) of the training grid, run once on one worker."""
    folder = tmp_path_factory.mktemp("train_sweep")
    spec = sweep.load_spec(_write_spec(folder, TRAIN_SPEC))
    out = folder / "results.parquet"
    report = sweep.run_sweep(spec, out, workers=1)
    return spec, out, report


@pytest.fixture(scope="session")
def infer_spec_file(tmp_path_factory) -> str:
    """The serving grid written once as a spec file."""
    return _write_spec(tmp_path_factory.mktemp("infer_spec"), INFER_SPEC)
