"""Fit the training stack parameters on the development set, and measure how they generalise.

Parameters (hardware.efficiency.StackCalibration): one `compute_scale` per group, the most
specific with enough rows winning: chip family at a GEMM precision (nvidia-hopper/fp8),
vendor at a precision (nvidia/bf16), family (architecture generation: nvidia-hopper,
aws-neuroncore-v2, ...), vendor, and `default` (fitted on every row); one `gemm_half_dim` and one
`gemm_overhead_us` shared by all. Fit: grid search minimising the median |log(predicted /
measured)| of the rows' metric, on the rows whose conversion to that metric is marked high
confidence, or medium where a vendor has nothing better (low ones are predicted, not learnt
from). Leave-one-source-out: for each source
group, refit without its
rows and predict them; a family with fewer than MIN_ROWS rows left falls back to its vendor,
and a vendor to `default`, as an unseen chip would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from xpuplan.calibrate.train_set import TrainRow, with_stack
from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.train.evaluate import evaluate

SCALE_GRID = np.geomspace(0.15, 2.0, 101)
# Fewest rows a group needs for its own parameters (else it borrows its parent's): a
# family (or family at one precision) must have enough to stand apart; a vendor needs two.
MIN_ROWS = (5, 5, 5, 2)  # per column: family/precision, vendor/precision, family, vendor
HALF_DIM_GRID = (0.0, 128.0, 256.0, 512.0, 1024.0, 2048.0)
OVERHEAD_GRID_S = (0.0, 5e-6, 10e-6, 20e-6, 40e-6, 80e-6)
SHARED_GRID = tuple(itertools.product(HALF_DIM_GRID, OVERHEAD_GRID_S))  # (d½, overhead)


@dataclass(frozen=True)
class Fit:
    shared_index: int  # into the shared grid
    scale_index: dict[str, int]  # group name ('default' too) -> index into the group grid

    def key(self, *groups: str) -> str:
        """The most specific fitted group of a row (groups most specific first), else default."""
        return next(k for k in (*groups, "default") if k in self.scale_index)

    def stack(self, key: str) -> StackCalibration:
        """The StackCalibration of fitted group `key`."""
        half, overhead = SHARED_GRID[self.shared_index]
        return StackCalibration(compute_scale=float(SCALE_GRID[self.scale_index[key]]),
                                compute_scale_sd=0.0, gemm_half_dim=half,
                                gemm_overhead_s=overhead, n_rows=0, source="fit")


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


def fit(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray, mask: np.ndarray) -> Fit:
    """Best shared parameters and per-group scales on the rows in `mask` (module doc).

    `groups` has shape (n_rows, n_levels): each row's groups, most specific first
    (family/precision, vendor/precision, family, vendor).
    """
    log_err = np.abs(np.log(pred / measured[:, None, None]))  # (rows, shared, vendor grid)
    best = None
    for j in range(pred.shape[1]):
        scales, total = {}, 0.0
        for column in reversed(range(groups.shape[1])):  # vendors first, then finer
            for group in np.unique(groups[mask, column]):
                sel = mask & (groups[:, column] == group)
                if sel.sum() < MIN_ROWS[column]:
                    continue
                cost = np.median(log_err[sel, j], axis=0)
                scales[str(group)] = int(np.argmin(cost))
        scales["default"] = int(np.argmin(np.median(log_err[mask, j], axis=0)))
        # The shared setting is chosen on the rows' errors under their own group's scale.
        keys = [next(k for k in (*row, "default") if k in scales) for row in groups]
        per_row = log_err[np.arange(len(keys)), j, [scales[k] for k in keys]]
        total = float(np.mean(per_row[mask]))
        if best is None or total < best[0]:
            best = (total, Fit(shared_index=j, scale_index=scales))
    return best[1]


def predict(pred: np.ndarray, groups: np.ndarray, f: Fit) -> np.ndarray:
    """Predicted metric of every row under fit `f`, shape (n_rows,)."""
    return np.array([pred[i, f.shared_index, f.scale_index[f.key(*row)]]
                     for i, row in enumerate(groups)])


def leave_one_source_out(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray,
                         sources: np.ndarray, fit_rows: np.ndarray | None = None) -> np.ndarray:
    """Each row predicted by a fit that never saw its source group, shape (n_rows,).

    `fit_rows` marks the rows a fit may learn from (all by default); every row is predicted.
    """
    out = np.empty(len(measured))
    usable = np.ones(len(measured), bool) if fit_rows is None else fit_rows
    for source in np.unique(sources):
        held = sources == source
        f = fit(pred, measured, groups, ~held & usable)  # groups with rows left get a scale
        out[held] = predict(pred, groups, f)[held]
    return out


def group_report(f: Fit, groups: np.ndarray, measured: np.ndarray, in_sample: np.ndarray,
                 loso: np.ndarray) -> dict[str, dict]:
    """Per fitted group: its rows, residual spread and median errors (in-sample and LOSO)."""
    out = {}
    for key in sorted(f.scale_index):
        if key == "default":
            sel = np.ones(len(measured), bool)
        else:
            sel = (groups == key).any(axis=1)
        ratio, ratio_loso = in_sample[sel] / measured[sel], loso[sel] / measured[sel]
        out[key] = {"rows": int(sel.sum()), "log_sd": float(np.std(np.log(ratio))),
                    "median_error": float(np.median(np.abs(ratio - 1))),
                    "median_error_loso": float(np.median(np.abs(ratio_loso - 1)))}
    return out


def fit_all(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray, sources: np.ndarray,
            fit_rows: np.ndarray) -> tuple[Fit, dict[str, dict]]:
    """Fit on the `fit_rows` (high-confidence conversions), predict every row in-sample and
    leave-one-source-out, and report per group."""
    f = fit(pred, measured, groups, fit_rows)
    in_sample = predict(pred, groups, f)
    loso = leave_one_source_out(pred, measured, groups, sources, fit_rows)
    return f, group_report(f, groups, measured, in_sample, loso)


def toml_header(script: str, data_file: str, n_rows: int, n_skipped: int) -> list[str]:
    import datetime

    return [f"# Fitted parameters. Written by scripts/{script}; do not edit.",
            f"# Fitted {datetime.date.today().isoformat()} on {n_rows} rows of "
            f"data/validation/{data_file} ({n_skipped} skipped: shape, layout or lengths "
            "not published).",
            "# Method: xpuplan.calibrate.calibrate (grid search, median |log error|); groups",
            "# are family/precision, vendor/precision, family, vendor and 'default', in",
            "# that order of preference.", ""]


def toml_source(script: str, r: dict) -> str:
    return (f'source = "scripts/{script} on {r["rows"]} development rows; median abs error '
            f'in-sample {r["median_error"]:.1%}, leave-one-source-out '
            f'{r["median_error_loso"]:.1%}"')
