"""`xpuplan validate`: every usable published run predicted, in-sample and leave-one-source-out.

In-sample uses the shipped calibrations (fitted on all rows); leave-one-source-out refits the
same parameters without each source group and predicts that group (calibrate.calibrate).
Errors are |predicted / measured − 1| of each row's metric: training tokens/s per chip;
serving output tokens/s per chip, TPOT or TTFT.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from xpuplan.calibrate.calibrate import MIN_SOURCES, leave_one_source_out, prediction_matrix
from xpuplan.calibrate.infer_set import infer_rows, predict_row
from xpuplan.calibrate.serve_grid import SERVE_GROUP_GRID, SERVE_SHARED_GRID
from xpuplan.calibrate.serve_grid import prediction_matrix as serve_prediction_matrix
from xpuplan.calibrate.train_set import train_rows
from xpuplan.catalog.calibration import calibration
from xpuplan.hardware.efficiency import StackCalibration
from xpuplan.train.evaluate import evaluate


@dataclass
class ValidationRow:
    """One measurement against its in-sample and leave-one-source-out predictions."""
    id: str
    kind: str  # "train" or "infer"
    metric: str  # what was compared: tokens/s per chip, TPOT or TTFT (s)
    vendor: str
    source_group: str
    chip: str
    model: str
    n_chips: int
    measured: float  # tokens/s per chip
    predicted: float  # in-sample
    predicted_loso: float
    error: float  # |predicted/measured - 1|
    error_loso: float
    confidence: str


@dataclass
class ValidationReport:
    """Validation of every measurement, with error summaries by vendor and source."""
    rows: list[ValidationRow]
    skipped: dict[str, str]
    by_vendor: dict[str, dict]  # "train/nvidia", "infer/aws", ...
    by_source: dict[str, dict]
    at_bound: list[dict]  # fitted parameters at a free bound of their grid (failed fits)

    def to_dict(self) -> dict:
        return {"rows": [asdict(r) for r in self.rows], "skipped": self.skipped,
                "by_vendor": self.by_vendor, "by_source": self.by_source,
                "at_bound": self.at_bound,
                "error": "|predicted/measured - 1| of each row's metric"}


def groups_of(rows) -> np.ndarray:
    """Each row's calibration groups, most specific first, shape (n_rows, 4): family and
    vendor at the row's GEMM precision class, then family and vendor alone."""
    return np.array([[f"{r.family}/{r.precision_class}", f"{r.vendor}/{r.precision_class}",
                      r.family, r.vendor] for r in rows])


def fit_rows_of(rows, present: np.ndarray | None = None) -> np.ndarray:
    """Rows the calibration learns from, among the rows `present` (all by default;
    leave-one-source-out passes each fold's): conversions marked high confidence, or medium in
    a chip family whose present high-confidence rows come from fewer than MIN_SOURCES source
    groups (a vendor with no high row at all, or a family such as Blackwell with one high
    source: without its medium rows it could never be fitted apart from the vendor, whose group
    would then average two generations and push its host overheads to their bounds); never
    low."""
    present = np.ones(len(rows), bool) if present is None else present
    high: dict[str, set[str]] = {}
    for r, here in zip(rows, present, strict=True):
        if here and r.confidence == "high":
            high.setdefault(r.family, set()).add(r.source_group)
    return present & np.array([r.confidence == "high" or (r.confidence == "medium" and len(
        high.get(r.family, ())) < MIN_SOURCES) for r in rows])


def _summary(rows: list[ValidationRow], key: str) -> dict[str, dict]:
    out = {}
    for group in sorted({f"{r.kind}/{getattr(r, key)}" for r in rows}):
        sel = [r for r in rows if f"{r.kind}/{getattr(r, key)}" == group]
        err = np.array([r.error for r in sel])
        loso = np.array([r.error_loso for r in sel])
        out[group] = {"rows": len(sel), "median_error": float(np.median(err)),
                      "worst_error": float(err.max()),
                      "median_error_loso": float(np.median(loso)),
                      "worst_error_loso": float(loso.max())}
    return out


def validation_report() -> ValidationReport:
    """Predict every usable development row, training and inference, in-sample and LOSO."""
    train, skipped = _train_rows()
    infer, skipped_infer = _infer_rows()
    rows = train + infer
    return ValidationReport(rows=rows, skipped={**skipped, **skipped_infer},
                            by_vendor=_summary(rows, "vendor"),
                            by_source=_summary(rows, "source_group"), at_bound=at_bound())


def at_bound() -> list[dict]:
    """The shipped fits' parameters at a bound (written by the calibration scripts)."""
    return [{"kind": kind, **b.model_dump()} for kind in ("train", "infer")
            for b in calibration(kind).at_bound]


def _infer_rows() -> tuple[list[ValidationRow], dict]:
    rows, skipped = infer_rows()
    measured = np.array([r.measured for r in rows])
    in_sample = np.array([float(predict_row(r)[0]) for r in rows])
    loso = leave_one_source_out(serve_prediction_matrix(rows), measured, groups_of(rows),
                                np.array([r.source_group for r in rows]),
                                partial(fit_rows_of, rows), SERVE_GROUP_GRID, SERVE_SHARED_GRID)
    out = [ValidationRow(id=r.id, kind="infer", metric=r.metric, vendor=r.vendor,
                         source_group=r.source_group, chip=r.problem.chip.id,
                         model=r.problem.model.name, n_chips=r.problem.n_chips,
                         measured=float(m), predicted=float(p), predicted_loso=float(q),
                         error=float(abs(p / m - 1)), error_loso=float(abs(q / m - 1)),
                         confidence=r.confidence)
           for r, m, p, q in zip(rows, measured, in_sample, loso, strict=True)]
    return out, skipped


def _train_rows() -> tuple[list[ValidationRow], dict]:
    rows, skipped = train_rows()
    measured = np.array([r.measured_tokens_per_s_per_chip for r in rows])
    in_sample = np.array([float(evaluate(r.problem, r.layout).tokens_per_s[0])
                          / r.problem.n_chips for r in rows])
    grid_rows, _ = train_rows(StackCalibration(1.0, 0.0, 0.0, 0.0, 0, "grid"))
    pred = prediction_matrix(grid_rows)
    loso = leave_one_source_out(pred, measured, groups_of(rows),
                                np.array([r.source_group for r in rows]),
                                partial(fit_rows_of, rows))
    out = [ValidationRow(id=r.id, kind="train", metric="tokens_per_s_per_chip", vendor=r.vendor,
                         source_group=r.source_group,
                         chip=r.problem.chip.id, model=r.problem.model.name,
                         n_chips=r.problem.n_chips, measured=float(m), predicted=float(p),
                         predicted_loso=float(q), error=float(abs(p / m - 1)),
                         error_loso=float(abs(q / m - 1)), confidence=r.confidence)
           for r, m, p, q in zip(rows, measured, in_sample, loso, strict=True)]
    return out, skipped
