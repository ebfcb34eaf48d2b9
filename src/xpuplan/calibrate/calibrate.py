"""Fit the training stack parameters on the development set, and measure how they generalise.

Parameters (hardware.efficiency.StackCalibration): one `compute_scale` per group, the most
specific with enough rows winning: chip family at a GEMM precision (nvidia-hopper/fp8),
vendor at a precision (nvidia/bf16), family (architecture generation: nvidia-hopper,
aws-neuroncore-v2, ...), vendor, and `default` (fitted on every row); one `gemm_half_dim` and one
`gemm_overhead_us` shared by all. Fit: grid search minimising the median |log(predicted /
measured)| of the rows' metric, on the rows whose conversion to that metric is marked high
confidence, or medium in a chip family with fewer than MIN_SOURCES high-confidence sources
(report.fit_rows_of; low ones are predicted, not learnt from). A group gets its own
parameters only from MIN_ROWS rows of at least MIN_SOURCES independent source groups
(`source_group`), else it borrows its parent's. A parameter fitted
at a free bound of its grid is a failed fit (the grid, not the data, chose it: a missing
mechanism hides there): it is reported (`Fit.failures`, shown by `xpuplan validate`) and the
group takes its parent's value for it, refitting the rest. Bounds that are physical limits
(a zero overhead) are not failures. Leave-one-source-out: for each source group, rerun the
calibration as if that source had never been published (the rows it may learn from chosen
again from the other sources' rows: a family left with one high-confidence source learns from
its medium rows too, as the shipped fit of such a family does), and predict its rows; a group
left with too few rows or sources falls back to its parent, as an unseen chip would.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xpuplan.calibrate.train_set import TrainRow, with_stack
from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.specs.samples import Samples
from xpuplan.train.evaluate import evaluate

SCALE_GRID = np.geomspace(0.15, 2.0, 101)
# Fewest rows a group needs for its own parameters (else it borrows its parent's): a
# family (or family at one precision) must have enough to stand apart; a vendor needs two.
MIN_ROWS = (5, 5, 5, 2)  # per column: family/precision, vendor/precision, family, vendor
MIN_SOURCES = 2  # independent source groups a group must be fitted from (issue #11)
HALF_DIM_GRID = (0.0, 128.0, 256.0, 512.0, 1024.0, 2048.0)
OVERHEAD_GRID_S = (0.0, 5e-6, 10e-6, 20e-6, 40e-6, 80e-6, 160e-6, 320e-6)
SHARED_GRID = tuple(itertools.product(HALF_DIM_GRID, OVERHEAD_GRID_S))  # (d½, overhead)


@dataclass(frozen=True)
class Grid:
    """A product grid of named parameters; `free_low`/`free_high` say whether reaching that
    end is a failed fit (a grid artefact) or a physical limit (zero cost, peak bandwidth)."""

    names: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    free_low: tuple[bool, ...]
    free_high: tuple[bool, ...]

    @property
    def axes(self) -> np.ndarray:
        """Per setting, the index of each parameter, shape (n_settings, n_params)."""
        shape = tuple(len(v) for v in self.values)
        return np.stack(np.unravel_index(np.arange(int(np.prod(shape))), shape), axis=1)

    def at_bound(self, setting: int) -> list[tuple[int, str]]:
        """(parameter index, 'lower'|'upper') of each parameter of `setting` at a free bound."""
        out = []
        for k, i in enumerate(self.axes[setting]):
            if i == 0 and self.free_low[k]:
                out.append((k, "lower"))
            elif i == len(self.values[k]) - 1 and self.free_high[k]:
                out.append((k, "upper"))
        return out


TRAIN_GROUP_GRID = Grid(("compute_scale",), (tuple(SCALE_GRID),), (True,), (True,))
TRAIN_SHARED_GRID = Grid(("gemm_half_dim", "gemm_overhead_s"), (HALF_DIM_GRID, OVERHEAD_GRID_S),
                         (False, False), (True, True))


@dataclass(frozen=True)
class Fit:
    """A fitted calibration: the shared grid index and each group's scale index."""
    shared_index: int  # into the shared grid
    scale_index: dict[str, int]  # group name ('default' too) -> index into the group grid
    failures: tuple[dict, ...] = ()  # parameters that ended at a bound (module doc)

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
    """Predicted tokens/s per chip, shape (n_rows, n_shared, n_scales): the compute scales
    are one sample axis (specs.samples), the shared settings a loop."""
    samples = Samples(compute_scale=SCALE_GRID)
    out = np.empty((len(rows), len(SHARED_GRID), len(SCALE_GRID)))
    for i, row in enumerate(rows):
        for j, (half, overhead) in enumerate(SHARED_GRID):
            stack = StackCalibration(compute_scale=1.0, compute_scale_sd=0.0, gemm_half_dim=half,
                                     gemm_overhead_s=overhead, n_rows=0, source="grid")
            r = with_stack(row, stack)
            ev = evaluate(r.problem, r.layout, samples)  # (1, n_scales)
            out[i, j] = ev.tokens_per_s[0] / r.problem.n_chips
    return out


