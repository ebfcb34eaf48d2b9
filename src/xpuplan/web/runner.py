"""The worker pool, the request-size limit and the JSON and error responses of the server.

Work runs in a bounded thread pool (numpy releases the GIL in the heavy parts) under a time
limit, so a slow request queues or times out without stalling the event loop; a request still
queued when its time runs out is cancelled before it starts, and one already running stops at
its next `deadline.check()` (the API's long loops), which frees its worker.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response

from xpuplan import deadline
from xpuplan.errors import SpecError, TimeLimitError, XpuplanError


@dataclass
class Settings:
    """How the server was started (`xpuplan ui` options)."""

    allow_paths: bool = False
    """Open model paths and Hugging Face ids named in requests (off: built-in names only)."""
    catalog_files: list[str] | None = None
    """Extra chip/instance catalogs, as `xpuplan --catalog`."""
    workers: int = 2
    """Threads that compute answers; more requests queue."""
    time_limit_s: float = 60.0
    """Seconds one request may take, queueing included, before it is answered 503."""
    max_body_bytes: int = 1_000_000
    """Largest request body (a config.json or a scenario is a few kB)."""
    pool: ThreadPoolExecutor = field(init=False, repr=False)

    def __post_init__(self):
        if self.workers < 1:
            raise SpecError("workers", self.workers, "must be >= 1")
        if not self.time_limit_s > 0:
            raise SpecError("time_limit_s", self.time_limit_s, "must be > 0 s")
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="xpuplan-web")


class WorkTimeout(Exception):
    """A request ran past the server's time limit."""


async def run_limited(settings: Settings, fn, *args, time_limit_s: float | None = None) -> Any:
    """`fn(*args)` in the pool; WorkTimeout after `time_limit_s` (default: the server's), queueing
    included; the computation itself stops at the same deadline (`xpuplan.deadline`)."""
    limit = time_limit_s or settings.time_limit_s
    due = time.monotonic() + limit

    def limited():
        with deadline.within(due):
            return fn(*args)

    future = asyncio.get_running_loop().run_in_executor(settings.pool, limited)
    try:
        return await asyncio.wait_for(future, limit)
    except (TimeoutError, TimeLimitError):
        raise WorkTimeout(limit) from None


class CliJSON(Response):
    """JSON serialised exactly as the CLI's `--json` (`json.dumps(obj, default=str)`)."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return json.dumps(content, default=str).encode()


def error_response(exc: Exception) -> JSONResponse:
    """One-line JSON error: 422 for xpuplan's errors (naming the field), 503 for a timeout,
    500 (no traceback) for anything else."""
    if isinstance(exc, XpuplanError):
        body = {"detail": str(exc)}
        if isinstance(exc, SpecError):
            body["field"] = exc.field
        return JSONResponse(body, status_code=422)
    if isinstance(exc, WorkTimeout):
        return JSONResponse({"detail": f"the request took longer than the server's limit of "
                                       f"{exc.args[0]:g} s"}, status_code=503)
    return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)


class BodyTooLarge(Exception):
    """A request body over the server's size limit."""


class BodyLimit:
    """ASGI middleware: answer 413 to a body over `max_bytes` (by Content-Length, or counted
    while it streams in)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        seen, answered = 0, False

        async def limited():
            nonlocal seen, answered
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes and not answered:
                answered = True
                await self._too_large(scope, receive, send)
                raise BodyTooLarge
            return message

        async def send_unless_answered(message):
            if not answered:  # the app's own answer after a 413 (e.g. its 400) is dropped
                await send(message)

        try:
            await self.app(scope, limited, send_unless_answered)
        except BodyTooLarge:
            pass

    async def _too_large(self, scope, receive, send):
        response = JSONResponse({"detail": f"request body over the server's limit of "
                                           f"{self.max_bytes} bytes"}, status_code=413)
        await response(scope, receive, send)
