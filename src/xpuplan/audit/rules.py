"""What each CUDA construct maps to on each target: data/audit_targets.toml, validated.

A rule belongs to one finding kind and matches with regular expressions per matcher (`cxx`,
`py`, `pkg`, `env`, `cmake`); `classify(kinds, matcher, symbol)` returns the first rule of the
first kind that matches, in file order. A rule without matchers is its kind's default, used
for structural findings (kernels, launches, inline PTX, source files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from xpuplan.audit.findings import KINDS, STATUSES
from xpuplan.catalog.data import builtin_file, data_table, user_table
from xpuplan.errors import CatalogError

TARGETS = ("neuron", "xla", "rocm")
MATCHERS = ("cxx", "py", "pkg", "env", "cmake")


@dataclass(frozen=True)
class Offer:
    """What one target offers for a rule's constructs."""

    status: str  # portable | drop_in | port | rewrite
    replacement: str
    docs: str


@dataclass(frozen=True)
class Rule:
    """One audit rule: a finding kind, its regexes per matcher and each target's offer."""
    id: str
    kind: str
    patterns: dict[str, tuple[re.Pattern, ...]]  # matcher -> compiled regexes
    offers: dict[str, Offer]  # target -> offer
    source: str

    def matches(self, matcher: str, symbol: str) -> bool:
        return any(p.search(symbol) for p in self.patterns.get(matcher, ()))


@dataclass(frozen=True)
class ScanPolicy:
    """Scan limits: the largest file read, bytes, and the vendored folders skipped."""
    max_file_bytes: int
    vendored_dirs: frozenset[str]


@dataclass(frozen=True)
class Rules:
    """All audit rules with their targets, vendor-to-target map and scan policy."""
    rules: tuple[Rule, ...]
    by_id: dict[str, Rule]
    defaults: dict[str, Rule]  # kind -> rule without matchers
    targets: dict[str, dict]  # id -> {name, docs, source}
    vendor_targets: dict[str, str]  # chips.toml vendor -> target
    scan: ScanPolicy
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def classify(self, kinds: tuple[str, ...], matcher: str, symbol: str) -> Rule | None:
        """The first rule, among `kinds` in that order, whose `matcher` regexes match."""
        key = (kinds, matcher, symbol)
        if key not in self._memo:
            self._memo[key] = next((rule for kind in kinds for rule in self.rules
                                    if rule.kind == kind and rule.matches(matcher, symbol)),
                                   None)
        return self._memo[key]

    def default(self, kind: str) -> Rule:
        return self.defaults[kind]


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> Rules:
    """Read and validate the targets file (the built-in one unless `path`)."""
    file = Path(path) if path else builtin_file("audit_targets.toml")
    data = user_table(file) if path else data_table("audit_targets.toml")
    name = str(file)
    for key in ("scan", "target", "vendor_targets", "rule"):
        if key not in data:
            raise CatalogError(name, key, "missing table")
    rules = tuple(_rule(raw, name, i) for i, raw in enumerate(data["rule"]))
    by_id = {r.id: r for r in rules}
    if len(by_id) != len(rules):
        raise CatalogError(name, "rule.id", "rule ids must be unique")
    defaults = {r.kind: r for r in rules if not r.patterns}
    structural = ("cuda_source_files", "cuda_kernels", "kernel_launches", "inline_ptx")
    for kind in structural:
        if kind not in defaults:
            raise CatalogError(name, f"rule[kind={kind}]", "needs a default rule (no matchers)")
    targets = {t["id"]: t for t in data["target"]}
    if set(targets) != set(TARGETS):
        raise CatalogError(name, "target", f"expected targets {', '.join(TARGETS)}")
    scan = data["scan"]
    _sourced(scan, name, "scan")
    vendors = {k: v for k, v in data["vendor_targets"].items()
               if k not in ("source", "retrieved")}
    _sourced(data["vendor_targets"], name, "vendor_targets")
    return Rules(rules=rules, by_id=by_id, defaults=defaults, targets=targets,
                 vendor_targets=vendors,
                 scan=ScanPolicy(int(scan["max_file_bytes"]), frozenset(scan["vendored_dirs"])))


def _sourced(raw: dict, file: str, where: str) -> None:
    for key in ("source", "retrieved"):
        if not raw.get(key):
            raise CatalogError(file, f"{where}.{key}", "every record needs a source and a "
                               "retrieved date")


def _rule(raw: dict, file: str, index: int) -> Rule:
    where = f"rule[{index}]"
    _sourced(raw, file, where)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CatalogError(file, f"{where}.kind", f"{kind!r} is not a finding kind; allowed: "
                           f"{', '.join(KINDS)}")
    offers = {}
    for target in TARGETS:
        offer = raw.get(target)
        if not isinstance(offer, dict):
            raise CatalogError(file, f"{where}.{target}", "missing {status, replacement, docs}")
        if offer.get("status") not in STATUSES:
            raise CatalogError(file, f"{where}.{target}.status", f"{offer.get('status')!r}; "
                               f"allowed: {', '.join(STATUSES)}")
        offers[target] = Offer(offer["status"], offer.get("replacement", ""),
                               offer.get("docs", ""))
    patterns = {}
    for matcher in MATCHERS:
        try:
            patterns[matcher] = tuple(re.compile(p) for p in raw.get(matcher, ()))
        except re.error as exc:
            raise CatalogError(file, f"{where}.{matcher}", f"bad regex ({exc})") from None
    patterns = {m: p for m, p in patterns.items() if p}
    return Rule(id=str(raw.get("id", where)), kind=kind, patterns=patterns, offers=offers,
                source=raw["source"])
