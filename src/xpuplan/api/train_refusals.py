"""API: why a training search found no layout that fits, as the error `train` and
`search_layouts` raise: the rule the user's own layout breaks, named with its numbers
(SpecError), or, for a free search, the memory needed and the smallest chip count that fits
(InfeasibleError)."""

from __future__ import annotations

from dataclasses import replace

from xpuplan.errors import InfeasibleError, SpecError, XpuplanError
from xpuplan.hardware.stacks import stack_rules
from xpuplan.specs.bounds import bound_for
from xpuplan.specs.layouts import Layouts
from xpuplan.train.evaluate import TrainProblem, TrainReason, evaluate
from xpuplan.train.search import SearchResult, search


def why_nothing(p: TrainProblem, result: SearchResult, fixed: dict) -> XpuplanError:
    """The error for a search with no fitting layout: the broken rule of the user's layout
    (SpecError), or, for a free search, the smallest chip count that fits (InfeasibleError)."""
    ev = result.evaluated
    if len(ev.layouts) == 0:  # the fixed knobs leave no candidate: check them as written
        tp, pp, cp = fixed.get("tp", 1), fixed.get("pp", 1), fixed.get("cp", 1)
        literal = {"tp": tp, "pp": pp, "cp": cp, "dp": max(1, p.n_chips // (tp * pp * cp)),
                   **fixed}
        _raise_if_illegal(p, evaluate(p, Layouts.build(**literal)))
    elif not ev.legal.any():
        if fixed and not (ev.reason == TrainReason.NO_FABRIC).any():  # the given knobs break a rule
            _raise_if_illegal(p, evaluate(p, ev.layouts.take([0])))
    return _nothing_fits(p, result, fixed)


def _raise_if_illegal(p: TrainProblem, ev) -> None:
    reason = TrainReason(int(ev.reason[0]))
    lay = ev.layouts.row(0)
    m = p.model
    if reason == TrainReason.OK:
        return
    if reason == TrainReason.MEMORY:
        need, have = float(ev.memory_per_chip_bytes[0]), p.chip.hbm_bytes
        raise SpecError("layout", _layout_text(lay),
                        f"needs {need / 1e9:.1f} GB per chip, {p.chip.name} has "
                        f"{have / 1e9:.0f} GB ({(need - have) / 1e9:.1f} GB short; reserve "
                        f"{p.reserved_bytes / 1e9:.1f} GB included)")
    if reason == TrainReason.NO_FABRIC:
        raise SpecError("chip", p.chip.id, TrainReason.NO_FABRIC.message)
    detail = {
        TrainReason.CHIPS: f"tp·pp·dp·cp = {lay['tp'] * lay['pp'] * lay['dp'] * lay['cp']}, "
                           f"chips = {p.n_chips}",
        TrainReason.HEADS: _heads_detail(p, lay['tp']),
        TrainReason.LAYERS: f"pp = {lay['pp']}, vpp = {lay['vpp']}, layers = {m.n_layers}",
        TrainReason.EXPERTS: f"ep = {lay['ep']}, experts = "
                             f"{m.moe.n_routed_experts if m.moe else 'none (dense)'}",
        TrainReason.BATCH: f"dp·micro_batch = {lay['dp'] * lay['micro_batch']}, global batch = "
           f"{p.global_batch}",
        TrainReason.SEQUENCE: f"cp = {lay['cp']}, sequence length = {p.seq_len}",
        TrainReason.INTERLEAVE: f"vpp = {lay['vpp']}, pp = {lay['pp']}",
    }[reason]
    raise SpecError("layout", _layout_text(lay), f"{reason.message} ({detail})")


def _heads_detail(p: TrainProblem, tp: int) -> str:
    """The stack, its rule and the numbers for a refused TP degree."""
    rules = stack_rules(p.chip.vendor, "train")
    ranks = tp * rules.ranks_per_chip(p.chip)
    return (f"{rules.name} on {p.chip.vendor}: rule '{rules.heads}', tp = {tp} "
            f"({ranks} ranks), attention heads = {p.model.n_heads}, "
            f"KV heads = {p.model.n_kv_heads}")


def _layout_text(lay: dict) -> str:
    f = lay.get("recompute_fraction", 1.0)
    partial = {"recompute": f"{f:g}"} if lay["recompute"] == "full" and f < 1 else {}
    lay = {**lay, **partial}
    return " ".join(f"{k}={lay[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                               "micro_batch", "zero", "recompute"))


def _nothing_fits(p: TrainProblem, result: SearchResult, fixed: dict) -> InfeasibleError:
    """Say why nothing fits, and the smallest chip count (doubling) at which something does."""
    legal = result.evaluated.legal
    if not legal.any() and (result.evaluated.reason == TrainReason.NO_FABRIC).any():
        return InfeasibleError(f"{p.chip.name}: {TrainReason.NO_FABRIC.message}")
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
