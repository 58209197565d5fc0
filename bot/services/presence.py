"""The schedule where people already look (issue #11): `@data-oncall`, `@data-oncall-primary`,
the team channel's topic, and shift notices.

The background job calls `queue_due` every few seconds. When the on-call stretch differs
from the one last queued for (a Monday handover, either side of a holiday exchange, a swap
starting, ending, approved or cancelled), one `PresenceSync` per target is queued, recorded
and queued in one atomic step so replicas queue it once. Each sync then makes Slack match
the schedule *at delivery* (bot/slack/presence.py), so a retried or late one never restores
an older answer, and a repair (start-up, hourly) changes nothing where Slack is right.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.home import home_refreshes
from bot.domain.notices import MemberDM, Notice, PresenceSync
from bot.domain.presence import (
    LOOKAHEAD,
    Stretch,
    due_shift_notices,
    group_members,
    shift_notice_text,
    stretch_at,
    topic,
)
from bot.domain.schedule import BeforeRotation, Override
from bot.services.swaps import SwapService
from bot.store import keys
from bot.store.outbox import Outbox

log = logging.getLogger(__name__)

Target = str  # "oncall-group" | "primary-group" | "topic"
# A shift notice's claim outlives the notice window, so a replica that looks late never
# sends it again.
SHIFT_CLAIM_KEEP = timedelta(days=2)
# How often each replica checks Slack for hand edits of the groups and the topic.
REPAIR_EVERY = timedelta(hours=1)


class PresenceService:
    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        swaps: SwapService,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.swaps = swaps
        self.outbox = outbox
        self.clock = clock
        # When this process last queued a repair; None: not yet, so start-up repairs. Only
        # paces the reads, so it may live in memory: a restart repairs at once, as it should.
        self._repaired_at: datetime | None = None

    @property
    def targets(self) -> list[PresenceSync]:
        p = self.config.policy.presence
        out: list[PresenceSync] = []
        if p.oncall_group:
            out.append(PresenceSync(target="oncall-group"))
        if p.primary_group:
            out.append(PresenceSync(target="primary-group"))
        if p.topic:
            out.append(PresenceSync(target="topic"))
        return out

    async def _overrides(self, now: datetime) -> list[Override]:
        return await self.swaps.overrides(now - LOOKAHEAD, now + 2 * LOOKAHEAD)

    async def stretch(self, now: datetime) -> Stretch | None:
        """Who holds the roles at `now` and until when; None before the rotation starts."""
        try:
            return stretch_at(self.config, self.calendar, now, await self._overrides(now))
        except BeforeRotation:
            return None

    async def desired(self, target: Target, now: datetime) -> list[str] | str | None:
        """What Slack should show for `target` at `now`: a group's Slack ids or the topic."""
        stretch = await self.stretch(now)
        if stretch is None:
            return None
        if target == "topic":
            return topic(self.config, stretch)
        return group_members(self.config, stretch, primary_only=target == "primary-group")

    def handle(self, target: Target) -> str:
        p = self.config.policy.presence
        return p.primary_group if target == "primary-group" else p.oncall_group

    async def queue_due(self, now: datetime | None = None) -> int:
        """Queue the syncs a change of stretch owes, and the shift notices due now, each
        once across replicas. Returns how many notices this call queued."""
        now = now or self.clock.now()
        queued = 0
        if self._repaired_at is None or now - self._repaired_at >= REPAIR_EVERY:
            await self.repair(now)
        overrides = await self._overrides(now)
        try:
            stretch = stretch_at(self.config, self.calendar, now, overrides)
        except BeforeRotation:
            stretch = None
        if stretch is not None:
            state = f"{stretch.primary}|{stretch.backup}|{int(stretch.end.timestamp())}"
            # Every roster member's Home tab shows who is on call: redrawn with the rest.
            everyone = home_refreshes(self.config, (m.initials for m in self.config.members))
            notices: list[Notice] = [*self.targets, *everyone]
            if await self.outbox.enqueue_if_changed(keys.PRESENCE_STATE, state, notices, now):
                log.info("on-call changed (%s): syncing groups, topic and Home tabs", state)
                queued += len(notices)
        ahead = self.config.policy.presence.notice_ahead
        if ahead > timedelta(0):
            for due in due_shift_notices(self.config, self.calendar, now, overrides, ahead):
                dm: Notice = MemberDM(
                    member=due.shift.member,
                    about="shift",
                    text=shift_notice_text(self.config, due, now),
                )
                claim = keys.shift_notice(due.key)
                if await self.outbox.enqueue_once(claim, ahead + SHIFT_CLAIM_KEEP, [dm], now):
                    queued += 1
        return queued

    async def repair(self, now: datetime | None = None) -> None:
        """Queue a sync of every target whatever the recorded state: at start-up and hourly,
        so a group or topic someone edited by hand is put right (syncs coalesce)."""
        now = now or self.clock.now()
        if self.targets:
            await self.outbox.enqueue(self.targets, now)
        self._repaired_at = now