def _parent(groups: np.ndarray, sel: np.ndarray, column: int, scales: dict) -> str:
    """The fitted group a group's rows fall back to: the next fitted one in their chain."""
    row = groups[np.flatnonzero(sel)[0]]
    return next((str(k) for k in row[column + 1:] if str(k) in scales), "default")


def _fit_group(cost: np.ndarray, grid: Grid, parent: int | None) -> tuple[int, list[tuple]]:
    """Best setting of one group; a parameter that ends at a free bound takes its parent's
    value and the others are refitted, until none is at a bound. Returns (setting, failures:
    (parameter index, bound, value at the bound))."""
    axes, allowed = grid.axes, np.ones(len(cost), bool)
    failures: list[tuple[int, str, float]] = []
    best = int(np.argmin(cost))
    for _ in range(len(grid.names)):
        hits = [h for h in grid.at_bound(best) if h[0] not in {f[0] for f in failures}]
        if not hits:
            break
        for k, bound in hits:
            failures.append((k, bound, grid.values[k][axes[best, k]]))
            if parent is not None:
                allowed &= axes[:, k] == axes[parent, k]
        if parent is None:
            break
        best = int(np.argmin(np.where(allowed, cost, np.inf)))
    return best, failures


def fit(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray, mask: np.ndarray,
        sources: np.ndarray | None = None, grid: Grid = TRAIN_GROUP_GRID,
        shared: Grid = TRAIN_SHARED_GRID) -> Fit:
    """Best shared parameters and per-group settings on the rows in `mask` (module doc).

    `groups` has shape (n_rows, n_levels): each row's groups, most specific first
    (family/precision, vendor/precision, family, vendor). A group gets its own setting only
    with MIN_ROWS rows from MIN_SOURCES source groups; a parameter it fits at a free bound
    of `grid` is a failed fit: it takes its parent group's value instead (recorded).
    """
    sources = np.arange(len(measured)).astype(str) if sources is None else sources
    log_err = np.abs(np.log(pred / measured[:, None, None]))  # (rows, shared, group grid)
    best: tuple[float, int, dict[str, int], list[tuple]] | None = None
    for j in range(pred.shape[1]):
        cost = np.median(log_err[mask, j], axis=0)
        scales = {"default": int(np.argmin(cost))}
        failures = [("default", *f) for f in _fit_group(cost, grid, None)[1]]
        for column in reversed(range(groups.shape[1])):  # vendors first, then finer
            for group in np.unique(groups[mask, column]):
                sel = mask & (groups[:, column] == group)
                if sel.sum() < MIN_ROWS[column] or len(set(sources[sel])) < MIN_SOURCES:
                    continue
                parent = _parent(groups, sel, column, scales)
                setting, fails = _fit_group(np.median(log_err[sel, j], axis=0), grid,
                                            scales[parent])
                scales[str(group)] = setting
                failures += [(str(group), *f, parent) for f in fails]
        # The shared setting is chosen on the rows' errors under their own group's scale.
        keys = [next(k for k in (*row, "default") if k in scales) for row in groups]
        per_row = log_err[np.arange(len(keys)), j, [scales[k] for k in keys]]
        total = float(np.mean(per_row[mask]))
        if best is None or total < best[0]:
            best = (total, j, scales, failures)
    assert best is not None, "the shared grid has at least one setting"
    _, j, scales, failures = best
    report = [{"group": f[0], "parameter": grid.names[f[1]], "value": float(f[3]),
               "bound": f[2], "fallback": f[4] if len(f) > 4 else None} for f in failures]
    report += [{"group": "shared", "parameter": shared.names[k], "value":
                float(shared.values[k][shared.axes[j, k]]), "bound": bound, "fallback": None}
               for k, bound in shared.at_bound(j)]
    return Fit(shared_index=j, scale_index=scales, failures=tuple(report))


def predict(pred: np.ndarray, groups: np.ndarray, f: Fit) -> np.ndarray:
    """Predicted metric of every row under fit `f`, shape (n_rows,)."""
    return np.array([pred[i, f.shared_index, f.scale_index[f.key(*row)]]
                     for i, row in enumerate(groups)])


FitRule = Callable[[np.ndarray], np.ndarray]


def every_row(present: np.ndarray) -> np.ndarray:
    """The fit rule that learns from every row present."""
    return present


def leave_one_source_out(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray,
                         sources: np.ndarray, fit_rule: FitRule = every_row,
                         grid: Grid = TRAIN_GROUP_GRID,
                         shared: Grid = TRAIN_SHARED_GRID) -> np.ndarray:
    """Each row predicted by a fit that never saw its source group, shape (n_rows,).

    `fit_rule(present)` marks, among the rows `present`, those a fit may learn from (all by
    default); it is applied to each fold's rows. Every row is predicted.
    """
    out = np.empty(len(measured))
    for source in np.unique(sources):
        held = sources == source
        f = fit(pred, measured, groups, fit_rule(~held), sources, grid, shared)
        out[held] = predict(pred, groups, f)[held]
    return out


