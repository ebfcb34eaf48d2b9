"""Benchmark: latency of `xpuplan ui` under load, 200 requests from 20 concurrent clients.

Run: python benchmarks/web_load.py [--requests 200] [--clients 20] [--workers 2]
Starts `python -m xpuplan ui` on 127.0.0.1 on a free port (a real uvicorn server, as a user
runs it), sends a fixed mix of API calls and one page (round robin) with httpx, prints p50 /
p95 / max latency, the error count and the machine, then stops the server. Traffic goes only
to 127.0.0.1; the run is bounded by the request count.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
from machine import machine_line  # benchmarks/machine.py, beside this script

MIX = [  # (method, path, JSON body)
    ("GET", "/api/chips", None),
    ("POST", "/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": 8}),
    ("POST", "/api/infer", {"model": "llama-3.1-70b", "chip": "h200", "tpot_s": 0.05}),
    ("POST", "/api/search", {"model": "llama-3.1-70b", "chip": "b200", "chips": 512, "top": 3}),
    ("GET", "/train?model=llama-3.1-8b&chip=h100&chips=64", None),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, n_requests: int, n_clients: int) -> tuple[list[float], list[str]]:
    latencies, errors = [], []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n_requests):
        queue.put_nowait(i)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:
            while not queue.empty():
                method, path, body = MIX[queue.get_nowait() % len(MIX)]
                start = time.perf_counter()
                try:
                    r = await c.request(method, path, json=body)
                    if r.status_code != 200:
                        errors.append(f"{path}: {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(n_clients)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "xpuplan", "ui", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers)],
                              stdout=subprocess.PIPE, text=True)
    try:
        print(server.stdout.readline().strip())
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):  # the URL is printed before uvicorn binds
            try:
                httpx.get(f"{url}/api/models", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.get(f"{url}/api/validate", timeout=600)  # wait out `ui`'s validation prefetch
        start = time.perf_counter()
        latencies, errors = asyncio.run(_load(url, args.requests, args.clients))
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = np.array(latencies) * 1e3
    print(f"{machine_line()}; server threads: {args.workers}")
    print(f"{len(latencies)} requests from {args.clients} clients in {wall:.1f} s "
          f"({len(latencies) / wall:.1f} req/s); latency p50 {np.percentile(ms, 50):.0f} ms, "
          f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms; errors: {len(errors)}")
    for e in sorted(set(errors)):
        print(f"  {e}")


if __name__ == "__main__":
    main()
