"""The same cells as Ray tasks: one task per chunk, rows back as tasks finish.

`--ray auto` joins the Ray cluster this machine runs (`ray start`, or RAY_ADDRESS), else
starts a local one with `--workers` CPUs and stops it at the end; `--ray HOST:PORT` (or
`ray://HOST:PORT`) joins that cluster after a TCP probe, so an address nobody answers fails
within CONNECT_TIMEOUT_S instead of waiting on Ray's own retries. A driver that has already
called `ray.init()` (a notebook, a test) is used as it is. The cluster's workers need
xpuplan installed (a local cluster inherits this environment). At most 2 chunks per CPU are
in flight.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable

from xpuplan.errors import SpecError
from xpuplan.sweep.cells import Job, run_chunk

CONNECT_TIMEOUT_S = 3.0  # a reachable head answers a TCP connect in milliseconds
GCS_PORT = 6379  # Ray's default head (GCS) port
CLIENT_PORT = 10001  # Ray Client's default port (ray:// addresses)
IN_FLIGHT_PER_CPU = 2
INSTALL_HINT = 'Ray is not installed; install it with: pip install "xpuplan[ray]"'


def import_ray():
    """The ray module, or a one-line SpecError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SpecError("ray", "ray", INSTALL_HINT) from None
    return ray


def probe(address: str) -> None:
    """Fail fast, in one line, when nothing listens at a Ray address."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        host, port = target, str(CLIENT_PORT if address.startswith("ray://") else GCS_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise SpecError("ray", address, f"no Ray cluster answers at {host}:{port} ({why} "
                        f"within {CONNECT_TIMEOUT_S:g} s); start one with `ray start --head` "
                        "or use --ray auto") from None


def connect(ray, address: str, workers: int) -> bool:
    """Attach to (or start) a cluster; True when this call started Ray and should stop it."""
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address != "auto":
        probe(address)
        ray.init(address=address, **quiet)
        return True
    try:
        ray.init(address="auto", **quiet)
    except ConnectionError:  # no cluster on this machine: start one
        ray.init(num_cpus=workers, include_dashboard=False, **quiet)
    return True


def run_ray(job: Job, chunks: Iterable[list], address: str, workers: int,
            on_rows: Callable[[list[dict]], None]) -> None:
    """Run every chunk as a Ray task; call `on_rows` with each chunk's rows."""
    ray = import_ray()
    started = connect(ray, address, workers)
    try:
        task = ray.remote(run_chunk)
        window = IN_FLIGHT_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
        job_ref = ray.put(job)
        pending: list = []
        for chunk in chunks:
            pending.append(task.remote(job_ref, chunk))
            while len(pending) >= window:
                pending = _collect(ray, pending, on_rows)
        while pending:
            pending = _collect(ray, pending, on_rows)
    finally:
        if started:
            ray.shutdown()


def _collect(ray, pending: list, on_rows) -> list:
    done, pending = ray.wait(pending, num_returns=1)
    for ref in done:
        on_rows(ray.get(ref))
    return pending
