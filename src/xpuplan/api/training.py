"""API: training predictions, layout search, interval and the cross-chip comparison."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.economics.run_cost import training_run_cost
from xpuplan.errors import InfeasibleError, SpecError, XpuplanError
from xpuplan.hardware.efficiency import chip_efficiency, reserved_fraction
from xpuplan.specs.bounds import bound_for, check, check_all
from xpuplan.specs.layouts import RECOMPUTE, Layouts
from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import parse_precision
from xpuplan.train.evaluate import REASONS, TrainProblem, evaluate
from xpuplan.train.result import TrainResult, train_result
from xpuplan.train.search import SearchResult, search

TRAIN_KNOBS = ("tp", "pp", "dp", "cp", "ep", "vpp", "micro_batch", "zero", "recompute", "sp")
# Llama 3 405B ended pre-training at 16M tokens per step (Llama 3 paper, sec. 3.4.1).
DEFAULT_GLOBAL_BATCH_TOKENS = 16 * 1024 * 1024
# Llama 3 pre-trains at 8K tokens per sequence before long-context training (same section).
DEFAULT_TRAIN_SEQ_LEN = 8192


def train_problem(model: str | os.PathLike | ModelSpec, chip_name: str, n_chips: int,
                  seq_len: int | None = None, global_batch: int | None = None,
                  precision: str = "bf16", catalog_files: list[str] | None = None
                  ) -> TrainProblem:
    """Validate the inputs of a training prediction and gather what it needs.

    `seq_len` defaults to 8192, or to the model's learned position table if shorter (GPT-2).
    """
    check_all(chips=n_chips, seq_len=seq_len, global_batch=global_batch)
    if n_chips is None:
        raise SpecError("chips", n_chips, "must be given")
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    positions = m.learned_positions or None
    if seq_len is None:
        seq_len = min(DEFAULT_TRAIN_SEQ_LEN, positions or DEFAULT_TRAIN_SEQ_LEN)
    if positions and seq_len > positions:
        raise SpecError("seq_len", seq_len, f"{m.name} has a learned position table of "
                        f"{positions} rows, so at most {positions} tokens per sequence")
    if global_batch is None:
        global_batch = max(1, DEFAULT_GLOBAL_BATCH_TOKENS // seq_len)
    check("tokens_per_step", global_batch * seq_len)
    cat = hardware_catalog(catalog_files)
    c = cat.chip(chip_name)
    p = parse_precision(precision)
    c.dense_flops(p)  # raises a SpecError when the chip has no such rate
    if c.hbm_bw is None:
        raise SpecError("chip", c.id, "has no HBM bandwidth in the catalog; add one with "
                        "--catalog (hbm_tb_per_s) to predict its step time")
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    return TrainProblem(model=m, chip=c, efficiency=chip_efficiency(c, vendor_of, precision=p),
                        n_chips=n_chips, seq_len=seq_len, global_batch=global_batch,
                        precision=p, reserved_bytes=reserved_fraction() * c.hbm_bytes)


@dataclass
class LayoutSearch:
    """The best fitting layouts of one search and its size; unpacks as `(best, found)`."""

    best: list[TrainResult]
    found: SearchResult

    def __iter__(self):
        return iter((self.best, self.found))

    def to_dict(self) -> dict:
        """What `xpuplan search --json` prints."""
        return {"configs_evaluated": self.found.configs_evaluated,
                "search_time_s": self.found.search_time_s,
                "configs_fitting": int(len(self.found.order)),
                "top": [b.to_dict() for b in self.best]}


def search_layouts(problem: TrainProblem, top: int = 5, **fixed) -> LayoutSearch:
    """The best `top` fitting layouts (fixed knobs pinned); InfeasibleError if none fits."""
    check("top", top)
    fixed = _check_fixed(fixed)
    result = search(problem, fixed)
    if len(result.order) == 0:
        raise _why_nothing(problem, result, fixed)
    best = [train_result(problem, result.evaluated, int(i)) for i in result.order[:top]]
    return LayoutSearch(best=best, found=result)


def train(model: str | os.PathLike | ModelSpec, chip: str, chips: int,
          seq_len: int | None = None,
          global_batch: int | None = None, precision: str = "bf16", tokens: float | None = None,
          catalog_files: list[str] | None = None, price_term: str = "on_demand",
          **fixed) -> TrainResult:
    """Predict training on `chips` chips; the knobs given are fixed, the rest are searched
    for the fastest layout that fits.

    A given layout that breaks a rule raises a SpecError naming the constraint and by how
    much (memory: bytes needed vs available, for the leanest setting of the free knobs).
    """
    check("tokens", tokens)
    problem = train_problem(model, chip, chips, seq_len, global_batch, precision,
                            catalog_files)
    fixed = _check_fixed(fixed)
    result = search(problem, fixed)
    if len(result.order) == 0:
        raise _why_nothing(problem, result, fixed)
    best = train_result(problem, result.evaluated, int(result.order[0]))
    if tokens is not None:
        cat = hardware_catalog(catalog_files)
        best.run = training_run_cost(tokens, best.tokens_per_s, chips, problem.chip, cat,
                                     price_term)
    return best


def _check_fixed(fixed: dict) -> dict:
    unknown = set(fixed) - set(TRAIN_KNOBS)
    if unknown:
        raise SpecError("layout", sorted(unknown)[0], f"allowed knobs: {', '.join(TRAIN_KNOBS)}")
    out = {k: v for k, v in fixed.items() if v is not None}
    if isinstance(out.get("recompute"), str):
        if out["recompute"] not in RECOMPUTE:
            raise SpecError("recompute", out["recompute"], f"allowed: {', '.join(RECOMPUTE)}")
        out["recompute"] = RECOMPUTE.index(out["recompute"])
    for k, v in out.items():
        if k == "sp":
            if not isinstance(v, bool):
                raise SpecError(k, v, "must be true or false")
            continue
        if k != "recompute":
            check(k, v)
        elif not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(RECOMPUTE):
            raise SpecError(k, v, f"allowed: {', '.join(RECOMPUTE)}")
    return out


def _why_nothing(p: TrainProblem, result: SearchResult, fixed: dict) -> XpuplanError:
    """The error for a search with no fitting layout: the broken rule of the user's layout
    (SpecError), or, for a free search, the smallest chip count that fits (InfeasibleError)."""
    ev = result.evaluated
    layout_given = all(k in fixed for k in ("tp", "pp"))
    if len(ev.layouts) == 0:  # the fixed knobs leave no candidate: check them as written
        tp, pp, cp = fixed.get("tp", 1), fixed.get("pp", 1), fixed.get("cp", 1)
        literal = {"tp": tp, "pp": pp, "cp": cp, "dp": max(1, p.n_chips // (tp * pp * cp)),
                   **fixed}
        _raise_if_illegal(p, evaluate(p, Layouts.build(**literal)))
    elif not ev.legal.any():
        if fixed and not (ev.reason == 9).any():  # the given knobs break a rule
            _raise_if_illegal(p, evaluate(p, ev.layouts.take([0])))
    elif layout_given:
        leanest = np.flatnonzero(ev.legal)[np.argmin(ev.memory_per_chip_bytes[ev.legal])]
        _raise_if_illegal(p, evaluate(p, ev.layouts.take([int(leanest)])))
    return _nothing_fits(p, result, fixed)


def _raise_if_illegal(p: TrainProblem, ev) -> None:
    reason = int(ev.reason[0])
    lay = ev.layouts.row(0)
    m = p.model
    if reason == 0:
        return
    if reason == 8:
        need, have = float(ev.memory_per_chip_bytes[0]), p.chip.hbm_bytes
        raise SpecError("layout", _layout_text(lay),
                        f"needs {need / 1e9:.1f} GB per chip, {p.chip.name} has "
                        f"{have / 1e9:.0f} GB ({(need - have) / 1e9:.1f} GB short; reserve "
                        f"{p.reserved_bytes / 1e9:.1f} GB included)")
    if reason == 9:
        raise SpecError("chip", p.chip.id, REASONS[9])
    detail = {
        1: f"tp·pp·dp·cp = {lay['tp'] * lay['pp'] * lay['dp'] * lay['cp']}, chips = {p.n_chips}",
        2: f"tp = {lay['tp']}, attention heads = {m.n_heads}, KV heads = {m.n_kv_heads}",
        3: f"pp = {lay['pp']}, vpp = {lay['vpp']}, layers = {m.n_layers}",
        4: f"ep = {lay['ep']}, experts = {m.moe.n_routed_experts if m.moe else 'none (dense)'}",
        5: f"dp·micro_batch = {lay['dp'] * lay['micro_batch']}, global batch = "
           f"{p.global_batch}",
        6: f"cp = {lay['cp']}, sequence length = {p.seq_len}",
        7: f"vpp = {lay['vpp']}, pp = {lay['pp']}",
    }[reason]
    raise SpecError("layout", _layout_text(lay), f"{REASONS[reason]} ({detail})")


def _layout_text(lay: dict) -> str:
    return " ".join(f"{k}={lay[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                               "micro_batch", "zero", "recompute"))


def _nothing_fits(p: TrainProblem, result: SearchResult, fixed: dict) -> InfeasibleError:
    """Say why nothing fits, and the smallest chip count (doubling) at which something does."""
    legal = result.evaluated.legal
    if not legal.any() and (result.evaluated.reason == 9).any():
        return InfeasibleError(f"{p.chip.name}: {REASONS[9]}")
    if not legal.any():
        return InfeasibleError(f"no legal layout of {p.model.name} on {p.n_chips} chips with "
                               f"the fixed knobs {fixed or '{}'} and global batch "
                               f"{p.global_batch}")
    need = float(result.evaluated.memory_per_chip_bytes[legal].min())
    n = p.n_chips
    for _ in range(16):
        n *= 2
        if n > bound_for("chips").hi:
            break
        bigger = replace(p, n_chips=n, global_batch=max(p.global_batch, n))
        if len(search(bigger, fixed).order):
            return InfeasibleError(
                f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout needs "
                f"{need / 1e9:.1f} GB per chip, {p.chip.hbm_bytes / 1e9:.0f} GB available; "
                f"{n} chips would fit", needed=need, available=p.chip.hbm_bytes)
    return InfeasibleError(f"nothing fits on {p.n_chips} {p.chip.name}: the leanest layout "
                           f"needs {need / 1e9:.1f} GB per chip", needed=need,
                           available=p.chip.hbm_bytes)


def step_time_interval(problem: TrainProblem, result: TrainResult, samples: int = 2000,
                       seed: int = 0) -> dict:
    """P10/P50/P90 of step time, tokens/s and (if priced) cost for one layout.

    The stack's fitted compute scale is sampled log-normally with its calibration spread
    (compute_scale_sd); everything else held at its point value. Vectorised: one evaluate call.
    """
    sd = problem.efficiency.stack.compute_scale_sd
    draws = np.exp(np.random.default_rng(seed).normal(0.0, sd, samples))
    lay = Layouts.build(**{k: v if k != "recompute" else RECOMPUTE.index(v)
                           for k, v in result.parallelism.items()})
    ev = evaluate(problem, lay, compute_scale=draws)
    q = (10, 50, 90)
    out = {"quantiles": list(q), "compute_scale_sd": sd,
           "step_time_s": np.percentile(ev.step_time_s, q).tolist(),
           "tokens_per_s": np.percentile(ev.tokens_per_s, q).tolist()}
    if result.run and result.run.get("cost_usd") is not None:
        scale = ev.step_time_s / result.step_time_s
        out["time_to_train_s"] = np.percentile(result.run["time_to_train_s"] * scale, q).tolist()
        out["cost_usd"] = np.percentile(result.run["cost_usd"] * scale, q).tolist()
    return out



DEFAULT_COMPARE_MODEL = "llama-3.1-70b"
DEFAULT_COMPARE_CHIPS = ("h100-sxm", "h200", "b200", "gb200", "trn2", "tpu-v5p", "tpu-v6e",
                         "mi300x")
DEFAULT_COMPARE_CHIP_COUNT = 4096
DEFAULT_COMPARE_TOKENS = 15e12  # Llama 3 was pre-trained on about 15T tokens (Meta, 2024)


@dataclass
class CompareRow:
    chip: str
    result: TrainResult | None
    error: str | None

    def to_dict(self) -> dict:
        return {"chip": self.chip, "error": self.error,
                **(self.result.to_dict() if self.result else {})}


@dataclass
class Comparison:
    """Rows of `compare`, one per chip; iterates, indexes and counts like its list of rows."""

    model: str
    n_chips: int
    tokens: float
    rows: list[CompareRow]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def to_dict(self) -> dict:
        """What `xpuplan compare --json` prints."""
        return {"model": self.model, "chips": self.n_chips, "tokens": self.tokens,
                "rows": [r.to_dict() for r in self.rows]}


def compare(model: str | os.PathLike = DEFAULT_COMPARE_MODEL,
            chips: tuple[str, ...] | list[str] = DEFAULT_COMPARE_CHIPS,
            n_chips: int = DEFAULT_COMPARE_CHIP_COUNT, tokens: float = DEFAULT_COMPARE_TOKENS,
            seq_len: int | None = None, global_batch: int | None = None, precision: str = "bf16",
            catalog_files: list[str] | None = None, progress=None) -> Comparison:
    """Best layout, time, cost and MFU of training `model` on `n_chips` of each chip.

    A chip that cannot run the job (precision missing, nothing fits) gets its reason instead
    of a result; an unknown chip name is still an error.
    """
    check_all(n_chips=n_chips, tokens=tokens, compare_chips=len(chips))
    m = _load_model(model)
    rows = []
    for name in chips:
        hardware_catalog(catalog_files).chip(name)  # unknown names fail loudly
        try:
            r = train(m, name, n_chips, seq_len, global_batch, precision, tokens, catalog_files)
            rows.append(CompareRow(chip=name, result=r, error=None))
        except (InfeasibleError, SpecError) as exc:
            rows.append(CompareRow(chip=name, result=None, error=str(exc)))
        if progress is not None:
            progress(name)
    return Comparison(model=str(model), n_chips=n_chips, tokens=tokens, rows=rows)
