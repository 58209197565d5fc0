"""Pacing (scripts.PACE, issue #14): senders told to wait get turns a token apart, so a
backlog for one channel comes back one at a time instead of all at once every second."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import FakeClock
from bot.slack.slackout import Pacing, SlackOut, Wait
from bot.store.outbox import Outbox
from tests.conftest import ist

DEST = "chat.postMessage:#investor-kpis"


async def _try(out: SlackOut) -> float:
    """0 when a token was taken, else the wait Slack's pace asks for, in seconds."""
    try:
        await out.pace(DEST, DEST, rate=1.0, burst=2)
    except Wait as wait:
        return wait.seconds
    return 0.0


async def test_senders_told_to_wait_get_turns_a_token_apart(store_redis: Redis) -> None:
    clock = FakeClock(ist("2025-09-03 12:00"))
    out = SlackOut(
        AsyncWebClient(token="xoxb-x"), store_redis, Outbox(store_redis), clock, Pacing()
    )
    # The burst, then one turn per second for each sender that has to wait.
    assert [await _try(out) for _ in range(6)] == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    # Back at its turn, the first waiting sender finds its token; the next turn is still the
    # one after the last handed out.
    clock.advance(timedelta(seconds=1))
    assert await _try(out) == 0.0
    assert await _try(out) == 4.0


async def test_once_the_backlog_is_gone_a_wait_is_the_time_to_the_next_token(
    store_redis: Redis,
) -> None:
    clock = FakeClock(ist("2025-09-03 12:00"))
    out = SlackOut(
        AsyncWebClient(token="xoxb-x"), store_redis, Outbox(store_redis), clock, Pacing()
    )
    assert [await _try(out) for _ in range(3)] == [0.0, 0.0, 1.0]
    clock.advance(timedelta(seconds=10))  # long past every turn handed out; the bucket refilled
    assert [await _try(out) for _ in range(3)] == [0.0, 0.0, 1.0]
