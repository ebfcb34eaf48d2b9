"""Build and dependency files: requirements, pyproject.toml, setup.py, conda environments,
CMake.

Package names are normalised (lower case, `_` and `.` as `-`) and matched against the
`cuda_only_packages` rules; a CUDA local version (`torch==2.3+cu121`) is `torch+cu`, a CUDA
extra (`jax[cuda12]`) is `jax[cuda12]`, and a wheel index for a CUDA build (`.../whl/cu121`)
is `cuda-wheel-index`. CMake is read command by command (`name(args)`, comments and quotes
respected) and each command mentioning CUDA, NCCL, cuDNN, cuBLAS or CUTLASS is one
`cuda_extension_builds` finding.
"""

from __future__ import annotations

import ast
import re
import tomllib

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from xpuplan.audit.findings import Finding, ScanError
from xpuplan.audit.rules import Rules

_CUDA_INDEX = re.compile(r"/(whl|wheels?)/cu\d+|cuda\d*_releases|/cu\d{2,3}\b")
_INDEX_OPTIONS = ("--extra-index-url", "--index-url", "-i", "-f", "--find-links")
_CMAKE_COMMAND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _package_symbols(spec: str) -> list[str]:
    """Normalised names a requirement string stands for (name, name+cu, name[cudaN])."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        name = re.split(r"[\s=<>!~;\[@]", spec.strip(), maxsplit=1)[0]
        return [name.lower().replace("_", "-").replace(".", "-")] if name else []
    name = req.name.lower().replace("_", "-").replace(".", "-")
    out = [name]
    if "+cu" in str(req.specifier):
        out.append(f"{name}+cu")
    out += [f"{name}[{e}]" for e in sorted(req.extras) if e.lower().startswith("cuda")]
    return out


def _packages(path: str, line: int, spec: str, rules: Rules) -> list[Finding]:
    out = []
    for symbol in _package_symbols(spec):
        rule = rules.classify(("cuda_only_packages",), "pkg", symbol)
        if rule:
            out.append(Finding(path, line, rule.kind, symbol, rule.id))
    return out


def scan_requirements(path: str, text: str, rules: Rules) -> list[Finding]:
    """requirements.txt lines: packages, and CUDA wheel indexes given as options."""
    out = []
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            words = line.replace("=", " ", 1).split()
            if words[0] in _INDEX_OPTIONS and len(words) > 1 and _CUDA_INDEX.search(words[1]):
                rule = rules.classify(("cuda_only_packages",), "pkg", "cuda-wheel-index")
                if rule:
                    out.append(Finding(path, i, rule.kind, "cuda-wheel-index", rule.id))
            continue
        out += _packages(path, i, line, rules)
    return out


def scan_pyproject(path: str, text: str, rules: Rules) -> list[Finding]:
    """[project] dependencies and optional dependencies, [build-system] requires, dependency
    groups and Poetry dependencies; lines found by the requirement's text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScanError(f"not valid TOML: {exc}") from None
    project = data.get("project", {})
    specs = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        specs += group
    specs += data.get("build-system", {}).get("requires", [])
    for group in data.get("dependency-groups", {}).values():
        specs += [s for s in group if isinstance(s, str)]
    poetry = data.get("tool", {}).get("poetry", {})
    specs += [k for k in poetry.get("dependencies", {}) if k != "python"]
    lines = text.splitlines()
    out = []
    for spec in specs:
        if isinstance(spec, str):
            line = next((i for i, t in enumerate(lines, 1) if spec in t), 1)
            out += _packages(path, line, spec, rules)
    return out


def scan_setup_requires(path: str, tree: ast.Module, rules: Rules) -> list[Finding]:
    """Literal strings inside setup(install_requires=..., extras_require=...,
    setup_requires=...) of a parsed setup.py."""
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id",
                                                       getattr(node.func, "attr", None))
                == "setup"):
            continue
        for kw in node.keywords:
            if kw.arg in ("install_requires", "extras_require", "setup_requires"):
                for const in ast.walk(kw.value):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        out += _packages(path, const.lineno, const.value, rules)
    return out


def scan_conda(path: str, text: str, rules: Rules) -> list[Finding]:
    """environment.yml `dependencies` (conda specs and the nested pip list)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ScanError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    out: list[Finding] = []
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        if key.value == "dependencies" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.ScalarNode):
                    spec = item.value.split("::")[-1].split("=")[0].strip()
                    out += _packages(path, item.start_mark.line + 1, spec, rules)
                elif isinstance(item, yaml.MappingNode):
                    for k, v in item.value:
                        if k.value == "pip" and isinstance(v, yaml.SequenceNode):
                            out += [f for s in v.value if isinstance(s, yaml.ScalarNode)
                                    for f in _packages(path, s.start_mark.line + 1, s.value,
                                                       rules)]
    return out


def cmake_commands(text: str) -> list[tuple[int, str, list[str]]]:
    """(line, command name, argument tokens) for each command invocation."""
    out: list[tuple[int, str, list[str]]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "\n":
            line += 1
            i += 1
            continue
        m = _CMAKE_COMMAND.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            args, j, end_line = _cmake_args(text, m.end(), line)
            out.append((line, m.group(1).lower(), args))
            line, i = end_line, j + 1
            continue
        i += 1
    return out


def _cmake_args(text: str, j: int, line: int) -> tuple[list[str], int, int]:
    """Argument tokens of a command whose `(` ends at j: (tokens, index of its `)`, line
    there). Quotes group, `#` comments to the end of the line, nested parentheses count."""
    n, depth, args = len(text), 1, []
    token: list[str] = []
    while j < n and depth:
        c = text[j]
        line += c == "\n"
        if c == '"':
            end = _closing_quote(text, j + 1)  # n if the quote is never closed
            token.extend(text[j + 1:end])
            line += text.count("\n", j + 1, end)
            j = min(end + 1, n)
            continue
        if c == "#":
            k = text.find("\n", j)
            j = (n if k < 0 else k) - 1
        elif c in "()":
            depth += 1 if c == "(" else -1
            if depth == 0:
                break
        elif c.isspace():
            if token:
                args.append("".join(token))
                token = []
        else:
            token.append(c)
        j += 1
    if token:
        args.append("".join(token))
    return args, j, line


def _closing_quote(text: str, j: int) -> int:
    """Index of the `"` that closes a quoted argument opened before j (the first one not
    after a backslash), or len(text) if there is none."""
    k = text.find('"', j)
    while k > 0 and text[k - 1] == "\\":
        k = text.find('"', k + 1)
    return len(text) if k < 0 else k


def scan_cmake(path: str, text: str, rules: Rules) -> list[Finding]:
    """Findings of a CMake file: the first CUDA-extension argument of each command."""
    out = []
    for line, name, args in cmake_commands(text):
        for arg in args:
            rule = rules.classify(("cuda_extension_builds",), "cmake", arg)
            if rule:
                out.append(Finding(path, line, rule.kind, f"{name}({arg})", rule.id))
                break
    return out
