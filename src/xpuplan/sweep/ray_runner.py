"""The same cells as Ray tasks: one task per chunk, rows back as tasks finish.

`--ray auto` joins the Ray cluster this machine runs (`ray start`, or RAY_ADDRESS), else
starts a local one with `--workers` CPUs and stops it at the end; `--ray HOST:PORT` (or
`ray://HOST:PORT`) joins that cluster. An address fails within CONNECT_TIMEOUT_S, in one
line: a TCP probe first (nothing listening), then Ray's own connect retries capped at that
time (something listens, but no Ray head answers). A driver that has already called
`ray.init()` (a notebook, a test) is used as it is. The cluster's workers need
xpuplan installed (a local cluster inherits this environment). At most 2 chunks per CPU are
in flight.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from xpuplan.errors import SpecError
from xpuplan.sweep.cells import Job, run_chunk

CONNECT_TIMEOUT_S = 3.0  # a reachable head answers a TCP connect in milliseconds
GCS_PORT = 6379  # Ray's default head (GCS) port
CLIENT_PORT = 10001  # Ray Client's default port (ray:// addresses)
IN_FLIGHT_PER_CPU = 2
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # RFC 9113 sec. 3.4
H2_SETTINGS = 0x4  # frame type
H2_EMPTY_SETTINGS = bytes([0, 0, 0, H2_SETTINGS, 0, 0, 0, 0, 0])  # length 0, stream 0
INSTALL_HINT = 'Ray is not installed; install it with: pip install "xpuplan[ray]"'


def import_ray() -> ModuleType:
    """The ray module, or a one-line SpecError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SpecError("ray", "ray", INSTALL_HINT) from None
    return ray


def probe(address: str) -> None:
    """Fail fast, in one line, unless a gRPC server (what a Ray head is) answers at `address`.

    Connects, sends the HTTP/2 client preface and an empty SETTINGS frame, and waits for the
    server's SETTINGS frame (RFC 9113 sec. 3.4), all within CONNECT_TIMEOUT_S: nothing
    listening, or a listener that stays silent, fails here instead of in Ray's retries.
    """
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        host, port = target, str(CLIENT_PORT if address.startswith("ray://") else GCS_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S) as conn:
            conn.sendall(H2_PREFACE + H2_EMPTY_SETTINGS)
            frame = conn.recv(9)
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise SpecError("ray", address, f"no Ray cluster answers at {host}:{port} ({why} "
                        f"within {CONNECT_TIMEOUT_S:g} s); start one with `ray start --head` "
                        "or use --ray auto") from None
    if len(frame) < 4 or frame[3] != H2_SETTINGS:
        raise SpecError("ray", address, f"{host}:{port} answers, but not as a Ray head (no "
                        "gRPC); check the address (`ray status` on the head prints it)")


def check(address: str) -> ModuleType:
    """Before any work: Ray is importable, and an explicit address answers."""
    ray = import_ray()
    if address != "auto":
        probe(address)
    return ray


@dataclass
class RaySession:
    """A Ray connection for one sweep; `close` stops Ray if the sweep started it."""

    ray: ModuleType  # ray itself: import_ray() returns the module
    started: bool

    @property
    def cpus(self) -> int:
        """CPUs in the cluster: how many cells run at once."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def attach(address: str, workers: int) -> RaySession:
    """Attach to (or with `auto` and no cluster, start) Ray, in one line if it fails; call
    `check` first."""
    ray = import_ray()
    if ray.is_initialized():
        return RaySession(ray, started=False)
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        with _bounded_connect():
            ray.init(address=address, **quiet)
    except ConnectionError:
        if address != "auto":
            raise SpecError("ray", address, "it accepts connections but no Ray cluster "
                            f"answered within {CONNECT_TIMEOUT_S:g} s; start one with `ray "
                            "start --head` or use --ray auto") from None
        ray.init(num_cpus=workers, include_dashboard=False, **quiet)  # none here: start one
    return RaySession(ray, started=True)


@contextmanager
def _bounded_connect():
    """Ray retries a silent head once a second (~20 s); cap that at CONNECT_TIMEOUT_S
    (RAY_gcs_server_port_wait_time_s, unless the user set it) and keep its C++ retry
    warnings off the terminal, so a failure prints as one line."""
    key = "RAY_gcs_server_port_wait_time_s"
    preset = key in os.environ
    if not preset:
        os.environ[key] = str(max(1, round(CONNECT_TIMEOUT_S)))
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        if not preset:
            del os.environ[key]


def run_ray(job: Job, chunks: Iterable[list], session: RaySession,
            on_rows: Callable[[list[dict]], None]) -> None:
    """Run every chunk as a Ray task on an attached session; `on_rows` gets each chunk's
    rows as it finishes."""
    ray = session.ray
    task = ray.remote(run_chunk)
    window = IN_FLIGHT_PER_CPU * session.cpus
    job_ref = ray.put(job)
    pending: list = []
    for chunk in chunks:
        pending.append(task.remote(job_ref, chunk))
        while len(pending) >= window:
            pending = _collect(ray, pending, on_rows)
    while pending:
        pending = _collect(ray, pending, on_rows)


def _collect(ray, pending: list, on_rows) -> list:
    done, pending = ray.wait(pending, num_returns=1)
    for ref in done:
        on_rows(ray.get(ref))
    return pending
