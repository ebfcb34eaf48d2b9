"""Engineer-weeks per target from the findings: data/audit_effort.toml, overridable.

  W_t = Σ_{f : status_t(f) ≠ portable} w(kind_f, status_t(f), size_f)
with each `per = "symbol"` kind counted once per distinct symbol, kernels weighted by their
size class (lines of code), and low, mid and high summed separately (a range that assumes the
items err together, so it is wide). Cost = W_t × $/engineer-week, where the default
$/engineer-week = annual wage / wage share of compensation / weeks per year (BLS).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from xpuplan.audit.findings import KINDS, STATUSES, Finding
from xpuplan.audit.rules import Rules
from xpuplan.catalog.data import data_table, user_table
from xpuplan.errors import CatalogError

TOP_ITEMS = 10  # the largest items listed per target, as issue #16 asks
PER = ("site", "symbol", "kernel")
SIZES = ("small", "medium", "large")
Weeks = tuple[float, float, float]  # engineer-weeks: low, mid, high


@dataclass(frozen=True)
class EffortRecord:
    """Porting effort of one finding kind, engineer-weeks (low, mid, high) by status."""
    kind: str
    per: str
    # status -> (low, mid, high), or status -> {size: (low, mid, high)}
    weeks: dict[str, Weeks | dict[str, Weeks]]
    source: str
    assumption: bool
    rationale: str

    def weeks_for(self, status: str, loc: int | None, sizes: tuple[int, int]) -> Weeks:
        w = self.weeks[status]
        if isinstance(w, dict):  # per kernel, by size
            n = loc or 0
            return w["small" if n <= sizes[0] else "medium" if n <= sizes[1] else "large"]
        return w


@dataclass(frozen=True)
class EffortModel:
    """The effort records by kind, kernel size classes and the USD per engineer-week."""
    records: dict[str, EffortRecord]
    kernel_sizes: tuple[int, int]  # small_max_loc, medium_max_loc
    usd_per_engineer_week: float
    usd_source: str


@dataclass
class TargetEffort:
    """One target's engineer-weeks: total, by kind (parts sum to the total), largest items."""

    engineer_weeks: dict[str, float]  # low, mid, high
    by_kind: dict[str, dict[str, float]]
    top_items: list[dict] = field(default_factory=list)
    assumptions: list[dict] = field(default_factory=list)


def _triple(value, file: str, where: str) -> Weeks:
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int | float) and v >= 0 for v in value)
            or not value[0] <= value[1] <= value[2]):
        raise CatalogError(file, where, f"{value!r}: need [low, mid, high] weeks, "
                           "0 <= low <= mid <= high")
    low, mid, high = (float(v) for v in value)
    return low, mid, high


@lru_cache(maxsize=4)
def load_effort(path: str | None = None) -> EffortModel:
    """The built-in effort file, with the records of `path` (same schema) on top."""
    base = dict(data_table("audit_effort.toml"))  # a copy: the user's records go on top
    name = "audit_effort.toml"
    if path:
        user = user_table(Path(path))
        name = str(path)
        kinds = {r.get("kind") for r in user.get("effort", [])}
        base["effort"] = [r for r in base["effort"] if r["kind"] not in kinds] \
            + user.get("effort", [])
        for key in ("engineer_cost", "kernel_size"):
            if key in user:
                base[key] = user[key]
    records = {}
    for i, raw in enumerate(base["effort"]):
        rec = _record(raw, name, i)
        records[rec.kind] = rec
    cost, size = base["engineer_cost"], base["kernel_size"]
    for where, raw in (("engineer_cost", cost), ("kernel_size", size)):
        if not raw.get("source") or not raw.get("retrieved"):
            raise CatalogError(name, where, "needs a source and a retrieved date")
    usd = (float(cost["annual_wage_usd"]) / float(cost["wage_share_of_compensation"])
           / float(cost["weeks_per_year"]))
    return EffortModel(records=records,
                       kernel_sizes=(int(size["small_max_loc"]), int(size["medium_max_loc"])),
                       usd_per_engineer_week=usd, usd_source=cost["source"])


