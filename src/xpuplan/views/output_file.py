"""Write an output file (--report, --plot) without ever destroying an input.

An output that is an input of the run (the scenario being read, a catalog, a config.json),
a file of the shipped data, a symbolic link or anything but a regular file is refused; an
existing output is replaced atomically: the text goes to a temporary file in the same
directory, which `os.replace` renames over the target (a rename replaces a link itself, never
the file it points to, and a reader never sees half a file).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from xpuplan.errors import SpecError


def write_output(path: str | os.PathLike, content: str | bytes, option: str,
                 inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Write `content` to `path` for the CLI option `option` (see module doc)."""
    target = Path(path)
    _refuse_unsafe(target, option, [Path(p) for p in inputs if p])
    data = content.encode("utf-8") if isinstance(content, str) else content
    directory = target.parent if str(target.parent) else Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise SpecError(option, str(path), f"cannot write the file ({exc.strerror or exc})"
                        ) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def check_output(path: str | os.PathLike, option: str,
                 inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Refuse an unsafe output path before any work is done (write_output checks again)."""
    _refuse_unsafe(Path(path), option, [Path(p) for p in inputs if p])


def output_folder(folder: str | os.PathLike, option: str) -> Path:
    """The folder `option` (--csv, --png) writes its files into, created if absent;
    SpecError where it cannot be."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError(option, str(folder), f"cannot create the folder ({exc.strerror})") from None
    return out


def _refuse_unsafe(target: Path, option: str, inputs: list[Path]) -> None:
    """SpecError unless `target` may be written: not a link nor anything but a regular file,
    not inside the shipped data, not one of `inputs`."""
    info = _output_stat(target, option)
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise SpecError(option, str(target), "is a symbolic link; outputs never follow links "
                        "(remove it or give another path)")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise SpecError(option, str(target), "exists and is not a regular file")
    data_dir = Path(str(resources.files("xpuplan") / "data")).resolve()
    if target.resolve().is_relative_to(data_dir):
        raise SpecError(option, str(target), "is inside xpuplan's shipped data; write elsewhere")
    if info is not None:
        _refuse_input(target, option, inputs)


def _output_stat(target: Path, option: str) -> os.stat_result | None:
    """`lstat` of the output path, None where nothing is there yet; SpecError where the path
    cannot be looked at (no permission, a loop of links, a NUL byte)."""
    try:
        info = os.lstat(target)
        target.resolve()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SpecError(option, str(target), f"cannot write the file ({exc.strerror})") from None
    except ValueError:
        raise SpecError(option, str(target), "the path contains a NUL byte") from None
    except RuntimeError:  # pathlib's "Symlink loop" (Python < 3.13)
        raise SpecError(option, str(target), "is a loop of symbolic links; outputs never "
                        "follow links (remove it or give another path)") from None
    return info


def _refuse_input(target: Path, option: str, inputs: list[Path]) -> None:
    """SpecError if the existing file `target` is one of `inputs` (the same file, by inode)."""
    for p in inputs:
        try:
            same = os.path.samefile(target, p)
        except OSError:
            continue
        if same:
            raise SpecError(option, str(target), f"is an input of this run ({p}); an output "
                            "never overwrites an input")


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
