"""Streaming to Parquet: batches as files, resume after an interrupt, one schema at the end."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from xpuplan import sweep
from xpuplan.errors import SpecError
from xpuplan.sweep import store as store_module
from xpuplan.sweep.store import ResultStore, part_files


class StopAfter:
    """A progress sink that interrupts the sweep (as Ctrl-C would) after `n` cells."""

    def __init__(self, n: int):
        self.n, self.done = n, 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, k: int) -> None:
        self.done += k
        if self.done >= self.n:
            raise KeyboardInterrupt


def test_resume_after_an_interrupt_has_no_duplicate_or_missing_cell(
        tmp_path, monkeypatch, write_spec, specs):
    monkeypatch.setattr(store_module, "BATCH_ROWS", 5)  # several files before the stop
    spec = sweep.load_spec(write_spec(tmp_path, specs["infer"]))
    out, n = tmp_path / "out", spec.n_cells()
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(spec, out, workers=1, progress=StopAfter(10))
    kept = sweep.read_results(out).to_pylist()
    assert 10 <= len(kept) < n  # the finished cells survived, the rest did not run
    assert len(part_files(out)) >= 2
    with pytest.raises(SpecError) as info:  # without --resume the folder is refused
        sweep.run_sweep(spec, out, workers=1)
    assert info.value.field == "out" and "--resume" in str(info.value)
    bar = StopAfter(n + 1)
    report = sweep.run_sweep(spec, out, workers=1, resume=True, progress=bar)
    assert (report.skipped, report.ran, bar.total) == (len(kept), n - len(kept), n - len(kept))
    rows = sweep.read_results(out).to_pylist()
    assert sorted(r["cell_index"] for r in rows) == list(range(n))
    assert len({r["cell_key"] for r in rows}) == n
    assert {r["cell_key"]: r for r in rows}.keys() >= {r["cell_key"] for r in kept}
    again = sweep.run_sweep(spec, out, workers=1, resume=True)
    assert (again.skipped, again.ran) == (n, 0)


def test_a_cut_off_batch_is_ignored_and_removed(tmp_path, write_spec, specs):
    spec = sweep.load_spec(write_spec(tmp_path, specs["infer"]))
    out = tmp_path / "out"
    out.mkdir()
    (out / ".part-0001-000001.parquet.tmp").write_bytes(b"PAR1 half a file")
    sweep.run_sweep(spec, out, workers=1, resume=True)
    assert not list(out.glob(".part-*")) and len(sweep.read_results(out)) == spec.n_cells()


def test_columns_widen_and_every_file_ends_in_one_schema(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BATCH_ROWS", 2)
    s = ResultStore(tmp_path / "out", "train")
    meta = [{"cell_index": i, "cell_key": f"k{i}", "error": None} for i in range(6)]
    s.add([{**meta[0], "x": 1}, {**meta[1], "x": 2}])  # int
    s.add([{**meta[2], "x": 2.5}, {**meta[3], "y": "late"}])  # x widens, y appears
    s.add([{**meta[4], "x": "text"}, {**meta[5], "x": None, "y": None}])  # x becomes string
    s.close()
    schemas = {pq.read_schema(p).remove_metadata() for p in part_files(tmp_path / "out")}
    assert len(schemas) == 1 and len(part_files(tmp_path / "out")) == 3
    df = pd.read_parquet(tmp_path / "out").sort_values("cell_index")
    assert df["x"].tolist()[:3] == ["1", "2", "2.5"] and df["x"].tolist()[4] == "text"
    assert df["y"].tolist()[3] == "late"


def test_unwritable_output_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SpecError) as info:
        ResultStore(blocker / "results.parquet", "train")
    assert info.value.field == "out" and "cannot write" in str(info.value)
    with pytest.raises(SpecError, match="not a sweep folder"):
        ResultStore(blocker, "train")


def test_resume_refuses_a_sweep_of_another_kind(tmp_path, train_sweep):
    _, out, _ = train_sweep
    with pytest.raises(SpecError, match="holds a train sweep"):
        ResultStore(out, "infer", resume=True)
