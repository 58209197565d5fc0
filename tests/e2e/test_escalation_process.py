"""The escalation timers in a process of their own (bot/escalation_process.py and
bot/escalation_worker.py), as `serve` runs them with REDIS_URL: rungs fire in the worker,
the app delivers them and counts them, a worker that dies is replaced, a worker whose serve
is gone exits, and a worker that cannot start leaves the timers to the thread.

On the system clock (the worker reads its own), so the rungs here fall due a moment after
they are opened, in the store, with their page messages already posted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import escalation_process
from bot.clock import SystemClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.escalation_process import EscalationProcess, start_payload
from bot.runtime import run_forever
from bot.store.connection import connect
from tests.conftest import ROOT
from tests.e2e.paging_helpers import dms
from tests.e2e.test_escalation_thread import _escalation_threads
from tests.e2e.test_failures import RedisServer, _stop, _wait_for
from tests.e2e.test_failures import redis_server as redis_server  # the fixture


def _workers() -> list[int]:
    """This process's children running the escalation worker."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"bot.escalation_worker" in cmdline:
            found.append(int(entry.name))
    return found


async def _harness(redis_server: RedisServer, config: TeamConfig) -> Harness:
    overrides = {"runbooks_dir": ROOT / "runbooks", "tick_seconds": 0.05}
    overrides["redis_url"] = redis_server.url
    client = connect(redis_server.url)
    return await Harness(client, SystemClock(), config, settings_overrides=overrides).start()


async def _open_due(h: Harness, seconds: float, key: str) -> str:
    """An incident whose next rung falls due in `seconds`, its page message posted."""
    assert h.deps is not None
    deps, now = h.deps, datetime.now(UTC)
    seg, ladder = await deps.schedule.ladder(now, deps.config.pipeline("growth-agg"))
    inc, _ = esc.open_incident(
        id="pending", pipeline="growth-agg", severity=sm.Severity.SEV1, summary=key,
        signal=sm.Signal.FRESHNESS, dedupe_key=key, mode=sm.Mode.PAGE, ladder=ladder,
        now=now, opened_by="alert", policy=deps.config.policy.escalation, checklist=False,
        boundary=seg.end,
    )  # fmt: skip
    inc.next_at = now + timedelta(seconds=seconds)
    _, incident_id = await deps.incidents.open_or_join(inc, [], now)
    channel, ts = deps.config.pipeline("growth-agg").channel, f"{int(now.timestamp())}.000001"
    h.slack.messages[(channel, ts)] = {"channel": channel, "ts": ts, "text": incident_id}
    await deps.incidents.set_message(incident_id, channel, ts)
    return incident_id


async def _never() -> None:
    raise AssertionError("no fallback expected")


async def _close(h: Harness) -> None:
    await h.stop()
    await h.redis.aclose()


@contextlib.asynccontextmanager
async def _serving(redis_server: RedisServer, config: TeamConfig) -> AsyncIterator[Harness]:
    """The app with its background loops running, as `serve` runs them; afterwards, no
    worker left behind."""
    h = await _harness(redis_server, config)
    assert h.deps is not None and h.pool is not None
    loop = asyncio.create_task(run_forever(h.deps, h.jobs(), h.pool))
    try:
        yield h
    finally:
        await _stop(loop)
        await _close(h)
    await _wait_for(lambda: not _workers())


async def _worker_started(caplog: pytest.LogCaptureFixture) -> None:
    await _wait_for(lambda: "timers running in process" in caplog.text, within=30)


async def _paged(h: Harness, incident_id: str) -> None:
    """Until the app has DMed the page of `incident_id` (a rung the timers fired)."""
    await _wait_for(lambda: any(incident_id in text for _, text in dms(h)), within=10)


async def test_rungs_fire_in_the_worker_and_the_app_delivers_and_counts_them(
    redis_server: RedisServer, config: TeamConfig
) -> None:
    async with _serving(redis_server, config) as h:
        assert h.deps is not None
        await _wait_for(lambda: len(_workers()) == 1, within=30)
        assert not _escalation_threads()
        incident_id = await _open_due(h, 0.3, "process-1")
        # Fired in the worker; this loop's delivery pool, woken by its "fired" line, sends it.
        await _paged(h, incident_id)
        scraped = (await h.deps.metrics.scrape(h.deps.outbox, h.deps.incidents)).decode()  # type: ignore[attr-defined]
        assert 'oncall_rungs_total{pipeline="growth-agg"} 1.0' in scraped
        assert "oncall_timer_lateness_seconds_count 1.0" in scraped


