"""A sweep end to end: check the spec and output, skip stored cells, run, stream to Parquet.

Cells go to the runners in chunks of about n / (8 x workers), at most CHUNK_MAX, so every
worker has several chunks to balance load and rows reach the store (and the progress bar)
steadily. A spec that expands past `max_cells` needs `yes=True`.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from xpuplan import api
from xpuplan.errors import SpecError, XpuplanError
from xpuplan.sweep import ray_runner
from xpuplan.sweep.cells import Job, cell_key
from xpuplan.sweep.local import run_local
from xpuplan.sweep.spec import SweepSpec
from xpuplan.sweep.store import ResultStore

MAX_CELLS = 10**6
CHUNK_MAX = 32
CHUNKS_PER_WORKER = 8


class Interrupted(XpuplanError):
    """Ctrl-C during a sweep: the finished cells are stored; exit 130 like any interrupt."""

    exit_code = 130

    def __init__(self, out: str | os.PathLike):
        super().__init__(f"interrupted: the finished cells are kept in {out}; rerun with "
                         "--resume to run the rest")


@dataclass
class SweepReport:
    """What one run of a sweep did."""

    out: str
    kind: str
    cells: int  # in the spec
    skipped: int  # already stored (resume)
    ran: int
    errors: int
    workers: int
    runner: str  # "local" or "ray"
    elapsed_s: float

    @property
    def cells_per_s(self) -> float:
        return self.ran / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "cells_per_s": self.cells_per_s}


def run_sweep(spec: SweepSpec, out: str | os.PathLike, workers: int | None = None,
              ray: str | None = None, resume: bool = False, max_cells: int = MAX_CELLS,
              yes: bool = False, catalog_files: list[str] | None = None,
              progress=None) -> SweepReport:
    """Run every cell not yet stored in `out`; `progress` (see ProgressBar) is told of each."""
    n = spec.n_cells()
    workers = _checked_run(n, max_cells, yes, workers, ray)
    job = Job(spec.kind, spec.scenario, spec.base,
              tuple(catalog_files) if catalog_files else None)
    _check_names(spec, catalog_files)
    store = ResultStore(out, spec.kind, resume)
    skipped = sum(cell_key(job, c) in store.done for c in spec.cells()) if store.done else 0
    todo = ((i, c) for i, c in enumerate(spec.cells()) if cell_key(job, c) not in store.done)
    size = max(1, min(CHUNK_MAX, (n - skipped) // (CHUNKS_PER_WORKER * workers)))
    chunks = iter(lambda: list(itertools.islice(todo, size)), [])
    errors = 0

    def on_rows(rows: list[dict]) -> None:
        nonlocal errors
        store.add(rows)
        errors += sum(r["error"] is not None for r in rows)
        if progress is not None:
            progress.advance(len(rows))

    session = ray_runner.attach(ray, workers) if ray is not None else None
    if session is not None:
        workers = session.cpus
    if progress is not None:
        progress.start(n - skipped)
    start = time.perf_counter()
    try:
        if session is not None:
            ray_runner.run_ray(job, chunks, session, on_rows)
        else:
            run_local(job, chunks, workers, on_rows)
    finally:
        store.close()
        if session is not None:
            session.close()
    return SweepReport(out=str(out), kind=spec.kind, cells=n, skipped=skipped,
                       ran=store.rows_written, errors=errors, workers=workers,
                       runner="ray" if ray is not None else "local",
                       elapsed_s=time.perf_counter() - start)


def _checked_run(n: int, max_cells: int, yes: bool, workers: int | None,
                 ray: str | None) -> int:
    """The number of local workers (default: the CPUs), after the checks that need no cell:
    the spec's size against `max_cells`, the worker count, the Ray address."""
    if n > max_cells and not yes:
        raise SpecError("cells", n, f"the spec expands to {n:,} cells, more than --max-cells "
                        f"{max_cells:,}; pass --yes to run them all, or raise --max-cells")
    if workers is None:
        workers = os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise SpecError("workers", workers, "must be a positive integer")
    if ray is not None:
        ray_runner.check(ray)  # how to install it, or an address nobody listens at
    return workers


def _check_names(spec: SweepSpec, catalog_files: list[str] | None) -> None:
    """Unknown chips and models fail once, before any cell runs (not once per cell)."""
    grid = spec.grid
    for name in grid.get("chip", []):
        api.chip(name, catalog_files=catalog_files)
    for name in grid.get("model", []):
        api.load_model(name)


class CellsPerSecond(ProgressColumn):
    """Cells finished per second, over rich's recent window."""

    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:,.1f} cells/s")


class ProgressBar:
    """A rich progress bar (cells, cells/s, ETA) on `console`, for `run_sweep(progress=)`;
    it appears when the cells start, so errors before that print alone."""

    def __init__(self, console: Console, description: str = "sweep"):
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), CellsPerSecond(), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=console,
                            transient=True)
        self.description = description
        self.task: TaskID | None = None  # set by start()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(self.description, total=total)

    def advance(self, n: int) -> None:
        assert self.task is not None, "advance() before start()"
        self.bar.advance(self.task, n)
