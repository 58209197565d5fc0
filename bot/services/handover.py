"""The Monday handover as the app sees it (issue #10; policy: "30-minute synchronous handoff
on Mondays 09:00–09:30 IST with review of open incidents, suppressions, and pending RCAs").

This service gathers what the digest reviews from the other services and builds it with
the pure `build_digest`; queues the digest (team channel and DMs) once per boundary across
replicas, late and saying so after an outage that spanned 09:00; records the two
Primaries' "Handover done"; and reminds, once, whoever of them has not confirmed.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.checklist import ChecklistNotFound
from bot.domain.handover import (
    REMIND_AFTER,
    HandoverDigest,
    HandoverError,
    boundary_at_or_before,
    build_digest,
    next_boundary,
    previous_boundary,
    reminder_at,
)
from bot.domain.handover_confirm import HandoverConfirmations, reminder_text
from bot.domain.notices import HandoverPost, MemberDM, Notice
from bot.domain.rca import Rca
from bot.domain.schedule import BeforeRotation
from bot.domain.timefmt import stamp
from bot.services.checklists import ChecklistService
from bot.services.paging import PagingService
from bot.services.rcas import RcaService
from bot.services.suppressions import SuppressionService
from bot.services.swaps import SwapService
from bot.store import keys
from bot.store.handover import HandoverStore, epoch

log = logging.getLogger(__name__)

# How long a boundary's digest, confirmations and claims are kept: a button pressed on a
# digest up to two weeks old still finds what it confirms, and a claim outlives any outage
# that could otherwise send the digest twice.
KEEP = timedelta(days=14)
# A closed incident opened shortly before last week began can still have paged inside it
# (an escalation runs a couple of hours at most); last_week_stats picks what falls inside.
LOOKBACK = timedelta(days=1)


class HandoverService:
    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        store: HandoverStore,
        clock: Clock,
        *,
        swaps: SwapService,
        paging: PagingService,
        checklists: ChecklistService,
        suppressions: SuppressionService,
        rcas: RcaService,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.store = store
        self.clock = clock
        self.swaps = swaps
        self.paging = paging
        self.checklists = checklists
        self.suppressions = suppressions
        self.rcas = rcas

    # --- the digest ------------------------------------------------------------------------

    async def build(self, boundary: datetime, at: datetime) -> HandoverDigest:
        """The digest for the handover at `boundary`, with every figure as of `at`."""
        cfg = self.config
        last_week = previous_boundary(boundary, cfg)
        week_end = next_boundary(boundary, cfg)
        open_now = await self.paging.open_incidents()
        progress: dict[str, tuple[int, int]] = {}
        for stored in open_now:
            if stored.checklist:
                # A run expires after the retention; its incident is listed without it.
                with contextlib.suppress(ChecklistNotFound):
                    progress[stored.incident.id] = await self.checklists.progress(stored.checklist)
        incidents = [s.incident for s in open_now]
        incidents += await self.store.incidents_since(last_week - LOOKBACK)
        # Open RCAs are pending; posted ones still matter for their overdue action items.
        rcas: dict[str, Rca] = {r.incident_id: r for r in await self.rcas.open_rcas()}
        for rca, _ in await self.rcas.actions():
            rcas.setdefault(rca.incident_id, rca)
        return build_digest(
            cfg,
            self.calendar,
            boundary,
            at,
            # Both weeks' swaps: they decide who hands over (outgoing) and to whom.
            overrides=await self.swaps.overrides(last_week, week_end),
            conflicts=await self.swaps.conflicts(boundary, week_end),
            incidents=incidents,
            checklists=progress,
            suppressions=await self.suppressions.handover(last_week),
            rcas=list(rcas.values()),
        )

    async def preview(self) -> HandoverDigest:
        """`/oncall handover`: the next handover's digest as it would read now."""
        now = self.clock.now()
        return await self.build(next_boundary(now, self.config), now)

    # --- the background job ----------------------------------------------------------------

    async def queue_due(self, now: datetime | None = None) -> int:
        """Queue what the handover owes now, each once across replicas however often this
        runs: the boundary's digest (channel post and DMs) once its time has come, and the
        reminder to confirm 30 minutes after the digest. Returns how many notices this call
        queued."""
        now = now or self.clock.now()
        cfg = self.config
        upcoming = next_boundary(now, cfg)
        await self.store.arm(epoch(upcoming), upcoming - now + KEEP)
        try:
            boundary = boundary_at_or_before(now, cfg)
        except BeforeRotation:
            return 0
        ep = epoch(boundary)
        if not await self.store.queued(ep):
            if not await self.store.armed(ep):
                return 0  # no replica saw this handover coming: nothing was missed
            return await self._queue_digest(boundary, now)
        if await self.store.reminded(ep):
            return 0
        return await self._queue_reminder(boundary, now)

    def _digest_notices(self, digest: HandoverDigest) -> list[Notice]:
        ep = float(epoch(digest.boundary))
        out: list[Notice] = [HandoverPost(boundary=ep, channel=self.config.policy.team_channel)]
        out += [HandoverPost(boundary=ep, member=m) for m in digest.recipients]
        return out

    async def _queue_digest(self, boundary: datetime, now: datetime) -> int:
        digest = await self.build(boundary, now)
        if not await self.store.save_digest(digest, KEEP):
            return 0  # another replica claimed it while this one was gathering
        notices = self._digest_notices(digest)
        key = keys.handover_sent(epoch(boundary))
        if not await self.store.outbox.enqueue_once(key, KEEP, notices, now):
            return 0
        log.info(
            "handover digest for %s queued%s", boundary.isoformat(), " late" if digest.late else ""
        )
        return len(notices)

    async def _queue_reminder(self, boundary: datetime, now: datetime) -> int:
        ep = epoch(boundary)
        digest = await self.store.digest(ep)
        if digest is None:
            return 0
        # A digest sent late gets the same half hour before anyone is reminded of it.
        if now < max(reminder_at(boundary), digest.sent_at + REMIND_AFTER):
            return 0
        confirmations = await self.store.confirmations(digest.boundary)
        missing = confirmations.missing(digest)
        notices: list[Notice] = [
            MemberDM(member=m, about="handover", text=reminder_text(digest, missing))
            for m in missing
        ]
        # Claimed even when nobody is missing, so later runs stop looking. A press landing
        # between the read above and this claim still gets the reminder: harmless.
        key = keys.handover_reminded(ep)
        if not await self.store.outbox.enqueue_once(key, KEEP, notices, now):
            return 0
        return len(notices)

    # --- confirmations ---------------------------------------------------------------------

    async def confirm(
        self, boundary_epoch: int, member: str
    ) -> tuple[HandoverDigest, HandoverConfirmations, bool]:
        """Record `member`'s "Handover done" for the boundary: (the digest, every
        confirmation, whether this press was the one recorded; False: they had confirmed
        before, and the first time stands). Raises HandoverError for anyone but the two
        Primaries, or when the digest is no longer kept."""
        now = self.clock.now()
        digest = await self.store.digest(boundary_epoch)
        if digest is None:
            raise HandoverError(
                f"That handover's digest is no longer kept (digests are kept "
                f"{KEEP.days} days), so there is nothing to confirm."
            )
        if member not in digest.confirmers:
            names = " and ".join(self._name(p) for p in digest.confirmers)
            raise HandoverError(
                f"Only the outgoing and incoming Primary ({names}) confirm the handover of "
                f"{stamp(digest.boundary, self.config.zone)}; nothing was recorded."
            )
        fresh, after = await self.store.confirm(digest.boundary, member, now, KEEP)
        return digest, after, fresh

    async def confirmations(self, boundary: datetime) -> HandoverConfirmations:
        return await self.store.confirmations(boundary)

    def _name(self, initials: str) -> str:
        try:
            return self.config.member(initials).name
        except KeyError:
            return initials
