"""Fit the training stack parameters on the development set, and measure how they generalise.

Parameters (hardware.efficiency.StackCalibration): one `compute_scale` per vendor stack
(nvidia, amd, aws, google, and `default` fitted on every row); one `gemm_half_dim` and one
`gemm_overhead_us` shared by all. Fit: grid search minimising the mean |log(predicted /
measured)| of tokens/s per chip. Leave-one-source-out: for each source group, refit without
its rows and predict them; a vendor left with no rows falls back to the `default` scale, as
an unseen vendor would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.train.evaluate import evaluate
from xpuplan.validation.train_set import TrainRow, with_stack

SCALE_GRID = np.geomspace(0.15, 2.0, 101)
HALF_DIM_GRID = (0.0, 128.0, 256.0, 512.0, 1024.0, 2048.0)
OVERHEAD_GRID_S = (0.0, 5e-6, 10e-6, 20e-6, 40e-6, 80e-6)
SHARED_GRID = tuple(itertools.product(HALF_DIM_GRID, OVERHEAD_GRID_S))  # (d½, overhead)


@dataclass(frozen=True)
class Fit:
    shared_index: int  # into SHARED_GRID
    scale_index: dict[str, int]  # vendor (and 'default') -> index into SCALE_GRID

    def stack(self, vendor: str, sd: float = 0.0, n_rows: int = 0,
              source: str = "fit") -> StackCalibration:
        """The StackCalibration a row of `vendor` is predicted with."""
        key = vendor if vendor in self.scale_index else "default"
        half, overhead = SHARED_GRID[self.shared_index]
        return StackCalibration(compute_scale=float(SCALE_GRID[self.scale_index[key]]),
                                compute_scale_sd=sd, gemm_half_dim=half,
                                gemm_overhead_s=overhead, n_rows=n_rows, source=source)


def prediction_matrix(rows: list[TrainRow]) -> np.ndarray:
    """Predicted tokens/s per chip, shape (n_rows, n_shared, n_scales)."""
    out = np.empty((len(rows), len(SHARED_GRID), len(SCALE_GRID)))
    for i, row in enumerate(rows):
        for j, (half, overhead) in enumerate(SHARED_GRID):
            stack = StackCalibration(compute_scale=1.0, compute_scale_sd=0.0, gemm_half_dim=half,
                                     gemm_overhead_s=overhead, n_rows=0, source="grid")
            r = with_stack(row, stack)
            ev = evaluate(r.problem, r.layout, compute_scale=SCALE_GRID)
            out[i, j] = ev.tokens_per_s / r.problem.n_chips
    return out


def fit(pred: np.ndarray, measured: np.ndarray, vendors: np.ndarray, mask: np.ndarray) -> Fit:
    """Best shared parameters and per-vendor scales on the rows in `mask` (module doc)."""
    log_err = np.abs(np.log(pred / measured[:, None, None]))  # (rows, shared, scale)
    best = None
    for j in range(pred.shape[1]):
        scales, total = {}, 0.0
        for vendor in np.unique(vendors[mask]):
            sel = mask & (vendors == vendor)
            cost = np.median(log_err[sel, j], axis=0)
            scales[str(vendor)] = int(np.argmin(cost))
            total += cost.min() * sel.sum()
        scales["default"] = int(np.argmin(np.median(log_err[mask, j], axis=0)))
        if best is None or total < best[0]:
            best = (total, Fit(shared_index=j, scale_index=scales))
    return best[1]


def predict(pred: np.ndarray, vendors: np.ndarray, f: Fit) -> np.ndarray:
    """Predicted tokens/s per chip of every row under fit `f`, shape (n_rows,)."""
    out = np.empty(len(vendors))
    for i, vendor in enumerate(vendors):
        key = vendor if vendor in f.scale_index else "default"
        out[i] = pred[i, f.shared_index, f.scale_index[key]]
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
        f = Fit(f.shared_index, {k: v for k, v in f.scale_index.items()
                                 if k in seen or k == "default"})
        out[held] = predict(pred, vendors, f)[held]
    return out
