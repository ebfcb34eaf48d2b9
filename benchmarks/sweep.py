"""Benchmark: cells/s of a 1,000-cell training sweep on 1 worker, 2 workers and Ray (2 CPUs).

Run: python benchmarks/sweep.py
Grid: 5 models x 5 chips x 5 chip counts x 2 precisions x 4 sequence lengths, 1T tokens;
each cell is one `api.train` (a full layout search). Prints, per runner, the wall time with
start-up (pool or Ray start, worker imports), the steady rate after the first cells, and the
CPU time per cell of all the sweep's processes (driver, workers, Ray's daemons) from /proc;
then the scaling efficiency and Ray's overhead per cell against the 2-process pool, and the
machine (CPU, cores, Python, numpy, load). On shared cores the wall rates measure what other
jobs leave; the CPU ratios are what free cores would give. Ray is started once before its
run (its start time printed apart), as a cluster would be.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import machine_line  # benchmarks/machine.py, beside this script

from xpuplan import sweep

SPEC = {"kind": "train", "axes": {
    "model": ["llama-3.1-8b", "mistral-7b", "qwen3-8b", "gemma-2-9b", "llama-2-7b"],
    "chip": ["h100", "h200", "b200", "trn2", "mi300x"],
    "chips": [8, 16, 32, 64, 128],
    "precision": ["bf16", "fp8"],
    "seq_len": [2048, 4096, 8192, 16384],
    "tokens": "1T"}}


class Clock:
    """A progress sink that timestamps every finished chunk, and reads the CPU time of this
    process tree (driver, pool or Ray processes) when the sweep starts and when the last
    cell is in, while the workers still live."""

    def start(self, total: int) -> None:
        self.total, self.marks = total, []
        self.cpu0, self.t0 = tree_cpu_s(), time.perf_counter()

    def advance(self, n: int) -> None:
        self.marks.append((time.perf_counter() - self.t0, n))
        if sum(k for _, k in self.marks) == self.total:
            self.cpu_s = tree_cpu_s() - self.cpu0

    def steady_rate(self, skip: float = 0.1) -> float:
        """Cells/s after the first `skip` share of cells (start-up excluded)."""
        done = np.cumsum([n for _, n in self.marks])
        t = np.array([s for s, _ in self.marks])
        i = int(np.searchsorted(done, skip * done[-1]))
        return (done[-1] - done[i]) / (t[-1] - t[i])


def tree_cpu_s(root: int | None = None) -> float:
    """User + system CPU seconds of `root` (this process) and all its descendants, from
    /proc/PID/stat fields 14-15 (proc(5)); other jobs on the machine are not counted."""
    root = root or os.getpid()
    parent, cpu = {}, {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        pid = int(d.name)
        parent[pid], cpu[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    return sum(cpu.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def run(label: str, workers: int, ray: str | None = None) -> dict:
    spec = sweep.spec_from_dict(SPEC)
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        start = time.perf_counter()
        report = sweep.run_sweep(spec, Path(folder) / "out", workers=workers, ray=ray,
                                 progress=clock)
        wall = time.perf_counter() - start
    steady = clock.steady_rate()
    print(f"{label:<22} {report.ran} cells, {report.errors} errors: {wall:6.1f} s wall "
          f"({report.ran / wall:5.1f} cells/s with start-up), steady {steady:5.1f} cells/s; "
          f"CPU {clock.cpu_s / report.ran * 1e3:.1f} ms/cell (all its processes); load "
          f"average {os.getloadavg()[0]:.1f}")
    return {"wall_s": wall, "steady": steady, "cells": report.ran, "cpu_s": clock.cpu_s}


def main() -> None:
    print(f"{machine_line()}; load average {os.getloadavg()[0]:.1f} (other jobs share the "
          "cores)")
    one = run("1 worker (in-process)", 1)
    two = run("2 worker processes", 2)
    results = {"1": one, "2": two}
    try:
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
        print(f"Ray start (local, 2 CPUs): {time.perf_counter() - start:.1f} s")
        results["ray"] = run("Ray, 2 CPUs", 2, ray="auto")
        ray.shutdown()
    except ImportError:
        print("Ray: not installed (pip install 'xpuplan[ray]'); skipped")
    c1 = one["cpu_s"] / one["cells"]
    print(f"per-cell cost, 1 worker: {1e3 / one['steady']:.1f} ms wall, {c1 * 1e3:.1f} ms CPU")
    print(f"scaling efficiency, 2 workers: wall {two['steady'] / (2 * one['steady']):.0%} "
          f"steady, {one['wall_s'] / (2 * two['wall_s']):.0%} with start-up (both bound by "
          f"the cores other jobs leave); CPU {c1 / (two['cpu_s'] / two['cells']):.0%} "
          "(what 2 free cores would give: CPU per cell at 1 over at 2 processes)")
    if "ray" in results:
        r = results["ray"]
        print(f"Ray overhead per cell vs the 2-process pool: "
              f"{(r['cpu_s'] / r['cells'] - two['cpu_s'] / two['cells']) * 1e3:+.1f} ms CPU, "
              f"{(1 / r['steady'] - 1 / two['steady']) * 1e3:+.1f} ms wall (steady)")


if __name__ == "__main__":
    main()
