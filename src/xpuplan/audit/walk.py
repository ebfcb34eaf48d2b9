"""The file walk: which files under a root are read, by which scanner, and why others are not.

Symlinks are never followed (a link loop cannot trap the walk; links are counted), vendored and
build directories are pruned (their files counted), files over the size limit and binary files
(a NUL byte in the first 8 KiB) are counted and not read. A root that does not exist, is not a
directory, loops or cannot be listed stops the audit with a SpecError.
"""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from xpuplan.audit.rules import ScanPolicy
from xpuplan.errors import SpecError

SNIFF_BYTES = 8192  # bytes read to tell binary from text (git's heuristic reads 8000)
CXX_SUFFIXES = {".cu", ".cuh", ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx",
                ".inl", ".ipp", ".tpp"}
CUDA_SUFFIXES = {".cu", ".cuh"}
_REQUIREMENTS = re.compile(r"(^|[-_.])(requirements|constraints|reqs)([-_.].*)?\.(txt|in)$")
_CONDA = re.compile(r"^(environment|conda)([-_.].*)?\.ya?ml$")


def category(path: Path) -> str | None:
    """Which scanner reads the file: python, cxx, requirements, pyproject, cmake, shell,
    dockerfile, conda, yaml; None for files no scanner reads."""
    name, suffix = path.name.lower(), path.suffix.lower()
    if suffix in (".py", ".pyi"):
        return "python"
    if suffix in CXX_SUFFIXES:
        return "cxx"
    if _REQUIREMENTS.search(name) or (suffix in (".txt", ".in")
                                      and path.parent.name == "requirements"):
        return "requirements"
    if name == "pyproject.toml":
        return "pyproject"
    if name == "cmakelists.txt" or suffix == ".cmake":
        return "cmake"
    if suffix in (".sh", ".bash", ".zsh", ".slurm", ".sbatch"):
        return "shell"
    if name.startswith("dockerfile") or suffix in (".dockerfile", ".containerfile"):
        return "dockerfile"
    if _CONDA.match(name):
        return "conda"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return None


@dataclass
class Walk:
    """The files to read (relative path, category) and the counts of everything skipped."""

    files: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    unreadable: list[str] = field(default_factory=list)


def check_root(path: str | os.PathLike) -> Path:
    """The root as an absolute Path, or SpecError naming what is wrong with it."""
    root = Path(path)
    try:
        root.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SpecError("path", str(path), "is a symlink loop; give a directory") from None
        if exc.errno == errno.ENOENT:
            raise SpecError("path", str(path), "does not exist; give a directory") from None
        raise SpecError("path", str(path), f"cannot be read ({exc.strerror})") from None
    if not root.is_dir():
        kind = "a file" if root.is_file() else "not a directory"
        raise SpecError("path", str(path), f"is {kind}; give a directory to audit "
                        "(or, in a plan, the JSON that `xpuplan audit --json` wrote)")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise SpecError("path", str(path), f"cannot be listed ({exc.strerror})") from None
    return root.resolve()


def walk_tree(root: Path, policy: ScanPolicy) -> Walk:
    """Every regular file under root, sorted, classified or counted as skipped."""
    out = Walk()

    def on_error(exc: OSError) -> None:
        out.skipped["unreadable"] += 1
        out.unreadable.append(str(Path(exc.filename).relative_to(root)) if exc.filename
                              else "?")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            full = here / d
            if full.is_symlink():
                out.skipped["symlink"] += 1
            elif d in policy.vendored_dirs or d.endswith(".egg-info"):
                out.skipped["vendored"] += _count_files(full)
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            _classify_file(root, here / name, policy, out)
    return out


def _classify_file(root: Path, full: Path, policy: ScanPolicy, out: Walk) -> None:
    rel = full.relative_to(root).as_posix()
    try:
        if full.is_symlink():
            out.skipped["symlink"] += 1
            return
        size = full.stat().st_size
        if size > policy.max_file_bytes:
            out.skipped["huge"] += 1
            return
        with open(full, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        out.skipped["unreadable"] += 1
        out.unreadable.append(rel)
        return
    if b"\0" in head:
        out.skipped["binary"] += 1
        return
    cat = category(full)
    if cat is None:
        out.skipped["other"] += 1
        return
    out.files.append((rel, cat))


def _count_files(path: Path) -> int:
    """Files under a pruned directory (not followed through symlinks)."""
    return sum(len(files) for _, _, files in os.walk(path, followlinks=False))
