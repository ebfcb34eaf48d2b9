"""`xpuplan sweep`: a run, its summary, and bad input as one line with exit 2."""

from __future__ import annotations

import json
import socket
import sys
import time

import pandas as pd
import pytest

from xpuplan.errors import SpecError
from xpuplan.sweep import ray_runner


def _closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_runs_and_reports(run_cli, infer_spec_file, tmp_path):
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r.parquet"),
                             "--workers", "1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["cells"], report["ran"], report["skipped"]) == (24, 24, 0)
    rows = pd.read_parquet(tmp_path / "r.parquet")  # straight into pandas
    assert len(rows) == 24 and report["errors"] == int(rows["error"].notna().sum())
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r.parquet"),
                             "--resume")
    assert code == 0 and "0 cells (24 already stored" in out


def test_summarize_prints_best_chips_and_writes_the_chart(run_cli, train_sweep, tmp_path):
    _, out_dir, _ = train_sweep
    html = tmp_path / "frontier.html"
    code, out, err = run_cli("sweep", "--summarize", str(out_dir), "--html", str(html))
    assert code == 0, err
    assert "gpt-1.7b" in out and "llama-3.1-8b" in out and "best by" in out
    assert html.stat().st_size > 100_000 and "plotly" in html.read_text()[:5000].lower()
    code, out, err = run_cli("sweep", "--summarize", str(out_dir), "--json")
    assert code == 0 and json.loads(out)["kind"] == "train"


@pytest.mark.parametrize("axes,extra,needle", [
    ({"chipz": [8]}, [], "unknown train axis"),
    ({"chip": []}, [], "at least one value"),
    ({}, ["--max-cells", "3"], "more than --max-cells 3"),
    ({}, ["--workers", "0"], "workers = 0"),
])
def test_bad_specs_exit_2_in_one_line(run_cli, write_spec, tmp_path, axes, extra, needle):
    spec = {"kind": "train", "axes": {"model": "gpt-1.7b", "chip": ["h100", "trn2"],
                                      "n_chips": [8, 16], **axes}}
    code, out, err = run_cli("sweep", write_spec(tmp_path, spec), "--out",
                             str(tmp_path / "r"), *extra)
    assert (code, out, err.count("\n")) == (2, "", 1) and err.startswith("error:")
    assert needle in err


def test_more_cells_than_max_run_with_yes(run_cli, write_spec, tmp_path):
    spec = {"kind": "infer", "axes": {"model": "llama-3.1-8b", "chip": ["h100", "trn2"]}}
    code, out, err = run_cli("sweep", write_spec(tmp_path, spec), "--out",
                             str(tmp_path / "r"), "--max-cells", "1", "--yes", "--workers", "1")
    assert code == 0 and "2 cells" in out


def test_unwritable_output_exits_2(run_cli, infer_spec_file, tmp_path):
    (tmp_path / "file").write_text("")
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "file" / "r"))
    assert (code, out, err.count("\n")) == (2, "", 1) and "cannot write there" in err


def test_unreachable_ray_fails_within_seconds(run_cli, infer_spec_file, tmp_path):
    pytest.importorskip("ray")
    address = f"127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r"),
                             "--ray", address)
    assert time.monotonic() - start < ray_runner.CONNECT_TIMEOUT_S
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert f"ray = '{address}'" in err and "ray start --head" in err


def test_a_listener_that_is_not_ray_fails_within_seconds(run_cli, infer_spec_file, tmp_path):
    """Something accepts the TCP connection but speaks no Ray: Ray's retries are capped."""
    pytest.importorskip("ray")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r"),
                                 "--ray", address)
        assert time.monotonic() - start < ray_runner.CONNECT_TIMEOUT_S + 2
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert "timed out within 3 s" in err


def test_probe_names_a_timeout(monkeypatch):
    def silent(*args, **kwargs):
        raise TimeoutError

    monkeypatch.setattr(socket, "create_connection", silent)
    with pytest.raises(SpecError) as info:
        ray_runner.probe("ray://head.example:10001")
    assert "head.example:10001 (timed out within 3 s)" in str(info.value)


def test_without_ray_installed_says_how_to_get_it(run_cli, infer_spec_file, tmp_path,
                                                  monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r"),
                             "--ray", "auto")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert 'pip install "xpuplan[ray]"' in err
    assert not (tmp_path / "r").exists()  # nothing written before the check


def test_sweep_without_out_or_summarize_exits_2(run_cli, infer_spec_file):
    code, out, err = run_cli("sweep", infer_spec_file)
    assert (code, err.count("\n")) == (2, 1) and "--summarize" in err
    code, out, err = run_cli("sweep", "--summarize", "/nonexistent/folder")
    assert (code, err.count("\n")) == (2, 1) and "no sweep results" in err


def test_ctrl_c_says_the_work_is_kept_and_exits_130(run_cli, infer_spec_file, tmp_path,
                                                    monkeypatch):
    from xpuplan import sweep

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "run_sweep", interrupted)
    code, out, err = run_cli("sweep", infer_spec_file, "--out", str(tmp_path / "r"))
    assert (code, out, err.count("\n")) == (130, "", 1) and "rerun with --resume" in err
