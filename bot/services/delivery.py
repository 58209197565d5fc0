"""Deliver queued notices to Slack. At-least-once per lease, idempotent where Slack allows:
a page message is posted once (its ts is stored), updates re-render the current state."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.incident import Status
from bot.slack.blocks.page import dm_message, fill, page_message
from bot.slack.dm import send_dm
from bot.store.incidents import IncidentStore, Stored
from bot.store.outbox import Outbox

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(seconds=5)  # first retry of a failed call; doubles up to 5 min
# A notice waiting for its page message: try again soon, but not at once, or the background
# loop (which wakes for due notices) would spin until the page message is posted.
NOT_READY_RETRY = timedelta(seconds=1)
MAX_ROUNDS = 20

# (incident, stored, channel, thread_ts) → checklist run id; None when checklists are off.
ChecklistOpener = Callable[[Stored, str, str], Awaitable[str]]
ProgressReader = Callable[[str], Awaitable[str | None]]


class NotReady(Exception):
    """The notice depends on one not yet delivered (the page message); try again shortly."""


class Delivery:
    def __init__(
        self,
        config: TeamConfig,
        store: IncidentStore,
        outbox: Outbox,
        clock: Clock,
        open_checklist: ChecklistOpener | None = None,
        progress: ProgressReader | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.open_checklist = open_checklist
        self.progress = progress

    async def deliver_due(self, client: AsyncWebClient) -> int:
        sent = 0
        for _ in range(MAX_ROUNDS):
            now = self.clock.now()
            held, batch = await self.outbox.claim(now)
            if not batch:
                break
            # Page messages first: thread replies and updates need their ts.
            batch.sort(key=lambda item: (item[1].get("kind") != "post_page", item[1]["id"]))
            progress = 0
            # An update re-renders the incident's current state, which already includes every
            # change whose update_page is in this batch: one chat.update per incident is enough
            # (1,000 alerts joining 5 incidents must not mean 1,000 rate-limited updates).
            rendered: set[str] = set()
            for member, notice in batch:
                folded = notice.get("kind") == "update_page"
                if folded and str(notice["incident"]) in rendered:
                    await self.outbox.done(member)
                    continue
                lease = await self.outbox.renew(member, held, self.clock.now())
                if lease is None:
                    continue  # our lease lapsed and another process owns it now
                try:
                    await self._deliver(client, notice, now)
                except NotReady:
                    await self.outbox.retry(member, now + NOT_READY_RETRY)
                    continue
                except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("delivering %s failed (%s); retrying", notice.get("kind"), exc)
                    await self._failed(member, notice, now)
                    continue
                except Exception:
                    # A notice naming a member or pipeline since removed from the config, a
                    # missing runbook...: log it, back off, never block the notices behind it.
                    log.exception("delivering %s raised; retrying", notice.get("kind"))
                    await self._failed(member, notice, now)
                    continue
                await self.outbox.done(member)
                if folded:
                    rendered.add(str(notice["incident"]))
                sent += 1
                progress += 1
            if not progress:
                break
        return sent

    async def _failed(self, member: str, notice: dict[str, Any], now: datetime) -> None:
        if await self.outbox.failed(member, now, RETRY_AFTER) is None:
            log.error(
                "gave up on %s for %s; parked in the dead-letter set",
                notice.get("kind"),
                notice.get("incident"),
            )

    async def _deliver(self, client: AsyncWebClient, notice: dict[str, Any], now: datetime) -> None:
        stored = await self.store.get(str(notice["incident"]))
        if stored is None:
            log.warning("notice for unknown incident %s dropped", notice["incident"])
            return
        kind = notice["kind"]
        if kind == "post_page":
            if stored.msg_ts:
                return  # already posted by an earlier, interrupted delivery
            resp = await client.chat_postMessage(
                channel=self.config.pipeline(stored.incident.pipeline).channel,
                **await self._render(stored, now),
            )
            await self.store.set_message(stored.incident.id, str(resp["channel"]), str(resp["ts"]))
            return
        if kind == "dm":
            if stored.incident.status is not Status.TRIGGERED:
                return  # queued before the ACK or resolve: the first ACK stops every page
            where = self.config.pipeline(stored.incident.pipeline).channel
            msg = dm_message(self.config, stored.incident, str(notice.get("text", "")), where)
            await send_dm(client, self.config, str(notice["member"]), msg["text"], msg["blocks"])
            return
        if not stored.msg_ts or not stored.msg_channel:
            raise NotReady
        if kind == "update_page":
            await client.chat_update(
                channel=stored.msg_channel, ts=stored.msg_ts, **await self._render(stored, now)
            )
        elif kind == "thread":
            text = fill(self.config, str(notice.get("text", "")))
            await client.chat_postMessage(
                channel=stored.msg_channel, thread_ts=stored.msg_ts, text=text
            )
        elif kind == "open_checklist" and self.open_checklist and not stored.checklist:
            run_id = await self.open_checklist(stored, stored.msg_channel, stored.msg_ts)
            await self.store.set_checklist(stored.incident.id, run_id)

    async def _render(self, stored: Stored, now: datetime) -> dict[str, Any]:
        progress = None
        if stored.checklist and self.progress:
            progress = await self.progress(stored.checklist)
        return page_message(
            self.config, stored.incident, now, stored.count, stored.last_value, progress
        )
