"""Benchmark: serving layouts evaluated per second, and a full `infer` search's wall time.

Run: python benchmarks/serve_search.py
Case: DeepSeek-V3 (671B MoE, FP8 weights) on 64 H200, 1024 in / 1024 out, which searches
tp x pp x ep x batch. Prints layouts/s of the vectorised serving evaluator on one core, the
in-process search time, and the wall time of the whole `xpuplan infer` command.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
from machine import machine_line  # benchmarks/machine.py, beside this script

from xpuplan import api
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.serve.search import search_serving, serve_grid

MODEL, CHIP, CHIPS = "deepseek-v3", "h200", 64


def main() -> None:
    print(machine_line())
    problem, _ = api.serve_problem(MODEL, chip=CHIP, n_chips=CHIPS, weights="fp8")
    grid = serve_grid(problem, {})
    reps = max(1, 1_000_000 // len(grid))
    big = grid.take(np.tile(np.arange(len(grid)), reps))
    start = time.perf_counter()
    evaluate_serving(problem, big)
    elapsed = time.perf_counter() - start
    print(f"evaluator, one call: {len(big):,} layouts in {elapsed:.3f} s = "
          f"{len(big) / elapsed:,.0f} layouts/s (one core)")
    start = time.perf_counter()
    found = search_serving(problem, {})
    elapsed = time.perf_counter() - start
    best = found.evaluated.layouts.row(found.best)
    print(f"search: {len(grid):,} candidate layouts in {elapsed:.3f} s; best {best}, "
          f"{found.evaluated.output_tokens_per_s_per_chip[found.best]:,.0f} output tok/s/chip")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xpuplan", "infer", MODEL, "--chip", CHIP, "--chips",
                    str(CHIPS), "--weights", "fp8", "--json"], check=True, capture_output=True)
    print(f"whole command `xpuplan infer ...`: {time.perf_counter() - start:.2f} s wall")


if __name__ == "__main__":
    main()
