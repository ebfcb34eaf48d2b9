"""Enumerate every training layout for a model on N chips, evaluate them at once, rank.

The candidate grid is the product of each knob's choices (a knob the user fixed has one);
dp is N/(tp·pp·cp). Structural legality and memory are masks from `train.evaluate`; the
feasible layouts are ranked by tokens/s (or cost, which for a fixed chip ranks the same).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from xpuplan import deadline
from xpuplan.errors import SpecError
from xpuplan.specs.layouts import Layouts, divisors
from xpuplan.train.evaluate import TrainEval, TrainProblem, evaluate

# Layouts per evaluate call: small enough that numpy's temporaries stay in cache
# (benchmarks/train_search.py: ~2.5M layouts/s in chunks of 16k vs ~0.6M/s in one 1.2M call).
CHUNK = 16384
MICRO_BATCHES = (1, 2, 4, 8)
VPP_CHOICES = (1, 2, 4, 8)
MAX_CP = 32  # context parallel beyond 32 ranks is not used by published recipes
# Layouts one search may evaluate (a memory limit, ~1 GB of results): 4096 chips give ~1M.
MAX_LAYOUTS = 4_000_000


@dataclass
class SearchResult:
    """Training search: every candidate evaluated, fitting ones best first, timing."""
    evaluated: TrainEval  # every candidate, legal or not
    order: np.ndarray  # indices of fitting candidates, best first
    configs_evaluated: int
    search_time_s: float


def candidate_grid(p: TrainProblem, fixed: dict) -> Layouts:
    """All combinations of knob choices (fixed knobs pinned), as Layouts arrays."""
    n, m = p.n_chips, p.model
    experts = m.moe.n_routed_experts if m.moe else 1
    divs = divisors(n)
    choices = {
        "tp": [d for d in divs if m.n_heads % d == 0],
        "pp": [d for d in divs if d <= m.n_layers],
        "cp": [d for d in divs if d <= MAX_CP and p.seq_len % d == 0],
        "ep": [d for d in divisors(experts) if n % d == 0],
        "vpp": list(VPP_CHOICES),
        "micro_batch": [b for b in MICRO_BATCHES if b <= p.global_batch],
        "zero": [0, 1, 2, 3],
        "recompute": [0, 1, 2],
    }
    for knob, value in fixed.items():
        if knob in choices and value is not None:
            choices[knob] = [value]
    # (tp, pp, cp) whose product divides n first, then every other knob: the same
    # lexicographic order as the full product, without building the combinations that fail.
    triples = [(t, q, c) for t in choices["tp"] for q in choices["pp"] if n % (t * q) == 0
               for c in choices["cp"] if n % (t * q * c) == 0
               and (fixed.get("dp") is None or t * q * c * fixed["dp"] == n)]
    rest_names = ["ep", "vpp", "micro_batch", "zero", "recompute"]
    rest = np.array(list(itertools.product(*(choices[k] for k in rest_names))),
                    dtype=np.int64).reshape(-1, len(rest_names))
    if len(triples) * len(rest) > MAX_LAYOUTS:
        raise SpecError("layout", f"{len(triples) * len(rest):,} candidates",
                        f"more than {MAX_LAYOUTS:,} layouts to search on {n} chips; fix some "
                        "knobs (--tp, --pp, --ep, --micro-batch) to narrow the search")
    head = np.repeat(np.array(triples, dtype=np.int64).reshape(-1, 3), len(rest), axis=0)
    tail = np.tile(rest, (len(triples), 1))
    cols = {"tp": head[:, 0], "pp": head[:, 1], "cp": head[:, 2],
            **{k: tail[:, i] for i, k in enumerate(rest_names)}}
    cols["dp"] = n // (cols["tp"] * cols["pp"] * cols["cp"])
    given = {k: fixed[k] for k in ("sp", "recompute_fraction") if fixed.get(k) is not None}
    return Layouts.build(**cols, **given)


def evaluate_chunked(p: TrainProblem, layouts: Layouts, chunk: int = CHUNK) -> TrainEval:
    """`evaluate` over cache-sized chunks, results concatenated (same numbers, faster); the
    caller's deadline (a web request's) is checked before each chunk."""
    deadline.check()
    if len(layouts) <= chunk:
        return evaluate(p, layouts)
    parts = []
    for i in range(0, len(layouts), chunk):
        deadline.check()
        parts.append(evaluate(p, layouts.take(slice(i, i + chunk))))
    cat = np.concatenate
    return TrainEval(
        layouts=layouts, reason=cat([e.reason for e in parts]),
        time={k: cat([e.time[k] for e in parts]) for k in parts[0].time},
        memory={k: cat([e.memory[k] for e in parts]) for k in parts[0].memory},
        step_time_s=cat([e.step_time_s for e in parts]),
        memory_per_chip_bytes=cat([e.memory_per_chip_bytes for e in parts]),
        tokens_per_s=cat([e.tokens_per_s for e in parts]), mfu=cat([e.mfu for e in parts]),
        hfu=cat([e.hfu for e in parts]),
        extra={k: cat([e.extra[k] for e in parts]) for k in parts[0].extra})


def search(p: TrainProblem, fixed: dict | None = None) -> SearchResult:
    """Evaluate every candidate layout; order the fitting ones by tokens/s, best first."""
    start = time.perf_counter()
    layouts = candidate_grid(p, fixed or {})
    result = evaluate_chunked(p, layouts)
    fitting = np.flatnonzero(result.fits)
    order = fitting[np.argsort(-result.tokens_per_s[fitting], kind="stable")]
    return SearchResult(evaluated=result, order=order, configs_evaluated=len(layouts),
                        search_time_s=time.perf_counter() - start)
