"""The delivery engine: a pool of concurrent workers draining the outbox into Slack.

Every Slack side effect of the bot leaves through here. A dispatcher claims due notices
(pages first, then messages, then updates) for as many workers as are free, each claim a
short lease that a renewer extends every few seconds while the notice is worked on, so a
crashed replica's notices are taken over within one lease and a live one's never are. Each
notice is one task: a slow Slack call, a pace wait or a Retry-After holds only that notice
(waits are not held at all: the notice goes back to the queue for that long). Escalation
never waits on any of this; it runs in its own loop (bot/runtime.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.notices import PageDM, ThreadReply
from bot.mail import MailError
from bot.metrics import Metrics
from bot.services.checklists import ChecklistService
from bot.services.home import HomeService
from bot.services.notice_tasks import NoticeTasks
from bot.services.paging import PagingService
from bot.services.presence import PresenceService
from bot.services.swaps import SwapService
from bot.slack.dm_turns import DmTurns
from bot.slack.not_ready import NotReady
from bot.slack.presence import PresenceSender
from bot.slack.senders import Senders, posts_for
from bot.slack.slackout import Pacing, SlackOut, Wait
from bot.store.outbox import Claimed, Outbox
from bot.waker import Waker

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=2)  # first retry of a failed call; doubles up to 5 min
# A notice whose page (or checklist, or request DM) is not posted yet: not a failure of its
# own, so not counted towards the dead-letter limit, and retried at a steady pace so it
# follows its page within seconds once Slack takes the page.
NOT_READY_DELAY = timedelta(seconds=2)
FOLD_LIMIT = 20  # page DMs folded into one message (each is two blocks of Slack's 50)
# Page DMs due this soon are folded into the one being sent: they would wait for the next
# pace token anyway, and go out a second later in a DM of their own.
FOLD_HORIZON = timedelta(seconds=1)
# How soon to look again at DMs another replica owns (it releases them within a Slack call).
OWNED_ELSEWHERE_POLL = 0.05
# Slack's answers that no retry will change: the notice is dropped, and logged.
PERMANENT = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "message_not_found",
        "cant_update_message",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "restricted_action",
    }
)


class DeliveryPool:
    def __init__(
        self,
        *,
        config: TeamConfig,
        client: AsyncWebClient,
        outbox: Outbox,
        clock: Clock,
        waker: Waker,
        paging: PagingService,
        checklists: ChecklistService,
        swaps: SwapService,
        workers: int,
        pacing: Pacing,
        poll_seconds: float = 1.0,
        tasks: NoticeTasks | None = None,
        metrics: Metrics | None = None,
        presence: PresenceService | None = None,
        home: HomeService | None = None,
    ) -> None:
        self.outbox = outbox
        self.metrics = metrics if metrics is not None else Metrics()
        self.clock = clock
        self.waker = waker
        self.workers = workers
        self.poll_seconds = poll_seconds
        out = SlackOut(client, outbox.redis, outbox, clock, pacing)
        self.senders = Senders(config, out, paging, checklists, swaps, tasks)
        if presence is not None:
            self.senders.presence = PresenceSender(client, presence)
        self.senders.home = home
        self.held: dict[str, Claimed] = {}
        # Posts being made in this process, by what they post (see posts_for): a notice that
        # needs one (a thread reply needs its page) waits for it here rather than retrying.
        self.posting: dict[str, asyncio.Event] = {}
        # Renewing leases and releasing a notice (done, later, failed) must not interleave:
        # a release carrying the lease score from before a renewal would be refused.
        self._leases = asyncio.Lock()
        # One person's page DMs go out one batch at a time, oldest first, so a newer page
        # never takes the pace token from an older one and pages due together fold.
        self._dm_locks: dict[str, asyncio.Lock] = {}
        # Page DMs waiting for the pace of their person's DM channel, by turn.
        rate = pacing.post_rate
        every = timedelta(seconds=1 / rate) if rate > 0 else timedelta(0)
        self._dm_turns = DmTurns(every, FOLD_LIMIT)
        # Fold groups this replica owns (see Outbox.claim), with how many batches use each.
        self._owned: dict[str, int] = {}
        self.sent = 0

    # --- running ------------------------------------------------------------------------

    async def run_forever(self) -> None:
        renewer = asyncio.create_task(self._renew_forever(), name="outbox-renewer")
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                free = self.workers - len(tasks)
                claimed: list[Claimed] = []
                if free > 0:
                    claimed = await self.outbox.claim(self.clock.now(), free)
                self._announce(claimed)
                for batch in self.batches(claimed):
                    task = asyncio.create_task(self.handle(batch))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if claimed and len(claimed) == free:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                if claimed:
                    continue  # fewer were due than workers were free: look again at once
                if self.outbox.passed_over:
                    await self.waker.wait(OWNED_ELSEWHERE_POLL, name="delivery")
                    continue
                await self.waker.wait(await self._idle_seconds(), name="delivery")
        finally:
            renewer.cancel()
            for task in tasks:
                task.cancel()

    async def drain(self) -> int:
        """Deliver everything due now, concurrently, and return; for tests and the console,
        which move a fake clock instead of waiting."""
        before = self.sent
        for _ in range(1000):
            claimed = await self.outbox.claim(self.clock.now(), self.workers)
            if not claimed:
                break
            self._announce(claimed)
            await asyncio.gather(*(self.handle(b) for b in self.batches(claimed)))
        return self.sent - before

    def _announce(self, claimed: list[Claimed]) -> None:
        for c in claimed:
            key = posts_for(c.notice)
            if key is not None:
                self.posting.setdefault(key, asyncio.Event())

    async def _idle_seconds(self) -> float:
        nxt = await self.outbox.next_due()
        if nxt is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, nxt - self.clock.now().timestamp()))

    async def _renew_forever(self) -> None:
        every = self.outbox.LEASE.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew()
            except Exception:
                log.warning("could not renew outbox leases", exc_info=True)

    async def renew(self) -> None:
        async with self._leases:
            held = list(self.held.values())
            if not held:
                return
            now = self.clock.now()
            kept = await self.outbox.renew(held, now)
            await self.outbox.keep(list(self._owned))
            until = (now + self.outbox.LEASE).timestamp()
            for c in held:
                if c.id in kept:
                    self.held[c.id] = Claimed(c.lane, c.id, c.notice, c.raw, c.generation, until)
                else:
                    log.warning("lost the lease on notice %s (another replica may send it)", c.id)
                    self.held.pop(c.id, None)

    # --- one notice -----------------------------------------------------------------------

    @staticmethod
    def batches(claimed: list[Claimed]) -> list[list[Claimed]]:
        """One batch per notice, except that page DMs for the same person claimed together
        form one batch (they go out as one DM, not one each behind the pace), and so do the
        replies in one thread (sent in order)."""
        out: list[list[Claimed]] = []
        groups: dict[str, list[Claimed]] = {}
        for c in claimed:
            group = c.notice.fold_group if c.notice is not None else None
            if group is None:
                out.append([c])
            elif group in groups:
                if len(groups[group]) < FOLD_LIMIT:
                    groups[group].append(c)
                else:
                    out.append([c])
            else:
                groups[group] = [c]
                out.append(groups[group])
        return out

    async def handle(self, batch: list[Claimed]) -> None:
        claimed = batch[0]
        group = list(batch)
        for c in group:
            self.held[c.id] = c
        try:
            notice = claimed.notice
            if notice is None:
                log.error("notice %s no longer parses; parking it", claimed.id)
                await self.outbox.failed(claimed, self.clock.now(), RETRY_BASE)
                return
            if isinstance(notice, ThreadReply):
                for c in sorted(group, key=lambda c: c.id):
                    await self._send([c], c.notice, [])
                return
            if not isinstance(notice, PageDM):
                await self._send(group, notice, [])
                return
            owned = f"dm:{notice.member}"
            self._owned[owned] = self._owned.get(owned, 0) + 1
            lock = self._dm_locks.setdefault(notice.member, asyncio.Lock())
            try:
                await self._page_dms(lock, group, notice, claimed)
            finally:
                self._owned[owned] -= 1
                if not self._owned[owned]:
                    del self._owned[owned]
                    with contextlib.suppress(Exception):  # it expires with the lease anyway
                        await self.outbox.release(owned)
        finally:
            for c in group:
                self.held.pop(c.id, None)
            key = posts_for(claimed.notice)
            if key is not None and key in self.posting:
                self.posting.pop(key).set()

    async def _page_dms(
        self, lock: asyncio.Lock, group: list[Claimed], notice: PageDM, claimed: Claimed
    ) -> None:
        """Send a person's page DMs, with any others of theirs due within FOLD_HORIZON."""
        async with lock:
            ids, now = [c.id for c in group], self.clock.now()
            if not self._dm_turns.due(notice.member, ids, now):
                at = self._dm_turns.place(notice.member, ids, now)
                if at is not None:
                    # Their DM channel waits for the pace: they go at a turn already known,
                    # without asking the pace again (bot/slack/dm_turns.py).
                    await self._later(group, at)
                    return
            folded = [c.notice for c in group[1:] if isinstance(c.notice, PageDM)]
            if len(group) < FOLD_LIMIT:
                peers = await self.outbox.claim_fold(
                    f"dm:{notice.member}",
                    self.clock.now(),
                    FOLD_LIMIT - len(group),
                    claimed.id,
                    FOLD_HORIZON,
                )
                for p in peers:
                    self.held[p.id] = p
                    if isinstance(p.notice, PageDM):
                        folded.append(p.notice)
                group += peers  # extends the caller's list: it lets go of them after
            await self._send(group, notice, folded)

    async def _send(self, group: list[Claimed], notice: object, folded: list[PageDM]) -> None:
        head = group[0]
        now = self.clock.now()
        kind = getattr(notice, "kind", "?")
        try:
            try:
                await self.senders.send(head.notice, folded)  # type: ignore[arg-type]
            except NotReady as missing:
                ev = self.posting.get(missing.on)
                if ev is None:
                    raise
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.outbox.LEASE.total_seconds() / 2):
                        await ev.wait()
                await self.senders.send(head.notice, folded)  # type: ignore[arg-type]
        except Wait as wait:
            at = now + timedelta(seconds=wait.seconds)
            await self._later(group, at)
            if head.notice is not None and isinstance(head.notice, PageDM):
                # Pages for this person waiting in the queue (claimed by nobody, or by
                # another replica later) go at the same moment, to be folded into one DM.
                # They are spread over the pace's turns, a DM's worth to each, and this
                # replica places the person's next batches after them (bot/slack/dm_turns.py).
                member = head.notice.member
                room = max(0, FOLD_LIMIT - len(group))
                gathered = await self.outbox.gather_fold(
                    f"dm:{member}", at, self._dm_turns.every, FOLD_LIMIT, room
                )
                self._dm_turns.paced(member, at, [c.id for c in group], gathered)
            return
        except NotReady:
            await self._later(group, now + NOT_READY_DELAY)
            return
        except SlackApiError as exc:
            code = str(exc.response.get("error", ""))
            self.metrics.slack_error(_method(exc, kind), code or "unknown")
            if code in PERMANENT:
                log.warning("Slack refused %s %s (%s): dropped", kind, head.id, code)
                await self._done(group)
                return
            log.warning("delivering %s %s failed (%s); retrying", kind, head.id, code)
            await self._failed(group, now)
            return
        except (SlackClientError, aiohttp.ClientError, TimeoutError, MailError) as exc:
            # The outcome is unknown: Slack may have posted. The retry looks before posting.
            log.warning("delivering %s %s: %r; retrying", kind, head.id, exc)
            if not isinstance(exc, MailError):
                self.metrics.slack_error(kind, type(exc).__name__)
            await self._failed(group, now)
            return
        except Exception:
            # A notice naming a member or pipeline since removed from the config, a bug...:
            # log it, back off, never block the notices behind it.
            log.exception("delivering %s %s raised; retrying", kind, head.id)
            await self._failed(group, now)
            return
        await self._done(group)
        self.sent += 1

    async def _done(self, group: list[Claimed]) -> None:
        now = self.clock.now()
        for c in group:
            if isinstance(c.notice, PageDM):
                self._dm_turns.sent(c.notice.member, [c.id])
        async with self._leases:
            for c in group:
                if not await self.outbox.done(self.held.pop(c.id, c), now):
                    self.waker.wake()  # changed while drawn: it is due again at once

    async def _failed(self, group: list[Claimed], now: datetime) -> None:
        async with self._leases:
            for c in group:
                c = self.held.pop(c.id, c)
                if await self.outbox.failed(c, now, RETRY_BASE) is None:
                    log.error("gave up on notice %s after repeated failures (dead letter)", c.id)

    async def _later(self, group: list[Claimed], at: datetime) -> None:
        async with self._leases:
            await self.outbox.move([self.held.pop(c.id, c) for c in group], at)


def _method(exc: SlackApiError, fallback: str) -> str:
    """The Web API method of a failed call (`chat.postMessage`), from its response's URL."""
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or fallback
