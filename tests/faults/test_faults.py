"""Fault suite: three `oncall-bot serve` processes, one real Redis, one fake Slack, 300
incidents escalating to their final page while something goes wrong.

Each scenario asserts the README's guarantees ("Delivery and storage"): every page DM,
page post and thread reply arrives (zero missed), nothing arrives twice (zero duplicated:
no notice id posted twice, no DM line twice), and rungs fire on time whatever Slack does.
It prints one summary line (run pytest with -s to see it).

Escalation, per incident (tests/faults/helpers.py `fast_config`): Primary at once, Backup
after 2 s, then Incident Commander (or, when the secondary owner is already on the ladder,
both free engineers as Lead) and Lead 1 s apart, and a final page to all four engineers
1 s later: 8 page DMs and 4 thread replies (3 without a commander rung).

Needs a real Redis (REDIS_URL, as CI sets it); the database is flushed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_URL
from tests.faults.helpers import PAGE_CHANNEL, Fleet, RedisServer, assert_clean, run_scenario

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a real Redis)")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    assert REDIS_URL
    client: Redis = Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    yield REDIS_URL


async def test_sigkill_mid_escalation_and_mid_delivery(tmp_path: Path, redis_url: str) -> None:
    """One replica killed while rungs fall due, another while Slack answers slowly and its
    workers hold leased notices with sends in flight; the first comes back. Rungs a dead
    replica had claimed fire when the 3 s claim lapses; its notices are taken over when the
    10 s lease lapses, and a send whose answer it never saw is looked for before posting."""

    async def fault(fleet: Fleet) -> None:
        await fleet.at(4.0)  # the backup and commander rungs are falling due
        escalating, delivering = fleet.bots[0], fleet.bots[1]
        await asyncio.to_thread(escalating.kill)
        fleet.note(f"SIGKILL {escalating.name}")
        await fleet.at(4.5)
        fleet.slack.slow(0.2)
        await fleet.at(5.0)  # its workers are waiting on Slack
        await asyncio.to_thread(delivering.kill)
        fleet.note(f"SIGKILL {delivering.name} (Slack slowed to 0.2 s)")
        await fleet.at(5.5)
        fleet.slack.slow(0.0)
        await fleet.at(6.5)
        restarted = fleet.spawn()
        await restarted.ready(fleet.session)
        fleet.note(f"{restarted.name} started")

    report = await run_scenario("sigkill", tmp_path, redis_url, fault)
    assert_clean(report)
    assert report.worst_committed < 6.0, report.line()


async def test_redis_restart_mid_escalation(tmp_path: Path, redis_url: str) -> None:
    """A private redis-server (AOF, everysec) is shut down cleanly for 2 s while rungs fall
    due and notices are being delivered, then started again on the same port and directory."""
    server = RedisServer(tmp_path / "redis")
    server.start()

    async def fault(fleet: Fleet) -> None:
        await fleet.at(4.0)
        await asyncio.to_thread(server.stop)
        fleet.note("redis-server stopped (SIGTERM)")
        await fleet.at(6.0)
        await asyncio.to_thread(server.start)
        fleet.note("redis-server started")

    try:
        report = await run_scenario("redis-restart", tmp_path, server.url, fault)
    finally:
        server.stop()
    assert_clean(report)


async def test_retry_after_longer_than_the_lease(tmp_path: Path, redis_url: str) -> None:
    """The page channel answers 429 with Retry-After 15 s (longer than the outbox's 10 s
    lease) twice; DMs (other channels) go on, and rungs are not delayed."""

    async def fault(fleet: Fleet) -> None:
        await fleet.at(3.0)
        fleet.slack.fail("chat.postMessage", 429, times=2, retry_after=15, channel=PAGE_CHANNEL)
        fleet.note("429 Retry-After 15 s x2 on the page channel")

    report = await run_scenario("retry-after", tmp_path, redis_url, fault)
    assert_clean(report)
    assert report.slack_failures >= 2
    assert report.worst_committed < 1.0, report.line()


async def test_5xx_spread_over_the_run(tmp_path: Path, redis_url: str) -> None:
    """200 chat.postMessage calls answered HTTP 500, 4 at a time every 0.2 s for 10 s."""

    async def fault(fleet: Fleet) -> None:
        for k in range(50):
            await fleet.at(0.5 + 0.2 * k)
            fleet.slack.fail("chat.postMessage", 500, times=4)
        fleet.note(f"{len(fleet.slack.failed_calls)} posts answered 500")

    report = await run_scenario("5xx", tmp_path, redis_url, fault)
    assert_clean(report)
    assert report.slack_failures >= 150
    assert report.worst_committed < 1.0, report.line()


async def test_slow_answers_past_the_client_timeout(tmp_path: Path, redis_url: str) -> None:
    """50 posts accepted by Slack but answered after the bots' 1 s client timeout, 10 every
    2 s: each retry finds its message already there and does not post it again."""
    stalled = 0

    async def fault(fleet: Fleet) -> None:
        nonlocal stalled
        for k in range(5):
            await fleet.at(1.0 + 2.0 * k)
            left = fleet.slack.stalls.get("chat.postMessage")
            stalled += 0 if left is None else 10 - left.times
            fleet.slack.stall("chat.postMessage", 2.5, times=10)
        await fleet.at(12.0)
        left = fleet.slack.stalls.get("chat.postMessage")
        stalled += 0 if left is None else 10 - left.times
        fleet.note(f"{stalled} posts answered after 2.5 s")

    report = await run_scenario(
        "slow-answers", tmp_path, redis_url, fault, env={"SLACK_TIMEOUT_SECONDS": "1"}
    )
    assert_clean(report)
    assert stalled >= 40
    assert report.worst_committed < 1.0, report.line()