def _record(raw: dict, file: str, i: int) -> EffortRecord:
    where = f"effort[{i}]"
    for key in ("source", "retrieved"):
        if not raw.get(key):
            raise CatalogError(file, f"{where}.{key}", "every effort record needs a source "
                               "(or assumption = true with a rationale) and a retrieved date")
    if raw.get("assumption") and not raw.get("rationale"):
        raise CatalogError(file, f"{where}.rationale", "an assumption needs its rationale")
    kind, per = raw.get("kind"), raw.get("per")
    if kind not in KINDS:
        raise CatalogError(file, f"{where}.kind", f"{kind!r}; allowed: {', '.join(KINDS)}")
    if per not in PER:
        raise CatalogError(file, f"{where}.per", f"{per!r}; allowed: {', '.join(PER)}")
    weeks: dict[str, Weeks | dict[str, Weeks]] = {}
    for status in STATUSES[1:]:
        if status not in raw:
            continue
        if per == "kernel":
            table = raw[status]
            if not isinstance(table, dict) or set(table) != set(SIZES):
                raise CatalogError(file, f"{where}.{status}", "needs {small, medium, large}")
            weeks[status] = {s: _triple(table[s], file, f"{where}.{status}.{s}")
                             for s in SIZES}
        else:
            weeks[status] = _triple(raw[status], file, f"{where}.{status}")
    return EffortRecord(kind, per, weeks, raw["source"], bool(raw.get("assumption")),
                        raw.get("rationale", ""))


def check_coverage(rules: Rules, model: EffortModel) -> None:
    """Every (kind, status) a rule can produce has weeks (portable costs nothing)."""
    for rule in rules.rules:
        for target, offer in rule.offers.items():
            if offer.status == "portable":
                continue
            rec = model.records.get(rule.kind)
            if rec is None or offer.status not in rec.weeks:
                raise CatalogError("audit_effort.toml", f"effort[kind={rule.kind}]",
                                   f"no weeks for status {offer.status!r} (rule {rule.id}, "
                                   f"target {target})")


def target_effort(findings: list[Finding], target: str, rules: Rules,
                  model: EffortModel) -> TargetEffort:
    """W_t with its parts by kind and the TOP_ITEMS largest items: (kind, symbol), and for
    kernels (kind, name, path), since kernels of one name in several files are several."""
    items: dict[tuple[str, str, str], dict] = {}  # (kind, symbol, path of a kernel) -> item
    seen_symbols: set[tuple] = set()
    used: dict[tuple[str, str], EffortRecord] = {}
    for f in findings:
        status = rules.by_id[f.rule].offers[target].status
        if status == "portable":
            continue
        rec = model.records[f.kind]
        key = (f.kind, f.symbol, f.path if rec.per == "kernel" else "")
        item = items.setdefault(key, {"kind": f.kind, "symbol": f.symbol, "path": key[2],
                                      "status": status, "sites": 0, "weeks": [0.0, 0.0, 0.0]})
        item["sites"] += 1
        if rec.per == "symbol" and key in seen_symbols:
            continue
        seen_symbols.add(key)
        used[(f.kind, status)] = rec
        for i, w in enumerate(rec.weeks_for(status, f.loc, model.kernel_sizes)):
            item["weeks"][i] += w
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for item in items.values():
        for i in range(3):
            by_kind[item["kind"]][i] += item["weeks"][i]
    total = [sum(v[i] for v in by_kind.values()) for i in range(3)]
    top = sorted(items.values(), key=lambda it: (-it["weeks"][1], it["kind"], it["symbol"]))
    return TargetEffort(
        engineer_weeks=_lmh(total),
        by_kind={k: _lmh(v) for k, v in sorted(by_kind.items())},
        top_items=[{**{k: v for k, v in it.items() if k != "weeks"},
                    "engineer_weeks": _lmh(it["weeks"])} for it in top[:TOP_ITEMS]],
        assumptions=[{"kind": k, "status": s, "per": r.per, "weeks": _weeks_json(r.weeks[s]),
                      "assumption": r.assumption, "source": r.source,
                      "rationale": r.rationale} for (k, s), r in sorted(used.items())])


def _lmh(v) -> dict[str, float]:
    return {"low": v[0], "mid": v[1], "high": v[2]}


def _weeks_json(w):
    return {s: _lmh(t) for s, t in w.items()} if isinstance(w, dict) else _lmh(w)
