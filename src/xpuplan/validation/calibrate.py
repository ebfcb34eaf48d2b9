"""Fit the training stack parameters on the development set, and measure how they generalise.

Parameters (hardware.efficiency.StackCalibration): one `compute_scale` per vendor stack
(nvidia, amd, aws, google, and `default` fitted on every row) and one `gemm_half_dim` shared
by all. Fit: grid search minimising the mean |log(predicted / measured)| of tokens/s per chip.
Leave-one-source-out: for each source group, refit without its rows and predict them; a
vendor left with no rows falls back to the `default` scale, as an unseen vendor would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.train.evaluate import evaluate
from xpuplan.validation.train_set import TrainRow, with_stack

SCALE_GRID = np.geomspace(0.15, 2.0, 121)
HALF_DIM_GRID = (0.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0)


@dataclass(frozen=True)
class Fit:
    half_dim_index: int
    scale_index: dict[str, int]  # vendor (and 'default') -> index into SCALE_GRID

    def params(self, vendor: str) -> tuple[float, float]:
        """(compute_scale, gemm_half_dim) used for a row of `vendor`."""
        key = vendor if vendor in self.scale_index else "default"
        return float(SCALE_GRID[self.scale_index[key]]), HALF_DIM_GRID[self.half_dim_index]


def prediction_matrix(rows: list[TrainRow]) -> np.ndarray:
    """Predicted tokens/s per chip, shape (n_rows, n_half_dims, n_scales)."""
    out = np.empty((len(rows), len(HALF_DIM_GRID), len(SCALE_GRID)))
    for i, row in enumerate(rows):
        for j, half in enumerate(HALF_DIM_GRID):
            stack = StackCalibration(compute_scale=1.0, compute_scale_sd=0.0, gemm_half_dim=half,
                                     n_rows=0, source="calibration grid")
            r = with_stack(row, stack)
            ev = evaluate(r.problem, r.layout, compute_scale=SCALE_GRID)
            out[i, j] = ev.tokens_per_s / r.problem.n_chips
    return out


def fit(pred: np.ndarray, measured: np.ndarray, vendors: np.ndarray,
        mask: np.ndarray) -> Fit:
    """Best half-dim and per-vendor scales on the rows in `mask` (module doc)."""
    log_err = np.abs(np.log(pred / measured[:, None, None]))  # (rows, half, scale)
    best = None
    for j in range(len(HALF_DIM_GRID)):
        scales, total = {}, 0.0
        for vendor in np.unique(vendors[mask]):
            sel = mask & (vendors == vendor)
            cost = log_err[sel, j].mean(axis=0)
            scales[str(vendor)] = int(np.argmin(cost))
            total += cost.min() * sel.sum()
        scales["default"] = int(np.argmin(log_err[mask, j].mean(axis=0)))
        if best is None or total < best[0]:
            best = (total, Fit(half_dim_index=j, scale_index=scales))
    return best[1]


def predict(pred: np.ndarray, vendors: np.ndarray, f: Fit) -> np.ndarray:
    """Predicted tokens/s per chip of every row under fit `f`, shape (n_rows,)."""
    out = np.empty(len(vendors))
    for i, vendor in enumerate(vendors):
        key = vendor if vendor in f.scale_index else "default"
        out[i] = pred[i, f.half_dim_index, f.scale_index[key]]
    return out


def leave_one_source_out(pred: np.ndarray, measured: np.ndarray, vendors: np.ndarray,
                         sources: np.ndarray) -> np.ndarray:
    """Each row predicted by a fit that never saw its source group, shape (n_rows,)."""
    out = np.empty(len(measured))
    for source in np.unique(sources):
        held = sources == source
        f = fit(pred, measured, vendors, ~held)
        # A vendor with no rows left is unseen: drop its scale so it takes 'default'.
        seen = set(np.unique(vendors[~held]))
        f = Fit(f.half_dim_index, {k: v for k, v in f.scale_index.items()
                                   if k in seen or k == "default"})
        out[held] = predict(pred, vendors, f)[held]
    return out