async def test_a_worker_that_dies_is_replaced_and_its_rungs_still_fire(
    redis_server: RedisServer, config: TeamConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.escalation_process")
    async with _serving(redis_server, config) as h:
        await _worker_started(caplog)
        (first,) = _workers()
        caplog.clear()
        os.kill(first, signal.SIGKILL)
        # Due while no worker runs: it waits in Redis for the next one.
        incident_id = await _open_due(h, 0.2, "process-2")
        await _worker_started(caplog)
        assert _workers() not in ([], [first])
        await _paged(h, incident_id)
        assert "the escalation process exited (code -9)" in caplog.text


async def test_a_worker_that_stops_answering_is_killed_and_replaced(
    redis_server: RedisServer,
    config: TeamConfig,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Alive lines every 0.25 s, so 1.5 s of silence means it is stopped, not slow.
    monkeypatch.setattr(escalation_process, "WATCHDOG", 1.5)
    caplog.set_level(logging.INFO, logger="bot.escalation_process")
    async with _serving(redis_server, config) as h:
        await _worker_started(caplog)
        await asyncio.sleep(2)  # alive lines keep a working worker alive past the watchdog
        (first,) = _workers()
        caplog.clear()
        os.kill(first, signal.SIGSTOP)  # alive, as the kernel sees it, but doing nothing
        incident_id = await _open_due(h, 0.2, "process-4")
        await _worker_started(caplog)
        assert f"no word from the escalation process {first} for 2 s; killing it" in caplog.text
        assert _workers() not in ([], [first])
        await _paged(h, incident_id)


async def test_when_workers_keep_failing_to_start_the_timers_run_in_serves_loop(
    redis_server: RedisServer,
    config: TeamConfig,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.escalation_process")
    async with _serving(redis_server, config) as h:
        await _worker_started(caplog)
        # From now on no worker can start (as if the interpreter were gone after a deploy).
        monkeypatch.setattr(escalation_process, "WORKER", "bot.no_such_worker")
        monkeypatch.setattr(escalation_process, "RESPAWN_TRIES", 2)
        monkeypatch.setattr(escalation_process, "RESTART_FIRST", 0.05)
        (first,) = _workers()
        os.kill(first, signal.SIGKILL)
        await _wait_for(lambda: "run in serve's loop from now on" in caplog.text, within=30)
        assert caplog.text.count("the escalation process did not start") == 2
        incident_id = await _open_due(h, 0.2, "process-5")
        await _paged(h, incident_id)
        assert not _workers() and not _escalation_threads()


async def test_a_worker_exits_when_its_serve_is_gone(
    redis_server: RedisServer, config: TeamConfig
) -> None:
    h = await _harness(redis_server, config)
    assert h.deps is not None
    s = h.deps.settings
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        escalation_process.WORKER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(start_payload(s, h.deps.config, h.deps.runbooks, 5.0))
        assert b'"ready":true' in await asyncio.wait_for(proc.stdout.readline(), 30)
        # serve's end, as a crash would leave it: the pipe's end of file, no message.
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await _close(h)


async def test_a_worker_that_cannot_start_leaves_the_timers_on_the_thread(
    redis_server: RedisServer,
    config: TeamConfig,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(escalation_process, "WORKER", "bot.no_such_worker")
    async with _serving(redis_server, config) as h:
        await _wait_for(lambda: len(_escalation_threads()) == 1, within=30)
        assert "the escalation process did not start" in caplog.text
        incident_id = await _open_due(h, 0.2, "process-3")
        await _paged(h, incident_id)


async def test_a_worker_line_names_only_the_metrics_hooks(
    redis_server: RedisServer, config: TeamConfig, caplog: pytest.LogCaptureFixture
) -> None:
    h = await _harness(redis_server, config)
    assert h.deps is not None
    process = EscalationProcess(h.deps, _never)
    try:
        # Only Metrics' hooks: __init__ is not one, and is ignored.
        process._handle(b'{"metrics":[["__init__",[]],["rung_fired",["growth-agg"]]]}')
        with caplog.at_level(logging.WARNING):
            process._handle(b"Traceback (most recent call last):")
        assert "not JSON" in caplog.text
        scraped = (await h.deps.metrics.scrape(h.deps.outbox, h.deps.incidents)).decode()  # type: ignore[attr-defined]
        assert 'oncall_rungs_total{pipeline="growth-agg"} 1.0' in scraped
    finally:
        await _close(h)
