"""One pass over a tree: walk, read, dispatch to the scanners, de-duplicate the findings.

A file that does not parse (Python syntax, TOML, YAML) is counted in `parse_errors` with its
reason and contributes nothing; a C++ file with tree-sitter ERROR nodes keeps its findings and
is counted in `partial_parses`. Findings are unique per (path, line, kind, symbol). Calls to
functions or macros the tree's C++ defines itself (llm.c's `cudaCheck`) are not CUDA API
findings, and imports of the tree's own Python packages are not package findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xpuplan.audit.build_scan import (
    scan_cmake,
    scan_conda,
    scan_pyproject,
    scan_requirements,
    scan_setup_requires,
)
from xpuplan.audit.cxx_scan import NAME_KINDS as CXX_NAME_KINDS
from xpuplan.audit.cxx_scan import scan_cxx
from xpuplan.audit.env_scan import scan_shell, scan_yaml
from xpuplan.audit.findings import Finding, ScanError
from xpuplan.audit.python_scan import parse_python, scan_python
from xpuplan.audit.rules import Rules
from xpuplan.audit.walk import CUDA_SUFFIXES, walk_tree


@dataclass
class TreeScan:
    """Scan of a source tree: findings, files scanned, skip counts and parse errors."""
    findings: list[Finding]
    files_scanned: int
    skipped: Counter
    parse_errors: list[dict] = field(default_factory=list)  # {path, error}
    partial_parses: list[dict] = field(default_factory=list)  # {path, first_error_line}


def scan_tree(root: Path, rules: Rules,
              progress: Callable[[int, int], None] | None = None) -> TreeScan:
    """Scan every readable file under root; `progress(done, total)` after each file."""
    walk = walk_tree(root, rules.scan)
    local = local_modules(walk.files)
    defined: set[str] = set()
    found: dict[tuple, Finding] = {}
    errors: list[dict] = []
    partial: list[dict] = []
    scanned = 0
    total = len(walk.files)
    for done, (rel, cat) in enumerate(walk.files, 1):
        try:
            data = (root / rel).read_bytes()
        except OSError:
            walk.skipped["unreadable"] += 1
            continue
        scanned += 1
        try:
            findings = _scan_file(rel, cat, data, rules, partial, local, defined)
        except ScanError as exc:
            errors.append({"path": rel, "error": str(exc)})
            findings = []
        for f in findings:
            found.setdefault((f.path, f.line, f.kind, f.symbol), f)
        if progress:
            progress(done, total)
    ordered = sorted((f for f in found.values()
                      if not (f.kind in CXX_NAME_KINDS and f.symbol in defined)),
                     key=lambda f: (f.path, f.line, f.kind, f.symbol))
    return TreeScan(ordered, scanned, walk.skipped, errors, partial)


def local_modules(files: list[tuple[str, str]]) -> set[str]:
    """Top-level names the tree's own Python defines: package directories and module stems,
    normalised like package names (`flash_attn` -> `flash-attn`)."""
    out: set[str] = set()
    for rel, cat in files:
        if cat == "python":
            parts = Path(rel).parts
            names = [Path(rel).stem] + ([parts[-2]] if len(parts) > 1
                                        and Path(rel).name == "__init__.py" else [])
            out.update(n.lower().replace("_", "-") for n in names)
    return out


def _scan_file(rel: str, cat: str, data: bytes, rules: Rules, partial: list, local: set[str],
               defined: set[str]) -> list[Finding]:
    if cat == "cxx":
        result = scan_cxx(rel, data, rules, Path(rel).suffix.lower() in CUDA_SUFFIXES)
        defined.update(result.defined)
        if result.first_error_line is not None:
            partial.append({"path": rel, "first_error_line": result.first_error_line})
        return result.findings
    text = data.decode("utf-8", errors="replace")
    if cat == "python":
        tree = parse_python(text, rel)
        out = [f for f in scan_python(rel, tree, rules)
               if not (f.kind == "cuda_only_packages" and f.symbol in local)]
        if Path(rel).name == "setup.py":
            out += scan_setup_requires(rel, tree, rules)
        return out
    if cat == "requirements":
        return scan_requirements(rel, text, rules)
    if cat == "pyproject":
        return scan_pyproject(rel, text, rules)
    if cat == "cmake":
        return scan_cmake(rel, text, rules)
    if cat in ("shell", "dockerfile"):
        return scan_shell(rel, text, rules, dockerfile=cat == "dockerfile")
    if cat == "conda":
        return scan_conda(rel, text, rules) + scan_yaml(rel, text, rules)
    return scan_yaml(rel, text, rules)
