"""The delivery engine's guarantees, through the real app and the fake Slack: sent once when
Slack's answer is lost, Retry-After held by nobody, pacing per channel, coalesced updates,
folded DMs, answers that never wait on Slack."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.fakeslack import Call, FakeSlack
from bot.devtools.harness import Harness
from tests.conftest import ROOT
from tests.e2e.paging_helpers import IDS, dms, page_posts

PAGE = "growth-agg sev1 DAU table is 2 h late"


def _posts(slack: FakeSlack) -> list[Call]:
    return slack.of("chat.postMessage")


def _notice_ids(slack: FakeSlack) -> list[str]:
    out = []
    for c in _posts(slack):
        meta: Any = c.args.get("metadata") or {}
        out.append(str((meta.get("event_payload") or {}).get("id")))
    return out


@pytest.fixture
async def impatient(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[Harness]:
    """A bot whose Web API client gives up after 1 s."""
    h = await Harness(
        redis, clock, config, {"runbooks_dir": ROOT / "no-runbooks", "slack_timeout": 1}
    ).start()
    yield h
    await h.stop()


async def test_a_post_slack_took_but_answered_too_late_is_not_posted_again(
    impatient: Harness, clock: FakeClock
) -> None:
    h = impatient
    # Slack stores the page post and the DM, then answers after the client gave up.
    h.slack.stall("chat.postMessage", 2.0, times=2)
    await h.command("/page", PAGE, IDS["AM"])
    assert len(_posts(h.slack)) == 2
    assert h.deps is not None and await h.deps.outbox.pending() == 2  # outcome unknown
    clock.advance(timedelta(seconds=2))
    await h.run_jobs()  # the retry looks in the channel first, and finds them
    assert await h.deps.outbox.pending() == 0
    ids = _notice_ids(h.slack)
    assert len(ids) == len(set(ids))  # nothing posted twice (the rest are reminders)
    assert len(page_posts(h)) == 1 and [w for w, _ in dms(h)] == ["PR"]
    assert h.slack.of("conversations.history")  # it did look
    # And the page is known to the bot: the next step threads under it.
    clock.advance(timedelta(minutes=10))
    await h.run_jobs()
    assert [c for c in _posts(h.slack) if c.args.get("thread_ts")]


async def test_retry_after_longer_than_a_lease_yields_one_message(
    shared_redis: tuple[Redis, Redis], clock: FakeClock, config: TeamConfig
) -> None:
    slack = FakeSlack()
    extra = {"runbooks_dir": ROOT / "no-runbooks"}
    one = await Harness(shared_redis[0], clock, config, extra, slack=slack).start()
    two = await Harness(shared_redis[1], clock, config, extra, slack=slack).start()
    try:
        channel = config.pipeline("growth-agg").channel
        slack.fail("chat.postMessage", 429, times=1, retry_after=65, channel=channel)
        one.autodeliver = False
        await one.command("/page", PAGE, IDS["AM"])
        # Both replicas keep delivering while the clock passes the old 60 s lease and more.
        for _ in range(15):
            await asyncio.gather(one.deliver(), two.deliver())
            clock.advance(timedelta(seconds=5))
        await asyncio.gather(one.deliver(), two.deliver())
    finally:
        await one.stop()
        await two.stop()
        await slack.stop()
    posts = [c for c in slack.of("chat.postMessage") if c.args.get("channel") == channel]
    assert len(posts) == 1
    assert len([c for c in slack.failed_calls if c.method == "chat.postMessage"]) == 1


async def test_retry_after_on_one_channel_holds_nothing_else(harness: Harness) -> None:
    channel = harness.deps.config.pipeline("growth-agg").channel if harness.deps else ""
    harness.slack.fail("chat.postMessage", 429, times=1, retry_after=65, channel=channel)
    started = time.monotonic()
    await harness.command("/page", PAGE, IDS["AM"])
    assert time.monotonic() - started < 1.0  # nobody slept through Retry-After
    assert [w for w, _ in dms(harness)] == ["PR"]  # other channels are unaffected
    await harness.command("/page", "profit-unit sev2 features stale", IDS["AM"])
    other = harness.deps.config.pipeline("profit-unit").channel if harness.deps else ""
    assert other != channel
    assert any(c.args.get("channel") == other for c in harness.slack.of("chat.postMessage"))


@pytest.fixture
async def paced(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[Harness]:
    h = await Harness(
        redis,
        clock,
        config,
        {
            "runbooks_dir": ROOT / "no-runbooks",
            "slack_post_rate": 1.0,
            "slack_post_burst": 4,
            "slack_update_every": 3.0,
            "slack_update_rate": 0.8,
        },
    ).start()
    yield h
    await h.stop()


def _alert(n: int) -> dict[str, object]:
    return {
        "pipeline": ["growth-agg", "profit-agg", "engagement-agg"][n % 3],
        "signal": "freshness",
        "summary": f"late {n}",
        "dedupe_key": f"k{n}",
    }


async def test_a_channel_gets_a_burst_then_one_post_a_second(
    paced: Harness, clock: FakeClock
) -> None:
    await paced.alert([_alert(n) for n in range(10)])
    await paced.run_jobs()
    per_channel = collections.Counter(c.args["channel"] for c in page_posts(paced))
    assert max(per_channel.values()) <= 4  # the burst, then the pace
    for _ in range(10):
        clock.advance(timedelta(seconds=1))
        await paced.run_jobs()
    assert len(page_posts(paced)) == 10  # nothing lost, all posted in time


async def test_pages_for_one_person_due_together_fold_into_one_dm(
    paced: Harness, clock: FakeClock
) -> None:
    await paced.alert([_alert(n) for n in range(12)])
    await paced.run_jobs()
    for _ in range(5):
        clock.advance(timedelta(seconds=1))
        await paced.run_jobs()
    paged = dms(paced)
    assert {w for w, _ in paged} == {"PR"}
    assert len(paged) <= 5  # not twelve DMs behind the pace
    text = "\n".join(t for _, t in paged)
    for n in range(1, 13):
        assert text.count(f"Page INC-{n} ") == 1
    folded = [c for c in paced.slack.of("chat.postMessage") if "You are paged for" in str(c)]
    assert folded and all(
        len([b for b in c.args["blocks"] if b["type"] == "actions"]) >= 2 for c in folded
    )


async def test_updates_of_one_message_coalesce(paced: Harness, clock: FakeClock) -> None:
    await paced.alert(_alert(1))
    await paced.run_jobs()
    for _ in range(30):  # 30 more alerts join the incident within a few seconds
        await paced.alert(_alert(1))
        clock.advance(timedelta(seconds=0.1))
        await paced.run_jobs()
    clock.advance(timedelta(seconds=3))
    await paced.run_jobs()
    updates = paced.slack.of("chat.update")
    assert 1 <= len(updates) <= 3
    assert "*Alerts joined:* 31" in str(updates[-1].args["blocks"])  # the latest state


async def test_without_history_scopes_an_unanswered_post_is_sent_again_not_lost(
    impatient: Harness, clock: FakeClock
) -> None:
    h = impatient
    h.slack.refuse("conversations.history", "missing_scope", times=10)
    h.slack.stall("chat.postMessage", 2.0, times=2)
    await h.command("/page", PAGE, IDS["AM"])
    clock.advance(timedelta(seconds=2))
    await h.run_jobs()
    assert h.deps is not None and await h.deps.outbox.pending() == 0
    assert len(page_posts(h)) == 2  # the documented cost of a missing scope
