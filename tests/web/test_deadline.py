"""A request past its time limit stops computing and frees its worker (xpuplan.deadline)."""

from __future__ import annotations

import asyncio
import time

import pytest

from xpuplan import api, deadline
from xpuplan.errors import TimeLimitError
from xpuplan.web.runner import Settings, WorkTimeout, run_limited


def test_an_expired_deadline_stops_a_layout_search():
    problem = api.train_problem("llama-3.1-8b", chip="h100", n_chips=64)
    with deadline.within(time.monotonic() - 1.0), pytest.raises(TimeLimitError):
        api.search_layouts(problem)
    assert api.search_layouts(problem).best  # no deadline outside the block


def test_a_timed_out_request_frees_its_worker_for_the_next():
    settings = Settings(workers=1, time_limit_s=0.2)
    ended = []

    def slow():  # 3 s unless the deadline ends it; meanwhile the single worker is taken
        stop = time.monotonic() + 3.0
        while time.monotonic() < stop:
            deadline.check()
            time.sleep(0.005)

    def quick():
        ended.append(time.monotonic())
        return 42

    async def both():
        with pytest.raises(WorkTimeout):
            await run_limited(settings, slow)
        return await run_limited(settings, quick, time_limit_s=5.0)

    start = time.monotonic()
    assert asyncio.run(both()) == 42
    assert ended[0] - start < 2.0  # the worker was free right after the first limit
    settings.pool.shutdown(wait=True)


def test_nested_deadlines_keep_the_earlier():
    now = time.monotonic()
    with deadline.within(now - 1.0), deadline.within(now + 100.0), pytest.raises(TimeLimitError):
        deadline.check()
    deadline.check()  # none outside
