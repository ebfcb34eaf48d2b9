"""Scenario values read from economics records instead of copied: `{ref: SECTION:ID.FIELD}`.

Any value of a scenario (nested keys and list items too, e.g. `options[0].usd_per_gw`) may be
written as a reference to a field of an economics record, with an optional explicit value
that overrides the record's:

    budget_usd: {ref: "deal:aws-openai-2025.value_usd"}          # the record's $38B
    years: {ref: "deal:aws-openai-2025.years", value: 5}         # an override, reported so

The loader replaces each reference by the value before validation and writes its provenance
(the record, its figure, confidence and source; for an override both numbers) into the
scenario's `sources` under the same key, after any note the scenario gives there. A value
of an `assumptions` record may refer to a record of the built-in or user catalog; its
provenance goes into that record's per-field `sources`. An unknown section, id or field is
a SpecError naming the file, the key and the known names.
"""

from __future__ import annotations

from typing import Any

from xpuplan.catalog.economics import SECTIONS, EconomicsCatalog
from xpuplan.errors import SpecError, close_names, short_repr

REF_KEYS = frozenset({"ref", "value"})
META_FIELDS = frozenset({"id", "source", "retrieved", "confidence", "notes", "sources", "date"})
UNRESOLVED = ("sources", "assumptions")  # their values are text, or records in their own right
SHOWN_NAMES = 8  # known ids or fields listed in an error (one line)


def is_ref(node: object) -> bool:
    """A `{ref: ...}` mapping (optionally with `value`)."""
    return isinstance(node, dict) and "ref" in node


def scenario_refs(data: object, key: str = "") -> dict[str, dict]:
    """Every reference in a parsed scenario, by the dotted key that `sources` uses
    (`budget_usd`, `options[0].usd_per_gw`), outside `sources` and `assumptions`."""
    if is_ref(data):
        return {key: data}  # type: ignore[dict-item]
    out: dict[str, dict] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            if not key and k in UNRESOLVED:
                continue
            out |= scenario_refs(v, f"{key}.{k}" if key else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out |= scenario_refs(v, f"{key}[{i}]")
    return out


def has_refs(data: dict) -> bool:
    """Whether a parsed scenario holds any reference (its assumption records included)."""
    assumptions = data.get("assumptions")
    rows = [r for v in assumptions.values() if isinstance(v, list) for r in v] if isinstance(
        assumptions, dict) else []
    return bool(scenario_refs(data)) or any(
        is_ref(v) for r in rows if isinstance(r, dict) for v in r.values())


def record_value(econ: EconomicsCatalog, ref: object, file: str, key: str
                 ) -> tuple[Any, str]:
    """The value a reference names and its provenance line; SpecError if it names nothing."""
    where = f"{file}: {key}.ref"
    if not isinstance(ref, str) or ":" not in ref or "." not in ref.partition(":")[2]:
        raise SpecError(where, ref, "write SECTION:ID.FIELD, e.g. deal:aws-openai-2025.value_usd"
                        f" (sections: {', '.join(SECTIONS)})")
    section, _, rest = ref.partition(":")
    name, _, field = rest.rpartition(".")
    if section not in SECTIONS:
        raise SpecError(where, ref, f"unknown section {section!r}; allowed: "
                        + ", ".join(SECTIONS))
    records = econ.section(section)
    if name not in records:
        raise SpecError(where, ref, f"unknown {section} id {name!r}; " + _known(name, records))
    rec = records[name]
    fields = {k: v for k, v in rec.model_dump().items() if k not in META_FIELDS
              and isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    if field not in fields:
        raise SpecError(where, ref, f"{section} {name} has no figure {field!r}; "
                        + _known(field, fields))
    value = fields[field]
    source = rec.sources.get(field) or rec.source
    return value, (f"economics {section} {name}.{field} = {_shown(value)} ({rec.confidence}): "
                   f"{source}")


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(
        value, bool) else short_repr(value)


def _known(name: str, known: dict) -> str:
    """The close names, else the first known ones (a message stays one short line)."""
    close = close_names(name, list(known))
    if close:
        return f"did you mean {', '.join(close)}?"
    more = " ..." if len(known) > SHOWN_NAMES else ""
    return f"known: {', '.join(sorted(known)[:SHOWN_NAMES])}{more}"


def _resolved(econ: EconomicsCatalog, node: dict, file: str, key: str) -> tuple[Any, str]:
    """(value to use, provenance) of one reference node; an explicit value overrides."""
    extra = sorted(set(node) - REF_KEYS)
    if extra:
        raise SpecError(f"{file}: {key}.{extra[0]}", node[extra[0]],
                        "a reference takes only ref and value")
    value, line = record_value(econ, node["ref"], file, key)
    if "value" not in node:
        return value, line
    given = node["value"]
    return given, f"override: {_shown(given)} given instead of {line}"


def _replace(econ: EconomicsCatalog, data: Any, file: str, key: str,
             provenance: dict[str, str]) -> Any:
    if is_ref(data):
        value, line = _resolved(econ, data, file, key)
        provenance[key] = line
        return value
    if isinstance(data, dict):
        return {k: v if not key and k in UNRESOLVED else
                _replace(econ, v, file, f"{key}.{k}" if key else str(k), provenance)
                for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(econ, v, file, f"{key}[{i}]", provenance) for i, v in enumerate(data)]
    return data


def resolve_refs(data: dict, file: str, econ: EconomicsCatalog) -> dict:
    """The scenario with every reference replaced by its value: assumption records read the
    catalog `econ`; the scenario's other values read `econ` with those assumptions on top."""
    out = dict(data)
    assumptions = data.get("assumptions")
    if isinstance(assumptions, dict):
        out["assumptions"] = {section: [_assumption(econ, r, file, f"assumptions.{section}[{i}]")
                                        for i, r in enumerate(rows)]
                              if isinstance(rows, list) else rows
                              for section, rows in assumptions.items()}
    refs = scenario_refs(out)
    if not refs:
        return out
    if isinstance(out.get("assumptions"), dict) and out["assumptions"]:
        econ = econ.with_records(out["assumptions"], f"{file}: assumptions")
    provenance: dict[str, str] = {}
    out = _replace(econ, out, file, "", provenance)
    notes = out.get("sources") if isinstance(out.get("sources"), dict) else {}
    out["sources"] = {**notes, **{k: line + (f"; {notes[k]}" if k in notes else "")
                                  for k, line in provenance.items()}}
    return out


def _assumption(econ: EconomicsCatalog, record: object, file: str, where: str) -> object:
    """An assumption record with its references resolved and their provenance in its
    per-field `sources`."""
    if not isinstance(record, dict) or not any(is_ref(v) for v in record.values()):
        return record
    given = record.get("sources")
    out, sources = dict(record), dict(given) if isinstance(given, dict) else {}
    for k, v in record.items():
        if is_ref(v):
            out[k], line = _resolved(econ, v, file, f"{where}.{k}")
            sources[k] = line + (f"; {sources[k]}" if k in sources else "")
    out["sources"] = sources
    return out
