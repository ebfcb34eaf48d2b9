"""Bad input: what stops the audit is one line and exit 2; bad files inside are counted."""

from __future__ import annotations

import builtins
import json
import os

import pytest
from tests.audit.trees import pure_torch_tree, write

from xpuplan import api
from xpuplan.audit import walk


def one_error_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0]


def test_missing_path(run_cli, tmp_path):
    code, out, err = run_cli("audit", str(tmp_path / "nope"))
    assert code == 2 and out == ""
    one_error_line(err, "path", "does not exist")


def test_a_file_is_not_a_directory(run_cli, tmp_path):
    (tmp_path / "f.py").write_text("x = 1\n")
    code, _, err = run_cli("audit", str(tmp_path / "f.py"))
    assert code == 2
    one_error_line(err, "is a file", "give a directory")


def test_root_symlink_loop(run_cli, tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    code, _, err = run_cli("audit", str(tmp_path / "a"))
    assert code == 2
    one_error_line(err, "symlink loop")


def test_unlistable_root(run_cli, tmp_path, monkeypatch):
    def refuse(path="."):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(walk.os, "scandir", refuse)
    code, _, err = run_cli("audit", str(tmp_path))
    assert code == 2
    one_error_line(err, "cannot be listed", "Permission denied")


def test_symlink_loop_inside_is_counted_not_followed(run_cli, tmp_path):
    pure_torch_tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "loop")
    code, out, _ = run_cli("audit", str(tmp_path), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["files_skipped"] == {"symlink": 1} and d["files_scanned"] == 2


def test_unreadable_file_huge_file_and_unparseable_files(run_cli, tmp_path, monkeypatch):
    pure_torch_tree(tmp_path)
    write(tmp_path, {"bad.py": "def (:\n", "ci.yaml": "a: [1,\n", "secret.py": "x = 1\n"})
    (tmp_path / "huge.py").write_text("x = 1\n" * (walk_limit() // 6 + 1))
    real_open = builtins.open

    def guarded(path, *a, **k):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(walk, "open", guarded, raising=False)
    code, out, _ = run_cli("audit", str(tmp_path), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["files_skipped"] == {"huge": 1, "unreadable": 1}
    assert sorted(e["path"] for e in d["parse_errors"]) == ["bad.py", "ci.yaml"]
    assert next(e for e in d["parse_errors"] if e["path"] == "bad.py")["error"].startswith(
        "line 1")
    assert d["counts"]["torch_cuda_calls"] == 2  # the good files still count
    assert d["files_scanned"] == 4  # train.py, requirements.txt, bad.py, ci.yaml


def walk_limit() -> int:
    from xpuplan.audit.rules import load_rules

    return load_rules().scan.max_file_bytes


@pytest.mark.parametrize("args, needles", [
    (("--target", "cuda"), ("target", "neuron, xla, rocm")),
    (("--usd-per-engineer-week", "0"), ("usd_per_engineer_week", "> 0")),
    (("--report", "/nonexistent-dir/x.html"), ("report", "cannot write")),
])
def test_bad_options(run_cli, tmp_path, args, needles):
    pure_torch_tree(tmp_path)
    code, _, err = run_cli("audit", str(tmp_path), *args)
    assert code == 2
    one_error_line(err, *needles)


def test_json_is_strict_and_has_the_issue_keys(run_cli, tmp_path):
    pure_torch_tree(tmp_path)
    code, out, _ = run_cli("audit", str(tmp_path), "--json", "--target", "neuron,rocm",
                           "--usd-per-engineer-week", "4000")

    def no_constants(name):
        raise AssertionError(f"non-strict JSON constant {name}")

    d = json.loads(out, parse_constant=no_constants)
    assert code == 0
    assert {"files_scanned", "counts", "findings", "effort", "migration_cost_usd"} <= set(d)
    assert set(d["effort"]) == {"neuron", "rocm"}
    assert set(d["effort"]["neuron"]) >= {"engineer_weeks", "assumptions"}
    f = d["findings"][0]
    assert {"path", "line", "kind", "symbol", "neuron", "rocm"} <= set(f)
    assert d["migration_cost_usd"]["neuron"]["mid"] == pytest.approx(
        4000 * d["effort"]["neuron"]["engineer_weeks"]["mid"])


def test_html_report_and_tables(run_cli, tmp_path):
    from tests.audit.trees import torch_ext_tree

    torch_ext_tree(tmp_path / "t")
    code, out, _ = run_cli("audit", str(tmp_path / "t"), "--report", str(tmp_path / "r.html"))
    assert code == 0 and "porting effort" in out
    page = (tmp_path / "r.html").read_text()
    r = api.audit(tmp_path / "t")
    assert "fused_kernel" in page and f"{r.effort['neuron'].engineer_weeks['mid']:,.1f}" in page