def group_report(f: Fit, groups: np.ndarray, measured: np.ndarray, in_sample: np.ndarray,
                 loso: np.ndarray, sources: np.ndarray) -> dict[str, dict]:
    """Per fitted group: its rows, sources, residual spreads (in-sample and LOSO) and median
    errors (in-sample and LOSO)."""
    out = {}
    for key in sorted(f.scale_index):
        if key == "default":
            sel = np.ones(len(measured), bool)
        else:
            sel = (groups == key).any(axis=1)
        ratio, ratio_loso = in_sample[sel] / measured[sel], loso[sel] / measured[sel]
        out[key] = {"rows": int(sel.sum()), "sources": len(set(sources[sel])),
                    "log_sd": float(np.std(np.log(ratio))),
                    "log_sd_loso": float(np.std(np.log(ratio_loso))),
                    "median_error": float(np.median(np.abs(ratio - 1))),
                    "median_error_loso": float(np.median(np.abs(ratio_loso - 1)))}
    return out


def fit_all(pred: np.ndarray, measured: np.ndarray, groups: np.ndarray, sources: np.ndarray,
            fit_rule: FitRule, grid: Grid = TRAIN_GROUP_GRID,
            shared: Grid = TRAIN_SHARED_GRID) -> tuple[Fit, dict[str, dict], np.ndarray]:
    """Fit on the rows `fit_rule` picks from all (report.fit_rows_of: high-confidence
    conversions), predict every row in-sample and leave-one-source-out, and report per group
    (with its sources); also the LOSO predictions."""
    f = fit(pred, measured, groups, fit_rule(np.ones(len(measured), bool)), sources, grid, shared)
    in_sample = predict(pred, groups, f)
    loso = leave_one_source_out(pred, measured, groups, sources, fit_rule, grid, shared)
    return f, group_report(f, groups, measured, in_sample, loso, sources), loso


def toml_header(script: str, data_file: str, n_rows: int, n_skipped: int) -> list[str]:
    """Header comment lines of a fitted-parameters TOML file (script, data, method)."""
    import datetime

    return [f"# Fitted parameters. Written by scripts/{script}; do not edit.",
            f"# Fitted {datetime.date.today().isoformat()} on {n_rows} rows of "
            f"data/validation/{data_file} ({n_skipped} skipped: shape, layout or lengths "
            "not published).",
            "# Method: xpuplan.calibrate.calibrate (grid search, median |log error|); groups",
            "# are family/precision, vendor/precision, family, vendor and 'default', in",
            "# that order of preference.", ""]


def toml_group_stats(r: dict) -> list[str]:
    """A group's evidence for calibrate.confidence: sources, LOSO spread and median error."""
    return [f"n_sources = {r['sources']}", f"log_sd_loso = {r['log_sd_loso']:.4f}",
            f"median_error_loso = {r['median_error_loso']:.4f}"]


def toml_diagnostics(kind: str, f: Fit, chips: list[str], classes: list[str],
                     sources: np.ndarray, measured: np.ndarray, loso: np.ndarray,
                     fit_rows: np.ndarray) -> list[str]:
    """The fit's parameters at a bound, and the rows behind each chip at each precision class
    (what `calibrate.confidence` reads at prediction time)."""
    lines = []
    for fail in f.failures:
        fallback = f'"{fail["fallback"]}"' if fail["fallback"] else '"none"'
        lines += [f"[[{kind}_at_bound]]", f'group = "{fail["group"]}"',
                  f'parameter = "{fail["parameter"]}"', f"value = {fail['value']:g}",
                  f'bound = "{fail["bound"]}"', f"fallback = {fallback}", ""]
    keys = np.array([f"{c}/{p}" for c, p in zip(chips, classes, strict=True)])
    for key in sorted(set(keys)):
        sel = keys == key
        err = np.abs(loso[sel] / measured[sel] - 1)
        lines += [f'[{kind}_coverage."{key}"]', f"rows = {int(sel.sum())}",
                  f"fit_rows = {int((sel & fit_rows).sum())}",
                  f"sources = {len(set(sources[sel]))}",
                  f"median_error_loso = {float(np.median(err)):.4f}",
                  f"log_sd_loso = {float(np.std(np.log(loso[sel] / measured[sel]))):.4f}", ""]
    return lines


def toml_source(script: str, r: dict) -> str:
    """The `source = ...` TOML line of a fitted group: script, rows and median errors."""
    return (f'source = "scripts/{script} on {r["rows"]} development rows; median abs error '
            f'in-sample {r["median_error"]:.1%}, leave-one-source-out '
            f'{r["median_error_loso"]:.1%}"')
