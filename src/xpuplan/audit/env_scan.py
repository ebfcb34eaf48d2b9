"""Environment variables in shell scripts, Dockerfiles and YAML (CI, Kubernetes, configs).

Shell and Dockerfile lines are split into words by `shlex` (quotes and comments honoured,
continuation lines joined); a word `NAME=...` (after `export`, `env`, `ENV`, `ARG` or alone)
sets NAME, `$NAME` / `${NAME}` reads it, and `ENV NAME value` (old Dockerfile form) sets it.
YAML is composed into nodes (so every value has its line): mapping keys that are variable
names, `- name: NAME` entries, and NAME= / $NAME inside strings (run: scripts). Only names
that match a `cuda_env_vars` rule are findings.
"""

from __future__ import annotations

import re
import shlex

import yaml

from xpuplan.audit.findings import Finding, ScanError
from xpuplan.audit.rules import Rules

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_IN_TEXT = re.compile(r"\b([A-Z_][A-Z0-9_]*)=|\$\{?([A-Z_][A-Z0-9_]*)")


def _finding(path: str, line: int, name: str, rules: Rules) -> Finding | None:
    rule = rules.classify(("cuda_env_vars",), "env", name)
    return Finding(path, line, rule.kind, name, rule.id) if rule else None


def _logical_lines(text: str):
    """(first physical line, joined text) with backslash continuations merged."""
    buf, start = [], None
    for i, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start = i
        if raw.endswith("\\"):
            buf.append(raw[:-1])
            continue
        buf.append(raw)
        yield start, " ".join(buf)
        buf, start = [], None
    if buf:
        yield start, " ".join(buf)


def scan_shell(path: str, text: str, rules: Rules, dockerfile: bool = False) -> list[Finding]:
    """Findings of a shell script or Dockerfile: CUDA environment variables set or read."""
    out = []
    for line, logical in _logical_lines(text):
        try:
            words = shlex.split(logical, comments=True)
        except ValueError:  # an unbalanced quote: fall back to whitespace words
            words = logical.split("#", 1)[0].split()
        names = []
        for k, word in enumerate(words):
            m = _ASSIGN.match(word)
            if m:
                names.append(m.group(1))
            names += _REFERENCE.findall(word)
            if (dockerfile and k == 1 and words[0].upper() in ("ENV", "ARG")
                    and _ENV_NAME.match(word)):
                names.append(word)
        for name in dict.fromkeys(names):
            f = _finding(path, line, name, rules)
            if f:
                out.append(f)
    return out


def scan_yaml(path: str, text: str, rules: Rules) -> list[Finding]:
    """Findings of a YAML file: CUDA environment variables in keys, names and strings."""
    found = _yaml_env_names(_yaml_documents(text))
    out = [_finding(path, line, name, rules) for line, name in sorted(found)]
    return [f for f in out if f]


def _yaml_documents(text: str) -> list[yaml.Node]:
    """The node tree of each non-empty document, or ScanError at the line YAML cannot read."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ScanError(f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})") \
            from None
    return [d for d in documents if d is not None]


def _yaml_env_names(documents: list[yaml.Node]) -> dict[tuple[int, str], None]:
    """(line, name) of every environment variable name in the trees, once each: as a mapping
    key, as the value of a `name:` key, or inside a string."""
    found: dict[tuple[int, str], None] = {}
    stack = list(documents)
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found.update(dict.fromkeys(_mapping_entry_names(key, value)))
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
            found.update(dict.fromkeys(_string_names(node)))
    return found


def _mapping_entry_names(key: yaml.Node, value: yaml.Node) -> list[tuple[int, str]]:
    """(line, name) of a key that is a variable name, and of the value of a `name:` key."""
    if not isinstance(key, yaml.ScalarNode):
        return []
    out = []
    if _ENV_NAME.match(key.value):
        out.append((key.start_mark.line + 1, key.value))
    if (key.value == "name" and isinstance(value, yaml.ScalarNode)
            and _ENV_NAME.match(value.value)):
        out.append((value.start_mark.line + 1, value.value))
    return out


def _string_names(node: yaml.ScalarNode) -> list[tuple[int, str]]:
    """(line, name) of each NAME= or $NAME inside a string; a block scalar (| or >) starts on
    the line after its indicator."""
    block = 1 if node.style in ("|", ">") else 0
    return [(node.start_mark.line + 1 + block + node.value.count("\n", 0, m.start()),
             m.group(1) or m.group(2)) for m in _IN_TEXT.finditer(node.value)]
