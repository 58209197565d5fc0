"""The escalation timers on their own thread (bot/escalation_thread.py): with REDIS_URL,
`run_forever` fires rungs there, wakes delivery from there, and stops it when cancelled."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness
from bot.runtime import run_forever
from bot.store.connection import connect
from bot.waker import Waker
from tests.conftest import ROOT
from tests.e2e.paging_helpers import IDS, dms
from tests.e2e.test_failures import PAGE, RedisServer, _stop, _wait_for
from tests.e2e.test_failures import redis_server as redis_server  # the fixture


def _escalation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "escalation" and t.is_alive()]


async def test_rungs_fire_on_the_escalation_thread_and_it_stops_with_the_loop(
    redis_server: RedisServer, clock: FakeClock, config: TeamConfig
) -> None:
    client = connect(redis_server.url)
    overrides = {
        "runbooks_dir": ROOT / "runbooks",
        "tick_seconds": 0.05,
        "redis_url": redis_server.url,
    }
    h = await Harness(client, clock, config, settings_overrides=overrides).start()
    assert h.deps is not None and h.pool is not None
    loop = asyncio.create_task(run_forever(h.deps, h.jobs(), h.pool))
    try:
        await _wait_for(lambda: len(_escalation_threads()) == 1)
        assert "INC-1 opened" in (await h.command("/page", PAGE, IDS["AM"])).json["text"]
        await _wait_for(lambda: [w for w, _ in dms(h)] == ["PR"])
        # Past the Backup's delay: only the thread runs the escalation job now, and the DM it
        # queues is sent by this loop's delivery pool, woken across the threads.
        clock.advance(timedelta(minutes=16))
        h.deps.waker.wake()
        await _wait_for(lambda: any(who != "PR" for who, _ in dms(h)))
    finally:
        await _stop(loop)
        await h.stop()
        await client.aclose()
    await _wait_for(lambda: not _escalation_threads())


async def test_without_redis_url_the_timers_stay_in_the_main_loop(harness: Harness) -> None:
    assert harness.deps is not None and harness.pool is not None
    assert harness.deps.settings.redis_url is None
    loop = asyncio.create_task(run_forever(harness.deps, harness.jobs(), harness.pool))
    try:
        await asyncio.sleep(0.1)
        assert not _escalation_threads()
    finally:
        await _stop(loop)


async def test_a_wake_reaches_a_loop_on_another_thread() -> None:
    here = Waker()
    ready = threading.Event()
    woke: list[float] = []

    def other() -> None:
        async def main() -> None:
            theirs = Waker()
            here.relay_to(asyncio.get_running_loop(), theirs)
            ready.set()
            start = asyncio.get_running_loop().time()
            await theirs.wait(5.0, name="escalation")
            woke.append(asyncio.get_running_loop().time() - start)

        asyncio.run(main())

    thread = threading.Thread(target=other)
    thread.start()
    ready.wait(5)
    await asyncio.sleep(0.05)  # it is waiting now
    here.wake()
    await asyncio.to_thread(thread.join, 5)
    assert woke and woke[0] < 1.0
