"""Shared test helpers: run the CLI in-process and capture its exit code and streams."""

from __future__ import annotations

import json
import tomllib

import pytest

from xpuplan.catalog.hardware import builtin_file
from xpuplan.cli import main


@pytest.fixture
def run_cli(capsys):
    """Run `xpuplan ARGS`; return (exit_code, stdout, stderr)."""

    def run(*args: str):
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code or 0
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def run_json(run_cli):
    """Run `xpuplan ARGS --json`, check it succeeded with one JSON object, return it."""

    def run(*args: str):
        code, out, err = run_cli(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    return run


@pytest.fixture
def serve_stack_fields():
    """The required fields of a minimal serving StackRecord, for record-validation tests."""
    return dict(vendor="x", workload="serve", name="x", heads="divide", tp_counts="chips",
                kv_admission="paged_resident_tokens", engine="x-engine", source="s",
                retrieved="2026-12-01")


@pytest.fixture
def builtin_stack_row():
    """A shipped stacks.toml record as a dict, with one field set to a value (or dropped,
    value None): `builtin_stack_row(vendor, workload, field, value)`, for catalog-error tests."""

    def row(vendor: str, workload: str, field: str, value):
        rows = tomllib.loads(builtin_file("stacks.toml").read_text())["stack"]
        found = next(r for r in rows if (r["vendor"], r["workload"]) == (vendor, workload))
        return ({**found, field: value} if value is not None
                else {k: v for k, v in found.items() if k != field})

    return row
