"""Cells on local processes: `concurrent.futures.ProcessPoolExecutor`, chunks of cells.

Workers start from a fork server that has imported `xpuplan.api` once (spawn where there is
no fork server), so no worker inherits the parent's threads (the progress bar's). At most 2
chunks per worker are in flight, so memory stays flat however many cells there are, and rows
reach the store as chunks finish. One worker runs the cells in this process, with no pool.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from xpuplan.sweep.cells import Job, run_chunk

IN_FLIGHT_PER_WORKER = 2


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["xpuplan.api"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_local(job: Job, chunks: Iterable[list], workers: int,
              on_rows: Callable[[list[dict]], None]) -> None:
    """Run every chunk on `workers` processes; call `on_rows` with each chunk's rows."""
    if workers == 1:
        for chunk in chunks:
            on_rows(run_chunk(job, chunk))
        return
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_leave_ctrl_c)
    try:
        pending: set = set()
        for chunk in chunks:
            pending.add(pool.submit(run_chunk, job, chunk))
            while len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                pending = _collect(pending, on_rows)
        while pending:
            pending = _collect(pending, on_rows)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _leave_ctrl_c() -> None:
    """Workers ignore Ctrl-C: the parent stops the pool and keeps the finished rows."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _collect(pending: set, on_rows) -> set:
    """Wait for the next chunks to finish, hand over their rows; the rest still pending."""
    done, pending = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        on_rows(future.result())
    return pending
