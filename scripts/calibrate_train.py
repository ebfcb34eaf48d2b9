"""Refit the training stack parameters and write src/xpuplan/data/calibration.toml.

Run: python scripts/calibrate_train.py
Fits on every usable row of data/validation/train_measurements.csv (method:
xpuplan.calibrate.calibrate) and prints in-sample and leave-one-source-out median absolute
errors per group beside the values it writes.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from xpuplan.calibrate.calibrate import (
    SHARED_GRID,
    fit_all,
    prediction_matrix,
    toml_diagnostics,
    toml_group_stats,
    toml_header,
    toml_source,
)
from xpuplan.calibrate.report import fit_rows_of, groups_of
from xpuplan.calibrate.train_set import train_rows
from xpuplan.hardware.efficiency import StackCalibration

OUT = Path(__file__).resolve().parents[1] / "src/xpuplan/data/calibration.toml"


def main() -> None:
    rows, skipped = train_rows(StackCalibration(1.0, 0.0, 0.0, 0.0, 0, "grid"))
    measured = np.array([r.measured_tokens_per_s_per_chip for r in rows])
    sources = np.array([r.source_group for r in rows])
    fit_rows = fit_rows_of(rows)
    f, report, loso = fit_all(prediction_matrix(rows), measured, groups_of(rows), sources,
                              partial(fit_rows_of, rows))
    lines = toml_header("calibrate_train.py", "train_measurements.csv", len(rows), len(skipped))
    for key, r in report.items():
        stack = f.stack(key)
        lines += [f'[train."{key}"]', f"compute_scale = {stack.compute_scale:.4f}",
                  f"compute_scale_sd = {r['log_sd']:.4f}",
                  f"gemm_half_dim = {stack.gemm_half_dim:g}",
                  f"gemm_overhead_us = {stack.gemm_overhead_s * 1e6:g}",
                  f"n_rows = {r['rows']}", *toml_group_stats(r),
                  toml_source("calibrate_train.py", r), ""]
        print(f"{key:20s} scale {stack.compute_scale:.3f} half_dim {stack.gemm_half_dim:g} "
              f"overhead {stack.gemm_overhead_s * 1e6:g} us rows {r['rows']:3d} "
              f"in-sample {r['median_error']:6.1%}  LOSO {r['median_error_loso']:6.1%}")
    lines += toml_diagnostics("train", f, [r.problem.chip.id for r in rows],
                              [r.precision_class for r in rows], sources, measured, loso,
                              fit_rows)
    for fail in f.failures:
        print(f"at bound: {fail}")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT} ({len(SHARED_GRID)} shared settings searched)")


if __name__ == "__main__":
    main()
