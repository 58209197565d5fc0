"""The background loops stop when their task is cancelled, even when a library swallowed the
cancellation or turned it into an error the loop retries. Seen: an escalation worker whose
`serve` had been killed cancelled its timers on stdin's end, the cancellation was lost inside
a tick, and the timers ran on for good, claiming the rungs of later processes on that Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.devtools.harness import Harness
from bot.runtime import Job, _run_delivery, run_job

STOPS_WITHIN = 5.0  # a hang guard: without the fix the loop waits a minute, then runs again


def _swallows() -> Callable[[], Awaitable[None]]:
    lost = False

    async def run() -> None:
        nonlocal lost
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            if lost:
                raise
            lost = True  # as a library once did inside a tick; once, so a failure ends

    return run


def _turns_into_an_error() -> Callable[[], Awaitable[None]]:
    lost = False

    async def run() -> None:
        nonlocal lost
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            if lost:
                raise
            lost = True
            raise RedisConnectionError("connection closed while reading") from None

    return run


async def _cancel_once_running(task: asyncio.Task[None]) -> None:
    await asyncio.sleep(0.05)  # inside the job's await
    assert not task.done()
    task.cancel()
    try:
        done, _ = await asyncio.wait({task}, timeout=STOPS_WITHIN)
        assert task in done, "the loop kept running after its task was cancelled"
        assert task.cancelled()
    finally:
        task.cancel()  # a second request, which the jobs above let through
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("run", [_swallows, _turns_into_an_error])
@pytest.mark.parametrize("wake_on_work", [False, True])
async def test_a_job_loop_stops_when_cancelled_whatever_the_job_did_with_it(
    harness: Harness, run: Any, wake_on_work: bool
) -> None:
    assert harness.deps is not None
    job = Job("lossy", run(), every=60.0, wake_on_work=wake_on_work)
    await _cancel_once_running(asyncio.create_task(run_job(harness.deps, job)))


@pytest.mark.parametrize("run", [_swallows, _turns_into_an_error])
async def test_the_delivery_loop_stops_when_cancelled_whatever_the_pool_did_with_it(
    run: Any,
) -> None:
    pool: Any = SimpleNamespace(run_forever=run(), metrics=SimpleNamespace(redis_error=print))
    await _cancel_once_running(asyncio.create_task(_run_delivery(pool)))
