"""Fault suite: three `oncall-bot serve` processes, one real Redis, one fake Slack, and
300 incidents (opened 5 at a time every 0.25 s over 15 s, across the three investor
pipelines) escalating to their final page while something goes wrong.

Each scenario asserts the README's guarantees ("Delivery and storage"): every page DM,
page post and thread reply arrives (zero missed), nothing arrives twice (zero duplicated:
no notice id posted twice, no DM line twice), and rungs fire on time whatever Slack does.
It prints one summary line (run pytest with -s to see it); on failure every problem found
is written to `<tmp_path>/<scenario>-problems.txt`, beside the bots' logs.

Escalation, per incident (tests/faults/helpers.py `fast_config`): Primary at once, Backup
after 2 s, then Incident Commander (or, when the secondary owner is already on the ladder,
both free engineers as Lead) and Lead 1 s apart, and a final page to all four engineers
1 s later: 8 page DMs and 4 thread replies (3 without a commander rung). Rung lateness is
measured from Redis, not from Slack: each rung is due a delay after the previous one fired
(the incident's `paged[].at` and `stepped_at`), and a watcher thread notes when each new
version of the incident (one per rung) lands.

Needs a real Redis (REDIS_URL, as CI sets it); that database is flushed. The whole suite
takes about 3 minutes on a 2-core machine.
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
    client: Redis = Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    await client.flushdb()
    await client.aclose()
    yield REDIS_URL


async def test_sigkill_mid_escalation_and_mid_delivery(tmp_path: Path, redis_url: str) -> None:
    """One replica killed while rungs fall due, another while Slack answers slowly and its
    workers hold leased notices with sends in flight; the first comes back. Rungs a dead
    replica had claimed fire when the 3 s claim lapses; its notices are taken over when the
    10 s lease lapses, and a send whose answer it never saw is looked for before posting."""

    held: set[str] = set()

    async def fault(fleet: Fleet) -> None:
        nonlocal held
        await fleet.at(5.0)  # ~70 rungs fall due every second
        escalating, delivering = fleet.bots[0], fleet.bots[1]
        held = await fleet.kill_holding_rungs(escalating)
        await asyncio.sleep(1.0)
        fleet.slack.slow(0.2)
        await asyncio.sleep(0.5)  # its workers are waiting on Slack
        await asyncio.to_thread(delivering.kill)
        fleet.note(f"SIGKILL {delivering.name} (Slack slowed to 0.2 s)")
        await asyncio.sleep(0.5)
        fleet.slack.slow(0.0)
        await asyncio.sleep(1.0)
        restarted = fleet.spawn()
        await restarted.ready(fleet.session)
        fleet.note(f"{restarted.name} started")

    report = await run_scenario("sigkill", tmp_path, redis_url, fault)
    print(
        f"[faults] sigkill: {len(held)} rungs held by the killed replica, "
        f"worst of them {report.worst_of(held):.2f} s late",
        flush=True,
    )
    assert_clean(report)
    assert report.worst_of(held) < 6.0, report.line()
    assert report.worst_committed < 6.0, report.line()


async def test_redis_restart_mid_escalation(tmp_path: Path, redis_url: str) -> None:
    """A private redis-server (AOF, everysec) is shut down cleanly for 2 s while rungs fall
    due and notices are being delivered, then started again on the same port and directory."""
    server = RedisServer(tmp_path / "redis")
    server.start()

    async def fault(fleet: Fleet) -> None:
        await fleet.at(6.0)
        await asyncio.to_thread(server.stop)
        fleet.note("redis-server stopped (SIGTERM)")
        await fleet.at(8.0)
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
