"""The Web API calls delivery makes, each paced and, for posts, sent once.

- **Paced**: every post takes a token from its destination's bucket in Redis (shared by all
  replicas), so a channel never gets more than Slack's ~1 message/s beyond a short burst;
  without a token the caller is told how long to wait (`Wait`), and the notice goes back to
  the queue for that long, holding no worker.
- **Retry-After** from Slack blocks that method on that channel (and nothing else) until it
  passes, again without holding a worker (`Wait`).
- **Sent once**: each post carries its notice id in message `metadata`. Before the first
  send, an in-flight marker is written; if a send's outcome is unknown (timeout, connection
  reset, crash), the marker is still there on the retry, which first looks for a message
  with that id in the channel or thread since the marker, and posts only if none is there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.store import keys, scripts
from bot.store.outbox import Outbox

log = logging.getLogger(__name__)
EVENT_TYPE = "oncall_notice"
# How many pages of history (200 messages each) a sent-once check reads at most.
FIND_PAGES = 10


@dataclass(frozen=True)
class Pacing:
    post_rate: float = 1.0  # posts per second per channel (0: unpaced)
    post_burst: int = 4
    update_every: float = 3.0  # seconds between chat.update calls on one message (0: none)
    # All edits share this bucket when set (chat.update is Tier 3, about 50 a minute).
    update_rate: float = 0.0
    update_burst: int = 10


class Wait(Exception):
    """Come back later: a pace token or a Retry-After is `seconds` away."""

    def __init__(self, seconds: float, why: str) -> None:
        super().__init__(f"wait {seconds:.1f} s: {why}")
        self.seconds = seconds


class SlackOut:
    def __init__(
        self,
        client: AsyncWebClient,
        redis: Redis,
        outbox: Outbox,
        clock: Clock,
        pacing: Pacing,
    ) -> None:
        self.client = client
        self.redis = redis
        self.outbox = outbox
        self.clock = clock
        self.pacing = pacing
        self._pace = redis.register_script(scripts.PACE)
        self._dm_channels: dict[str, str] = {}

    # --- pacing --------------------------------------------------------------------------

    async def pace(
        self, bucket: str, block: str, rate: float, burst: int, reserve: int = 0
    ) -> None:
        """Take a token for `bucket`, or raise Wait."""
        if rate <= 0:
            rate, burst, reserve = 1e9, 10**9, 0  # unpaced; a Retry-After block still applies
        now_ms = int(self.clock.now().timestamp() * 1000)
        wait_ms = int(
            await self._pace(
                keys=[keys.pace(bucket), keys.pace_block(block)],
                args=[now_ms, rate, burst, min(reserve, burst - 1)],
            )
        )
        if wait_ms > 0:
            raise Wait(wait_ms / 1000, f"{bucket} is paced")

    async def pace_post(self, channel: str, urgent: bool) -> None:
        dest = f"chat.postMessage:{channel}"
        reserve = 0 if urgent else self.pacing.post_burst // 2
        await self.pace(dest, dest, self.pacing.post_rate, self.pacing.post_burst, reserve)

    async def pace_update(self, channel: str, ts: str) -> None:
        every = self.pacing.update_every
        await self.pace(
            f"chat.update:{channel}:{ts}", f"chat.update:{channel}", 1 / every if every else 0, 1
        )
        await self.pace(
            "chat.update",
            f"chat.update:{channel}",
            self.pacing.update_rate,
            self.pacing.update_burst,
        )

    async def blocked(self, method: str, channel: str, exc: SlackApiError) -> Wait:
        """Turn a 429 into a block of that method on that channel, and a Wait."""
        raw = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        seconds = float(raw) if raw and str(raw).replace(".", "", 1).isdecimal() else 30.0
        until = self.clock.now() + timedelta(seconds=seconds)
        await self.redis.set(
            keys.pace_block(f"{method}:{channel}"),
            int(until.timestamp() * 1000),
            px=int(seconds * 1000) + 60_000,
        )
        log.warning("Slack rate-limited %s on %s: waiting %.0f s", method, channel, seconds)
        return Wait(seconds, f"Retry-After on {method} {channel}")

    # --- sent once -----------------------------------------------------------------------

    async def post_once(
        self,
        marker: str,
        channel: str,
        thread_ts: str | None = None,
        also: list[str] | None = None,
        urgent: bool = False,
        **kw: Any,
    ) -> tuple[str, str]:
        """chat.postMessage at most once for `marker` (and the notices in `also` folded into
        the same message: the caller leaves out any `already_posted` found); (channel id,
        ts). An `urgent` post (a page) may use the tokens a channel keeps in reserve.

        The in-flight mark stays after a successful send: the outbox clears it when it
        records the notice as delivered (or the caller, for one part of a multi-message
        post), so a crash in between still finds the message instead of posting again."""
        await self.pace_post(channel, urgent)
        marks = [marker, *(also or [])]
        found = await self.already_posted([marker], channel, thread_ts)
        if marker in found:
            log.info("notice %s was already posted (ts %s): not posting again", marker, found)
            return channel, found[marker]
        fresh = await self.outbox.mark_inflight(marks, self.clock.now())
        meta = {"event_type": EVENT_TYPE, "event_payload": {"id": marker, "ids": marks}}
        try:
            resp = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, metadata=meta, **kw
            )
        except SlackApiError as exc:
            # Slack answered, so this attempt posted nothing; marks left by an earlier
            # attempt of unknown outcome stay.
            await self.outbox.clear_inflight(fresh)
            if exc.response.status_code == 429:
                raise await self.blocked("chat.postMessage", channel, exc) from exc
            raise
        return str(resp["channel"]), str(resp["ts"])

    async def already_posted(
        self, ids: list[str], channel: str, thread_ts: str | None = None
    ) -> dict[str, str]:
        """Which of `ids` an earlier send of unknown outcome did post (id → ts): only ids
        with an in-flight mark are looked for, in the channel or thread since the first."""
        marked = await self.outbox.inflight_of(ids)
        if not marked:
            return {}
        try:
            return await self._find(set(marked), channel, thread_ts, min(marked.values()))
        except SlackApiError as exc:
            # Without the history scopes (or in a channel we cannot read) the check cannot
            # be made: posting again risks a duplicate, not posting would lose the message.
            log.warning("cannot look for notices %s (%s); posting", sorted(marked), exc)
            return {}

    async def _find(
        self, wanted: set[str], channel: str, thread_ts: str | None, since: float
    ) -> dict[str, str]:
        oldest = f"{since - 5:.6f}"  # a little slack for clocks
        found: dict[str, str] = {}
        cursor = None
        for _ in range(FIND_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": oldest,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                args["cursor"] = cursor
            if thread_ts:
                resp = await self.client.conversations_replies(ts=thread_ts, **args)
            else:
                resp = await self.client.conversations_history(**args)
            for msg in resp.get("messages") or []:
                payload = (msg.get("metadata") or {}).get("event_payload") or {}
                for nid in {payload.get("id"), *(payload.get("ids") or [])} & wanted:
                    found[str(nid)] = str(msg.get("ts"))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if found.keys() >= wanted or not (resp.get("has_more") and cursor):
                break
        return found

    # --- direct messages ---------------------------------------------------------------------

    async def dm_channel(self, slack_id: str) -> str:
        """The DM channel with a user: cached in memory and in Redis, so conversations.open
        is called once per person, not once per DM."""
        cached = self._dm_channels.get(slack_id)
        if cached:
            return cached
        stored = await self.redis.hget(keys.DM_CHANNELS, slack_id)
        if stored:
            self._dm_channels[slack_id] = str(stored)
            return str(stored)
        opened = await self.client.conversations_open(users=slack_id)
        channel = str(opened["channel"]["id"])
        await self.redis.hset(keys.DM_CHANNELS, slack_id, channel)
        self._dm_channels[slack_id] = channel
        return channel

    async def update(self, channel: str, ts: str, **kw: Any) -> None:
        """chat.update: idempotent (it draws current state), so no sent-once check."""
        await self.pace_update(channel, ts)
        try:
            await self.client.chat_update(channel=channel, ts=ts, **kw)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise await self.blocked("chat.update", channel, exc) from exc
            raise

    def now(self) -> datetime:
        return self.clock.now()
