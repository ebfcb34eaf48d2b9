"""Refit the serving stack parameters and write src/xpuplan/data/calibration_infer.toml.

Run: python scripts/calibrate_infer.py
Per vendor: compute_scale (prefill GEMM rate / MAMF), memory_scale (decode read rate /
STREAM) and step_overhead_us (fixed cost per decode step); shared by all: latency_scale
(serving collectives' α relative to nccl-tests). Grid search minimising
the median |log(predicted / measured)| over data/validation/infer_measurements.csv; prints
in-sample and leave-one-source-out median errors per vendor.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from xpuplan.validation.calibrate import fit, leave_one_source_out, predict
from xpuplan.validation.infer_set import infer_rows
from xpuplan.validation.serve_grid import SHARED_GRID, VENDOR_GRID, prediction_matrix

OUT = Path(__file__).resolve().parents[1] / "src/xpuplan/data/calibration_infer.toml"


def main() -> None:
    rows, skipped = infer_rows()
    measured = np.array([r.measured for r in rows])
    vendors = np.array([r.vendor for r in rows])
    sources = np.array([r.source_group for r in rows])
    pred = prediction_matrix(rows)
    f = fit(pred, measured, vendors, np.ones(len(rows), bool))
    in_sample = predict(pred, vendors, f)
    loso = leave_one_source_out(pred, measured, vendors, sources)
    lines = [
        "# Fitted serving-stack parameters. Written by scripts/calibrate_infer.py; do not edit.",
        f"# Fitted {datetime.date.today().isoformat()} on {len(rows)} rows of "
        f"data/validation/infer_measurements.csv ({len(skipped)} skipped).",
        "# Method: grid search, median |log error| of each row's target metric.",
        "",
    ]
    for vendor in sorted(f.scale_index):
        c, m, overhead = VENDOR_GRID[f.scale_index[vendor]]
        latency = SHARED_GRID[f.shared_index]
        sel = vendors == vendor if vendor != "default" else np.ones(len(rows), bool)
        resid = np.log(in_sample[sel] / measured[sel])
        err_in = np.median(np.abs(in_sample[sel] / measured[sel] - 1))
        err_loso = np.median(np.abs(loso[sel] / measured[sel] - 1))
        lines += [
            f"[infer.{vendor}]",
            f"compute_scale = {c:.4f}",
            f"memory_scale = {m:.4f}",
            f"step_overhead_us = {overhead * 1e6:g}",
            f"latency_scale = {latency:g}",
            f"log_sd = {float(np.std(resid)):.4f}",
            f"n_rows = {int(sel.sum())}",
            f'source = "scripts/calibrate_infer.py on {int(sel.sum())} development rows; '
            f'median abs error in-sample {err_in:.1%}, leave-one-source-out {err_loso:.1%}"',
            "",
        ]
        print(f"{vendor:8s} compute {c:.3f} memory {m:.3f} overhead {overhead * 1e6:g} us "
              f"latency x{latency:g} rows {int(sel.sum()):3d} "
              f"in-sample {err_in:6.1%}  LOSO {err_loso:6.1%}")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
