"""Benchmark: layouts evaluated per second, and a full search's wall time.

Run: python benchmarks/train_search.py
Case (issue #5): Llama 3.1 405B on 16,384 H100, seq 8192, global batch 2048.
Prints configurations/s of the vectorised evaluator on one core and the wall time of the
whole `xpuplan search` command (model loading and catalog included).
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
from machine import machine_line  # benchmarks/machine.py, beside this script

from xpuplan import api
from xpuplan.train.evaluate import evaluate
from xpuplan.train.search import candidate_grid, evaluate_chunked


def main() -> None:
    print(machine_line())
    problem = api.train_problem("llama-3.1-405b", chip="h100", n_chips=16384, seq_len=8192,
                                global_batch=2048)
    grid = candidate_grid(problem, {})
    reps = 20
    big = grid.take(np.tile(np.arange(len(grid)), reps))  # ~1.2M layouts in one call
    start = time.perf_counter()
    evaluate(problem, big)
    elapsed = time.perf_counter() - start
    print(f"evaluator, one call: {len(big):,} layouts in {elapsed:.3f} s = "
          f"{len(big) / elapsed:,.0f} layouts/s (one core)")
    start = time.perf_counter()
    evaluate_chunked(problem, big)
    elapsed = time.perf_counter() - start
    print(f"evaluator, cache-sized chunks (as search runs it): {len(big) / elapsed:,.0f} "
          "layouts/s (one core)")
    best, found = api.search_layouts(problem, top=1)
    print(f"search: {found.configs_evaluated:,} candidate layouts in {found.search_time_s:.3f} s; "
          f"best {best[0].parallelism} MFU {best[0].mfu:.1%}")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xpuplan", "search", "llama-3.1-405b", "--chip",
                    "h100", "--chips", "16384", "--seq-len", "8192", "--global-batch", "2048",
                    "--json"], check=True, capture_output=True)
    print(f"whole command `xpuplan search ...`: {time.perf_counter() - start:.2f} s wall")


if __name__ == "__main__":
    main()
