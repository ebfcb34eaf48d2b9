"""Refit the training stack parameters and write src/xpuplan/data/calibration.toml.

Run: python scripts/calibrate_train.py
Fits on every usable row of data/validation/train_measurements.csv (see
xpuplan.validation.calibrate for the method) and prints in-sample and leave-one-source-out
median absolute errors per vendor beside the values it writes.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.validation.calibrate import (
    SCALE_GRID,
    SHARED_GRID,
    fit,
    leave_one_source_out,
    predict,
    prediction_matrix,
)
from xpuplan.validation.train_set import train_rows

OUT = Path(__file__).resolve().parents[1] / "src/xpuplan/data/calibration.toml"


def main() -> None:
    placeholder = StackCalibration(1.0, 0.0, 0.0, 0.0, 0, "grid")
    rows, skipped = train_rows(placeholder)
    measured = np.array([r.measured_tokens_per_s_per_chip for r in rows])
    vendors = np.array([r.vendor for r in rows])
    sources = np.array([r.source_group for r in rows])
    pred = prediction_matrix(rows)
    f = fit(pred, measured, vendors, np.ones(len(rows), bool))
    in_sample = predict(pred, vendors, f)
    loso = leave_one_source_out(pred, measured, vendors, sources)
    today = datetime.date.today().isoformat()
    lines = [
        "# Fitted training-stack parameters. Written by scripts/calibrate_train.py; do not edit.",
        f"# Fitted {today} on {len(rows)} rows of data/validation/train_measurements.csv "
        f"({len(skipped)} skipped: shape or layout not published).",
        "# Method: xpuplan.validation.calibrate (grid search, mean |log error| of tokens/s/chip).",
        "# compute_scale_sd = std. dev. of that vendor's log residuals (for --interval).",
        "",
    ]
    for vendor in sorted(f.scale_index):
        stack = f.stack(vendor)
        sel = vendors == vendor if vendor != "default" else np.ones(len(rows), bool)
        resid = np.log(in_sample[sel] / measured[sel])
        err_in = np.median(np.abs(in_sample[sel] / measured[sel] - 1))
        err_loso = np.median(np.abs(loso[sel] / measured[sel] - 1))
        lines += [
            f"[train.{vendor}]",
            f"compute_scale = {stack.compute_scale:.4f}",
            f"compute_scale_sd = {float(np.std(resid)):.4f}",
            f"gemm_half_dim = {stack.gemm_half_dim:g}",
            f"gemm_overhead_us = {stack.gemm_overhead_s * 1e6:g}",
            f"n_rows = {int(sel.sum())}",
            f'source = "scripts/calibrate_train.py on {int(sel.sum())} development rows; '
            f'median abs error in-sample {err_in:.1%}, leave-one-source-out {err_loso:.1%}"',
            "",
        ]
        print(f"{vendor:8s} scale {stack.compute_scale:.3f} half_dim {stack.gemm_half_dim:g} "
              f"overhead {stack.gemm_overhead_s * 1e6:g} us rows {int(sel.sum()):3d} "
              f"in-sample {err_in:6.1%}  LOSO {err_loso:6.1%}")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT} (grid: {len(SCALE_GRID)} scales x {len(SHARED_GRID)} shared settings)")


if __name__ == "__main__":
    main()
