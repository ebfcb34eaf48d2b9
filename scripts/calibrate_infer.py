"""Refit the serving stack parameters and write src/xpuplan/data/calibration_infer.toml.

Run: python scripts/calibrate_infer.py
Per group (chip family, vendor, default): compute_scale (prefill GEMM rate / MAMF),
memory_scale (decode read rate / STREAM), step_overhead_us (fixed host cost per decode step)
with layer_overhead_us on the same grid axis (fixed device time per decoder layer, what a GPU
engine pays instead: stacks.toml fixed_overhead_per) and seq_overhead_us (host cost per
running sequence per step);
shared by all: latency_scale (serving collectives' α relative to nccl-tests). Grid search
minimising the median |log(predicted / measured)| over data/validation/infer_measurements.csv.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from xpuplan.calibrate.calibrate import (
    fit_all,
    toml_diagnostics,
    toml_group_stats,
    toml_header,
    toml_source,
)
from xpuplan.calibrate.infer_set import infer_rows
from xpuplan.calibrate.report import fit_rows_of, groups_of
from xpuplan.calibrate.serve_grid import (
    LAYER_OVERHEAD_S,
    SERVE_GROUP_GRID,
    SERVE_SHARED_GRID,
    SHARED_GRID,
    VENDOR_GRID,
    prediction_matrix,
)

OUT = Path(__file__).resolve().parents[1] / "src/xpuplan/data/calibration_infer.toml"


def main() -> None:
    rows, skipped = infer_rows()
    measured = np.array([r.measured for r in rows])
    sources = np.array([r.source_group for r in rows])
    fit_rows = fit_rows_of(rows)
    f, report, loso = fit_all(prediction_matrix(rows), measured, groups_of(rows), sources,
                              partial(fit_rows_of, rows), SERVE_GROUP_GRID, SERVE_SHARED_GRID)
    lines = toml_header("calibrate_infer.py", "infer_measurements.csv", len(rows), len(skipped))
    latency = SHARED_GRID[f.shared_index]
    for key, r in report.items():
        c, m, overhead, per_seq = VENDOR_GRID[f.scale_index[key]]
        lines += [f'[infer."{key}"]', f"compute_scale = {c:.4f}", f"memory_scale = {m:.4f}",
                  f"step_overhead_us = {overhead * 1e6:g}",
                  f"layer_overhead_us = {LAYER_OVERHEAD_S[overhead] * 1e6:g}",
                  f"seq_overhead_us = {per_seq * 1e6:g}", f"latency_scale = {latency:g}",
                  f"log_sd = {r['log_sd']:.4f}", f"n_rows = {r['rows']}",
                  *toml_group_stats(r), toml_source("calibrate_infer.py", r), ""]
        print(f"{key:20s} compute {c:.3f} memory {m:.3f} overhead {overhead * 1e6:g} us "
              f"(or {LAYER_OVERHEAD_S[overhead] * 1e6:g} us/layer) "
              f"+ {per_seq * 1e6:g} us/seq "
              f"latency x{latency:g} rows {r['rows']:3d} in-sample {r['median_error']:6.1%}  "
              f"LOSO {r['median_error_loso']:6.1%}")
    lines += toml_diagnostics("infer", f, [r.problem.chip.id for r in rows],
                              [r.precision_class for r in rows], sources, measured, loso,
                              fit_rows)
    for fail in f.failures:
        print(f"at bound: {fail}")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
