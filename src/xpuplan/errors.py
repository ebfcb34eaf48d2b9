"""Errors xpuplan raises for bad input; each message is one line a user can act on.

XpuplanError
├── SpecError(field, value, allowed)            a value is missing, impossible or out of range
│   └── UnknownNameError(kind, name, close)     a chip / instance / model name is not known
├── CatalogError(file, key, problem)            a data file is malformed or a figure lacks a source
├── InfeasibleError(reason, needed, available)  nothing fits (memory, SLO, chip count)
├── SolverError(status)                         the LP/MILP solver did not reach an optimum
└── TimeLimitError(late_s)                      a computation ran past its deadline (deadline.py)

The CLI prints `error: <message>` on one stderr line and exits with code 2: bad input and a
question nothing can satisfy (an SLO no layout meets, a job no layout fits) alike, as the
issues specify; 1 only for SolverError, a solver that failed on a well-posed problem.
Tracebacks are shown only with `--debug`.
"""

from __future__ import annotations

import difflib
import reprlib

from xpuplan.limits import file_limit

VALUE_CHARS = 80  # a value longer than this is cut with "..." in a message
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 4, 4, 4
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 60


class XpuplanError(Exception):
    """Base class: every error xpuplan raises on purpose; its text is one bounded line."""

    exit_code = 2

    def __str__(self) -> str:
        return one_line(super().__str__(), file_limit("max_message_chars"))


class SpecError(XpuplanError):
    """A field has a value that is not allowed."""

    def __init__(self, field: str, value: object, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {short_repr(value)}: {allowed}")


class UnknownNameError(SpecError):
    """A name that is not in the catalog; the message lists the closest known names."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name = kind, name
        self.close_matches = close_names(name, known)
        more = " ..." if len(known) > 12 else ""
        hint = (f"did you mean {', '.join(self.close_matches)}?" if self.close_matches
                else f"known {kind}s: {', '.join(sorted(known)[:12])}{more}")
        Exception.__init__(self, f"unknown {kind} {short_repr(name, 60)}; {hint}")
        self.field, self.value, self.allowed = kind, name, hint


class CatalogError(XpuplanError):
    """A catalog or scenario file that cannot be read as written."""

    def __init__(self, file: str, key: str | None, problem: str):
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}" if key else file  # no key: the whole file is the problem
        super().__init__(f"{where}: {problem}")


class InfeasibleError(XpuplanError):
    """The request is well-formed but nothing satisfies it."""

    def __init__(self, reason: str, needed: object = None, available: object = None):
        self.reason, self.needed, self.available = reason, needed, available
        super().__init__(reason)


class SolverError(XpuplanError):
    """The optimiser ended without an optimal solution."""

    exit_code = 1

    def __init__(self, status: str):
        self.status = status
        super().__init__(f"solver ended with status {status}")


class TimeLimitError(XpuplanError):
    """A computation ran past the deadline it was given (`xpuplan.deadline`): the web server's
    limit per request. Never raised without a deadline, so never by the CLI."""

    def __init__(self, late_s: float):
        self.late_s = late_s
        super().__init__(f"the computation ran past its time limit ({late_s:.2g} s over)")


def close_names(name: str, known: list[str], n: int = 3) -> list[str]:
    """The known names closest to `name` (difflib ratio, case-insensitive), best first."""
    lowered = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    if not hits:
        hits = [k for k in lowered if name.lower() in k or k in name.lower()][:n]
    return [lowered[h] for h in hits]


def short_repr(value: object, limit: int = VALUE_CHARS) -> str:
    """repr(value) on one line, cut to `limit` characters with '...' (a message stays short).

    Bounded work whatever the value: nested containers are abbreviated (reprlib), an integer
    too long to print is shown by its digit count.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    text = " ".join(_REPR.repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(message: str, limit: int) -> str:
    """A message as one line of at most `limit` characters ('...' marks a cut)."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validation_problem(exc) -> tuple[str, str]:
    """The first error of a pydantic ValidationError as (dotted location, one-line problem).

    The one translation of pydantic errors (catalogs, scenarios, specs): keeps `loc`, the
    message and the input (cut short), drops pydantic's multi-line layout and its URL.
    """
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    got = "" if err["type"] == "missing" else f" (got {short_repr(err.get('input'))})"
    return loc, one_line(msg + got, 200)

