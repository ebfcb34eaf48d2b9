"""Benchmark: cells/s of a 1,000-cell training sweep on 1 worker, 2 workers and Ray (2 CPUs).

Run: python benchmarks/sweep.py
Grid: 5 models x 5 chips x 5 chip counts x 2 precisions x 4 sequence lengths, 1T tokens;
each cell is one `api.train` (a full layout search). Prints, per runner, the wall time with
start-up (pool or Ray start, worker imports) and the steady rate after the first cells;
then the scaling efficiency rate(2) / (2 x rate(1)) and Ray's overhead per cell against the
2-process pool, and the machine (CPU, cores, Python, numpy). Ray is started once before its
run (its start time printed apart), as a cluster would be.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from xpuplan import sweep

SPEC = {"kind": "train", "axes": {
    "model": ["llama-3.1-8b", "mistral-7b", "qwen3-8b", "gemma-2-9b", "llama-2-7b"],
    "chip": ["h100", "h200", "b200", "trn2", "mi300x"],
    "chips": [8, 16, 32, 64, 128],
    "precision": ["bf16", "fp8"],
    "seq_len": [2048, 4096, 8192, 16384],
    "tokens": "1T"}}


class Clock:
    """A progress sink that timestamps every finished chunk."""

    def start(self, total: int) -> None:
        self.t0, self.marks = time.perf_counter(), []

    def advance(self, n: int) -> None:
        self.marks.append((time.perf_counter() - self.t0, n))

    def steady_rate(self, skip: float = 0.1) -> float:
        """Cells/s after the first `skip` share of cells (start-up excluded)."""
        done = np.cumsum([n for _, n in self.marks])
        t = np.array([s for s, _ in self.marks])
        i = int(np.searchsorted(done, skip * done[-1]))
        return (done[-1] - done[i]) / (t[-1] - t[i])


def run(label: str, workers: int, ray: str | None = None) -> dict:
    spec = sweep.spec_from_dict(SPEC)
    with tempfile.TemporaryDirectory() as folder:
        clock = Clock()
        cpu0, start = os.times(), time.perf_counter()
        report = sweep.run_sweep(spec, Path(folder) / "out", workers=workers, ray=ray,
                                 progress=clock)
        wall, cpu1 = time.perf_counter() - start, os.times()
    steady = clock.steady_rate()
    # CPU seconds of this process and its finished children (the pool; not Ray's workers)
    cpu = sum(cpu1[:4]) - sum(cpu0[:4])
    print(f"{label:<22} {report.ran} cells, {report.errors} errors: {wall:6.1f} s wall "
          f"({report.ran / wall:5.1f} cells/s with start-up), steady {steady:5.1f} cells/s; "
          f"CPU {cpu / report.ran * 1e3:.1f} ms/cell{' (driver only)' if ray else ''}; "
          f"load average {os.getloadavg()[0]:.1f}")
    return {"wall_s": wall, "steady": steady, "cells": report.ran, "cpu_s": cpu}


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({_cpu_model()}), Python "
          f"{sys.version.split()[0]}, numpy {np.__version__}; load average "
          f"{os.getloadavg()[0]:.1f} (other jobs share the cores)")
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
    print(f"per-cell cost, 1 worker: {1e3 / one['steady']:.1f} ms wall, "
          f"{one['cpu_s'] / one['cells'] * 1e3:.1f} ms CPU")
    print(f"scaling efficiency, 2 workers: steady {two['steady'] / (2 * one['steady']):.0%}, "
          f"with start-up {one['wall_s'] / (2 * two['wall_s']):.0%}")
    if "ray" in results:
        r = results["ray"]
        print(f"Ray overhead per cell vs the 2-process pool: steady "
              f"{(1 / r['steady'] - 1 / two['steady']) * 2e3:+.2f} ms of worker time, "
              f"start-up and all {(r['wall_s'] - two['wall_s']) / r['cells'] * 2e3:+.2f} ms")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
