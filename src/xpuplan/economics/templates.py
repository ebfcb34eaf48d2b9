"""Commented scenario skeletons, generated from the pydantic scenario models (one per kind),
so a template always lists exactly the keys the loader accepts."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from xpuplan.catalog.economics import SECTIONS
from xpuplan.economics.scenario import _MODELS, KINDS
from xpuplan.errors import SpecError

SKIP = {"kind", "assumptions", "sources", "spreads"}


def _type_name(annotation) -> str:
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        return annotation.__name__
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    return str(annotation).replace("typing.", "")


def _model_in(annotation) -> type[BaseModel] | None:
    for a in (annotation, *typing.get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        for b in typing.get_args(a):
            if isinstance(b, type) and issubclass(b, BaseModel):
                return b
    return None


def _lines(model: type[BaseModel], indent: str) -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        if name in SKIP:
            continue
        nested = _model_in(f.annotation)
        required = f.is_required()
        is_list = typing.get_origin(f.annotation) is list
        if nested is not None:
            out.append(f"{indent}{name}:{'' if required else '  # optional'}")
            sub = _lines(nested, indent + ("    " if is_list else "  "))
            if is_list:
                sub[0] = f"{indent}  - {sub[0].lstrip()}"
            out.extend(sub)
            continue
        value = "REQUIRED" if required else ("null" if f.default is None else
                                            str(f.default).lower() if isinstance(f.default, bool)
                                            else '""' if f.default == "" else f.default)
        out.append(f"{indent}{name}: {value}  # {_type_name(f.annotation)}")
    return out


def scenario_template(kind: str) -> str:
    """A commented YAML skeleton of one scenario kind."""
    if kind not in _MODELS:
        raise SpecError("template", kind, f"allowed: {', '.join(KINDS)}")
    doc = " ".join((_MODELS[kind].__doc__ or "").split())
    head = [f"# xpuplan scenario: {kind}. {doc}",
            "# Replace REQUIRED, delete optional keys you do not need; give every number a",
            "# source under `sources:` (key -> where it comes from), or read it from an",
            "# economics record: KEY: {ref: \"SECTION:ID.FIELD\"} (its source then fills in).",
            f"kind: {kind}"]
    tail = ["sources:", "  name: \"what this scenario answers\"",
            "# assumptions: economics records to add or override, by section",
            f"# ({', '.join(SECTIONS)});",
            "# each record needs its own source and retrieved. For example:",
            "# assumptions:", "#   facility:", "#     - id: us-hyperscale-2025",
            "#       pue: 1.3", "#       source: \"our 2026 site survey\"",
            "#       retrieved: \"2026-12-01\""]
    return "\n".join(head + _lines(_MODELS[kind], "") + tail) + "\n"
