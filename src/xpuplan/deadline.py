"""A cooperative time limit for one computation: the web server's limit per request.

Python cannot stop a thread, so a request that ran past its limit would keep its worker busy
until it ended, and a few such requests would starve the server. The server runs each
request `within(deadline)`; the long loops (layout chunks, chips of a comparison, vendors of
a plan, chip counts tried) call `check()` between pieces of work, which raises TimeLimitError
once the deadline has passed, and the worker is free again. Outside `within` (the CLI, the
tests, a sweep) there is no deadline and `check()` is one context-variable read.

>>> import time
>>> with within(time.monotonic() - 1.0):
...     check()
Traceback (most recent call last):
xpuplan.errors.TimeLimitError: the computation ran past its time limit (1 s over)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from xpuplan.errors import TimeLimitError

_DEADLINE: ContextVar[float | None] = ContextVar("xpuplan_deadline", default=None)


@contextmanager
def within(deadline_monotonic_s: float) -> Iterator[None]:
    """Run the block under a deadline on `time.monotonic()`'s clock (nested: the earlier)."""
    outer = _DEADLINE.get()
    token = _DEADLINE.set(deadline_monotonic_s if outer is None
                          else min(outer, deadline_monotonic_s))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check() -> None:
    """TimeLimitError if the current deadline has passed; nothing without a deadline."""
    deadline = _DEADLINE.get()
    if deadline is not None:
        late_s = time.monotonic() - deadline
        if late_s > 0:
            raise TimeLimitError(late_s)
