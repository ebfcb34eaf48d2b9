"""Fuzz the CLI with hostile config.json files, catalogs, scenarios, option values and special
paths; every case must keep the promises of harness.check_case (exit code, one-line error,
strict JSON, no hang) and touch no file outside its temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import CHEAP, PROFILE, check_case
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import catalog_files, cli_options, config_files, scenario_files

from xpuplan.catalog.hardware import builtin_file

DATA = Path(str(builtin_file("")))


def _snapshot() -> dict:
    """(mtime, size) of every shipped data file and every file of the repository's tests."""
    roots = [DATA, Path(__file__).parents[1]]
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for r in roots for p in r.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".hypothesis" not in p.parts}


@pytest.fixture(scope="module", autouse=True)
def untouched():
    """No case writes outside its temporary directory: data files and tests stay as they are."""
    before = _snapshot()
    yield
    assert _snapshot() == before


def _case_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("case")


@settings(PROFILE)
@given(body=config_files(), command=st.sampled_from(("model", "model", "train", "infer")))
def test_config_json(tmp_path_factory, body, command):
    d = _case_dir(tmp_path_factory)
    (d / "config.json").write_bytes(body)
    argv = {"model": ["model", "config.json"],
            "train": ["train", "config.json", "--chip", "h100", "--chips", "8"],
            "infer": ["infer", "config.json", "--chip", "h100"]}[command]
    check_case([*argv, "--json"], str(d))


@settings(PROFILE)
@given(catalog=catalog_files(), command=st.sampled_from(
    ("chips", "instances", "train")))
def test_catalog(tmp_path_factory, catalog, command):
    d = _case_dir(tmp_path_factory)
    suffix, body = catalog
    (d / f"cat{suffix}").write_bytes(body)
    argv = {"chips": ["chips"], "instances": ["instances"],
            "train": ["train", "llama-3.1-8b", "--chip", "my-asic", "--chips", "8"]}[command]
    check_case(["--catalog", f"cat{suffix}", *argv, "--json"], str(d))


@settings(PROFILE)
@given(body=scenario_files(cheap=CHEAP), report=st.sampled_from(
    (None, None, "out.html", "s.yaml")))
def test_scenario(tmp_path_factory, body, report):
    d = _case_dir(tmp_path_factory)
    (d / "s.yaml").write_bytes(body)
    argv = ["plan", "s.yaml", "--json"] + (["--report", report] if report else [])
    code, _, err = check_case(argv, str(d))
    if report == "s.yaml":
        assert (d / "s.yaml").read_bytes() == body, "the scenario was overwritten"


@settings(PROFILE)
@given(argv=cli_options())
def test_options(tmp_path_factory, argv):
    check_case(argv, str(_case_dir(tmp_path_factory)))


SPECIAL = ("fifo", "/dev/zero", "dir", "missing.yaml", "link-to-zero.yaml", "empty.yaml",
           "binary.yaml", "utf16.yaml", "a" * 5000, "a/" + "b" * 300 + ".json", "nul\x00.yaml")


@pytest.mark.parametrize("where", ["--catalog", "plan", "model", "--plot"])
@pytest.mark.parametrize("name", SPECIAL)
def test_special_paths(tmp_path, where, name):
    """FIFOs, devices, directories, links to devices, empty, binary and UTF-16 files."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    (tmp_path / "link-to-zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "utf16.yaml").write_bytes("chips: []\n".encode("utf-16"))
    argv = {"--catalog": ["--catalog", name, "chips", "--json"],
            "plan": ["plan", name, "--json"], "model": ["model", name, "--json"],
            "--plot": ["infer", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--plot",
                       name]}[where]
    code, _, _ = check_case(argv, str(tmp_path))
    assert code == 2
