"""Effort ordering properties on generated trees (hypothesis), and the effort-file checks."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.audit.trees import kernel_source, torch_calls_source, write

from xpuplan import api
from xpuplan.audit.effort import load_effort
from xpuplan.errors import CatalogError

LEVELS = ("low", "mid", "high")
PURE_MAX_SITES = 25  # each of device strings and torch.cuda calls: up to 50 sites in all
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def audit_files(files: dict) -> dict:
    with tempfile.TemporaryDirectory() as d:
        write(Path(d), files)
        r = api.audit(d)
        return {t: r.effort[t].engineer_weeks for t in r.targets}


pure = st.tuples(st.integers(0, PURE_MAX_SITES), st.integers(0, PURE_MAX_SITES))
kernel_lines = st.integers(0, 400)


@SETTINGS
@given(pure, st.lists(kernel_lines, max_size=3), kernel_lines)
def test_adding_a_kernel_never_lowers_effort(calls, kernels, extra):
    files = {"train.py": torch_calls_source(*calls)}
    files.update({f"k{i}.cu": kernel_source(f"k{i}", n) for i, n in enumerate(kernels)})
    before = audit_files(files)
    after = audit_files({**files, "extra.cu": kernel_source("extra", extra)})
    for t, w in before.items():
        for level in LEVELS:
            assert after[t][level] >= w[level]
        assert after[t]["mid"] > w["mid"]  # a kernel is never portable as is


@SETTINGS
@given(pure, pure, kernel_lines)
def test_pure_pytorch_costs_less_than_any_tree_with_a_kernel(calls, other_calls, lines):
    """A pure-PyTorch tree with up to 50 CUDA-specific sites costs less, on every target and
    at every level, than a tree holding one CUDA kernel (whatever else it holds)."""
    p = audit_files({"train.py": torch_calls_source(*calls)})
    k = audit_files({"train.py": torch_calls_source(*other_calls),
                     "k.cu": kernel_source("k", lines)})
    for t in p:
        for level in LEVELS:
            assert p[t][level] < k[t][level]


def test_bigger_kernels_cost_more():
    small, large = (audit_files({"k.cu": kernel_source("k", n)}) for n in (10, 300))
    for t in small:
        assert large[t]["mid"] > small[t]["mid"]


def test_effort_override_file(tmp_path):
    (tmp_path / "e.toml").write_text(
        '[[effort]]\nkind = "torch_cuda_calls"\nper = "site"\ndrop_in = [1, 2, 3]\n'
        'port = [1, 2, 3]\nsource = "mine"\nretrieved = "2026-12-01"\n')
    write(tmp_path / "t", {"a.py": torch_calls_source(3, 0)})
    r = api.audit(tmp_path / "t", effort_file=str(tmp_path / "e.toml"))
    assert r.effort["neuron"].engineer_weeks == {"low": 3, "mid": 6, "high": 9}


@pytest.mark.parametrize("record, problem", [
    ('kind = "torch_cuda_calls"\nper = "site"\ndrop_in = [3, 2, 1]\nsource = "x"\n'
     'retrieved = "2026"', "low <= mid <= high"),
    ('kind = "torch_cuda_calls"\nper = "site"\ndrop_in = [1, 2, 3]\nretrieved = "2026"',
     "needs a source"),
    ('kind = "gpu_things"\nper = "site"\nsource = "x"\nretrieved = "2026"', "allowed"),
    ('kind = "torch_cuda_calls"\nper = "site"\nassumption = true\nsource = "x"\n'
     'retrieved = "2026"', "rationale"),
])
def test_bad_effort_records_are_rejected(tmp_path, record, problem):
    (tmp_path / "e.toml").write_text(f"[[effort]]\n{record}\n")
    load_effort.cache_clear()
    with pytest.raises(CatalogError, match=problem):
        load_effort(str(tmp_path / "e.toml"))
