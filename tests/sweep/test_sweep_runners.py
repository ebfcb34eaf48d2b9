"""A process pool and Ray give the rows one worker gives, cell for cell."""

from __future__ import annotations

import pytest

from xpuplan import sweep


def _rows(out) -> list[dict]:
    return sweep.read_results(out).to_pylist()


@pytest.fixture(scope="module")
def serial_rows(tmp_path_factory, infer_spec_file):
    folder = tmp_path_factory.mktemp("serial")
    spec = sweep.load_spec(infer_spec_file)
    sweep.run_sweep(spec, folder / "out", workers=1)
    return spec, _rows(folder / "out")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (start-up takes seconds on 2 cores)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


def test_two_processes_give_the_serial_rows(tmp_path, serial_rows):
    spec, expected = serial_rows
    report = sweep.run_sweep(spec, tmp_path / "out", workers=2)
    assert (report.workers, report.runner, report.ran) == (2, "local", spec.n_cells())
    assert _rows(tmp_path / "out") == expected
    assert any(r["error"] is None for r in expected)


def test_ray_tasks_give_the_serial_rows(tmp_path, serial_rows, local_ray):
    spec, expected = serial_rows
    report = sweep.run_sweep(spec, tmp_path / "out", workers=2, ray="auto")
    assert (report.runner, report.ran) == ("ray", spec.n_cells())
    assert local_ray.is_initialized()  # a Ray the caller started is left running
    assert _rows(tmp_path / "out") == expected
