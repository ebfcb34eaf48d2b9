"""Serving-layout search: every (tp, pp, ep, batch) for a model on N chips, under an SLO.

Batches are powers of two up to the largest that any layout can hold, plus each layout's own
maximum concurrency and, under a latency SLO, the largest batch of each layout that meets it
(bisection: the powers of two alone can miss up to half of that batch). Objective: output
tokens/s per chip (= per dollar at one chip price) among fitting layouts that meet the SLO;
with no SLO and no batch, the offline maximum. The latency-throughput Pareto front keeps the
layouts no other beats on both TPOT and tokens/s per chip.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xpuplan import deadline
from xpuplan.errors import SpecError
from xpuplan.serve.evaluate import ServeEval, evaluate_serving
from xpuplan.serve.problem import ServeProblem
from xpuplan.specs.layouts import ServeLayouts, divisors

MAX_BATCH = 8192
MAX_LAYOUTS = 2_000_000  # serving layouts one search may evaluate (a memory limit)


@dataclass
class ServeSearch:
    """Serving search: every candidate evaluated, the feasible mask, winner and front."""
    evaluated: ServeEval
    feasible: np.ndarray  # fits and meets the SLO
    best: int | None  # index of the winner, None if nothing qualifies
    pareto: np.ndarray  # indices on the latency-throughput front, by TPOT


def serve_grid(p: ServeProblem, fixed: dict, ttft_s: float | None = None,
               tpot_s: float | None = None) -> ServeLayouts:
    """Every layout (fixed knobs pinned) at every candidate batch, as ServeLayouts."""
    m, n = p.model, p.n_chips
    experts = m.moe.n_routed_experts if m.moe else 1
    tps = [d for d in divisors(n) if m.n_heads % d == 0]
    rows = []
    for tp in ([fixed["tp"]] if fixed.get("tp") else tps):
        for pp in ([fixed["pp"]] if fixed.get("pp") else
                   [d for d in divisors(n // tp) if d <= m.n_layers] if n % tp == 0 else [1]):
            eps = [e for e in divisors(n // pp) if experts % e == 0
                   and (tp % e == 0 or e % tp == 0)] if n % pp == 0 else [1]
            for ep in ([fixed["ep"]] if fixed.get("ep") else eps):
                rows.append((tp, pp, ep))
    base = np.array(rows, dtype=np.int64)
    probe = evaluate_serving(p, ServeLayouts.build(base[:, 0], base[:, 1], base[:, 2], 1))
    held = np.minimum(probe.max_concurrency, probe.engine_max_batch)  # what each runs at once
    if fixed.get("batch"):
        batches = [fixed["batch"]]
    else:
        top = int(min(MAX_BATCH, max(1, np.nanmax(held, initial=1))))
        batches = [2**i for i in range(int(np.log2(top)) + 1)]
    if len(rows) * (len(batches) + 1) > MAX_LAYOUTS:
        raise SpecError("layout", f"{len(rows) * (len(batches) + 1):,} candidates",
                        f"more than {MAX_LAYOUTS:,} serving layouts on {n} chips; fix --tp, "
                        "--pp, --ep or --batch to narrow the search")
    grid = np.array([(*r, b) for r, b in itertools.product(rows, batches)], dtype=np.int64)
    own_max = np.clip(held, 1, MAX_BATCH).astype(np.int64)  # the most each layout runs at once
    if not fixed.get("batch"):
        grid = np.vstack([grid, np.column_stack([base, own_max])])
        if ttft_s is not None or tpot_s is not None:
            slo = largest_batch_meeting(lambda b: evaluate_serving(p, ServeLayouts.build(
                base[:, 0], base[:, 1], base[:, 2], b)), own_max, ttft_s, tpot_s)
            grid = np.vstack([grid, np.column_stack([base, slo])])
    return ServeLayouts.build(grid[:, 0], grid[:, 1], grid[:, 2], grid[:, 3])


def largest_batch_meeting(evaluate_at: Callable[[np.ndarray], ServeEval], cap: np.ndarray,
                          ttft_s: float | None, tpot_s: float | None) -> np.ndarray:
    """Per entry of `cap`, the largest batch ≤ cap whose TTFT and TPOT, as `evaluate_at(batch)`
    gives them, meet the limits (1 if none does), by bisection on B: TTFT and TPOT never fall
    as the batch grows (tests/serve properties). Shared by the SLO search below and by
    calibrate.infer_set.latency_bound_batch (a validation row under its benchmark's limits)."""
    ttft_max = np.inf if ttft_s is None else ttft_s
    tpot_max = np.inf if tpot_s is None else tpot_s
    lo, hi = np.ones(len(cap), dtype=np.int64), cap.astype(np.int64)
    while np.any(lo < hi):
        mid = (lo + hi + 1) // 2
        ev = evaluate_at(mid)
        ok = (ev.tpot_s <= tpot_max) & (ev.ttft_s <= ttft_max)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid - 1)
    return lo


def pareto_front(latency: np.ndarray, throughput: np.ndarray, candidates: np.ndarray
                 ) -> np.ndarray:
    """Indices of `candidates` not dominated in (lower latency, higher throughput), by latency."""
    order = candidates[np.lexsort((-throughput[candidates], latency[candidates]))]
    front, best = [], -np.inf
    for i in order:
        if throughput[i] > best:
            front.append(i)
            best = throughput[i]
    return np.array(front, dtype=np.int64)


def search_serving(p: ServeProblem, fixed: dict, ttft_s: float | None = None,
                   tpot_s: float | None = None) -> ServeSearch:
    """Evaluate the grid; keep what fits and meets the SLO; pick the highest tokens/s/chip.
    The caller's deadline (a web request's) is checked first."""
    deadline.check()
    lay = serve_grid(p, fixed, ttft_s, tpot_s)
    ev = evaluate_serving(p, lay)
    ok = ev.fits.copy()
    if ttft_s is not None:
        ok &= ev.ttft_s <= ttft_s
    if tpot_s is not None:
        ok &= ev.tpot_s <= tpot_s
    idx = np.flatnonzero(ok)
    best = int(idx[np.argmax(ev.output_tokens_per_s_per_chip[idx])]) if len(idx) else None
    fitting = np.flatnonzero(ev.fits)
    front = pareto_front(ev.tpot_s, ev.output_tokens_per_s_per_chip, fitting)
    return ServeSearch(evaluated=ev, feasible=ok, best=best, pareto=front)
