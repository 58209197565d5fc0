"""Swaps and PTO as the app sees them: the pure rules, the Redis store and the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.home import home_refreshes
from bot.domain.notices import (
    ConflictReminder,
    HolidayNote,
    Notice,
    SwapAnnouncement,
    SwapOutcomeDM,
    SwapRequestDM,
    SwapRequestedDM,
    SwapRequestEdit,
)
from bot.domain.pto import (
    Conflict,
    Pto,
    check_cancel,
    conflict_note,
    conflicts,
    due_reminders,
    exchange_notes,
)
from bot.domain.schedule import Override, Segment, segments
from bot.domain.swaps import (
    Swap,
    SwapError,
    SwapStatus,
    TransitionRefused,
    Window,
    check_bounds,
    due_to_expire,
    overrides,
    roles_held,
    validate_request,
)
from bot.store import keys
from bot.store.swaps import SwapStore

# (when the schedule changes, now): lets open pages look again at their ladder then.
ScheduleChanged = Callable[[datetime, datetime], Awaitable[None]]

# How far ahead the reminder job looks: the longest reminder lead plus a margin.
REMINDER_HORIZON = timedelta(days=8)
NOTE_AHEAD = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)


def decision_notices(before: Swap, after: Swap) -> list[Notice]:
    """Who hears of a decided swap: the request DM is edited to show the decision; the other
    party is told; the team channel hears of every change to the schedule (an approval, or
    the cancellation of an approved swap)."""
    other = after.counterpart if after.status is SwapStatus.CANCELLED else after.requester
    out: list[Notice] = [SwapRequestEdit(swap=after.id), SwapOutcomeDM(swap=after.id, member=other)]
    was_approved = before.status is SwapStatus.APPROVED
    if after.status is SwapStatus.APPROVED or was_approved:
        out.append(SwapAnnouncement(swap=after.id, was_approved=was_approved))
    return out


class SwapService:
    def __init__(
        self, config: TeamConfig, calendar: HolidayCalendar, store: SwapStore, clock: Clock
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.store = store
        self.clock = clock
        # Set once paging exists (it reads this service's swaps, so it is built after it).
        self.on_schedule_change: ScheduleChanged | None = None

    def _decided(self, before: Swap, after: Swap) -> list[Notice]:
        """decision_notices, and both people's Home tabs, which listed it while pending."""
        people = [after.counterpart, after.requester]
        return [*decision_notices(before, after), *home_refreshes(self.config, people)]

    async def request(
        self,
        requester: str,
        counterpart: str,
        window: Window,
        back: Window | None = None,
        note: str = "",
        role: str | None = None,
        confirm_by_dm: bool = False,
    ) -> Swap:
        """Store a request and queue the DM asking the counterpart (and, from the form,
        which has no other place to answer, a confirmation DM to the requester)."""
        now = self.clock.now()
        for w in (window, back):
            if w is not None:
                check_bounds(self.config, w, now)
        draft = Swap(
            id=0,
            requester=requester,
            counterpart=counterpart,
            start=window.start,
            end=window.end,
            back_start=back.start if back else None,
            back_end=back.end if back else None,
            note=note.strip()[:500],
            created_at=now,
        )
        approved = await self.store.approved_after(min(w.start for w in draft.windows))
        validate_request(self.config, self.calendar, draft, now, approved, role)
        swap = draft.model_copy(update={"id": await self.store.next_id()})
        notices: list[Notice] = [SwapRequestDM(swap=swap.id)]
        # Both Home tabs list a pending request: the one asked, with its buttons.
        notices += home_refreshes(self.config, [counterpart, requester])
        if confirm_by_dm:
            notices.insert(0, SwapRequestedDM(swap=swap.id))
        return await self.store.create(swap, notices)

    async def approve(self, swap_id: int, actor: str) -> Swap:
        done = await self._decide(swap_id, actor, SwapStatus.APPROVED)
        await self._schedule_changed(done)
        return done

    async def decline(self, swap_id: int, actor: str) -> Swap:
        return await self._decide(swap_id, actor, SwapStatus.DECLINED)

    async def _decide(self, swap_id: int, actor: str, to: SwapStatus) -> Swap:
        now = self.clock.now()
        verb = "approve" if to is SwapStatus.APPROVED else "decline"

        def check(swap: Swap) -> None:
            if actor != swap.counterpart:
                raise TransitionRefused(
                    f"Only {swap.counterpart} can {verb} swap #{swap.id}: it asks them, not you.",
                    swap,
                )
            if swap.status is not SwapStatus.PENDING:
                raise TransitionRefused(f"Swap #{swap.id} is already {swap.status.value}.", swap)
            if swap.first_start <= now:
                raise TransitionRefused(
                    f"Swap #{swap.id} can no longer be answered: its window has started.", swap
                )

        return await self.store.transition(swap_id, to, actor, now, check, self._decided)

    async def cancel(self, swap_id: int, actor: str) -> tuple[Swap, bool]:
        """The cancelled swap, and whether it had been approved (then the team is told)."""
        now = self.clock.now()
        seen: list[SwapStatus] = []

        def check(swap: Swap) -> None:
            seen.append(swap.status)
            if actor != swap.requester:
                raise TransitionRefused(
                    f"Only {swap.requester}, who asked for swap #{swap.id}, can cancel it.", swap
                )
            if swap.status not in (SwapStatus.PENDING, SwapStatus.APPROVED):
                raise TransitionRefused(f"Swap #{swap.id} is already {swap.status.value}.", swap)
            if swap.first_start <= now:
                raise TransitionRefused(
                    f"Swap #{swap.id} has already started; ask {swap.counterpart} to swap back "
                    "with a new `/swap` instead.",
                    swap,
                )

        done = await self.store.transition(
            swap_id, SwapStatus.CANCELLED, actor, now, check, self._decided
        )
        # The last check ran inside the transaction that succeeded.
        was_approved = seen[-1] is SwapStatus.APPROVED
        if was_approved:
            await self._schedule_changed(done)
        return done, was_approved

    async def _schedule_changed(self, swap: Swap) -> None:
        """Open pages follow the schedule: have them look again when this swap changes it
        (from there each finds the swap's later edges in the schedule itself)."""
        if self.on_schedule_change is not None:
            await self.on_schedule_change(swap.first_start, self.clock.now())

    async def expire_due(self) -> list[Swap]:
        """Expire pending requests whose window has started; returns those this process
        expired (another replica may win some); each requester is told once, by the
        notices queued with the expiry."""
        now = self.clock.now()
        out = []
        for swap in due_to_expire(await self.store.pending_started(now), now):

            def check(current: Swap) -> None:
                if current.status is not SwapStatus.PENDING:
                    raise TransitionRefused("already decided", current)

            try:
                out.append(
                    await self.store.transition(
                        swap.id, SwapStatus.EXPIRED, "bot", now, check, self._decided
                    )
                )
            except SwapError:
                continue
        return out

    async def overrides(
        self, start: datetime, end: datetime, max_age: float = 0.0
    ) -> list[Override]:
        """The OverrideSource for ScheduleService (`max_age`: see SwapStore.approved_after)."""
        approved = await self.store.approved_between(start, end, max_age)
        return [o for s in approved for o in overrides(s)]

    async def segments_of(self, swap: Swap) -> list[Segment]:
        """The stretches of schedule that `swap` changes, for its announcement."""
        out: list[Segment] = []
        for w in swap.windows:
            ovs = await self.overrides(w.start, w.end)
            segs = segments(self.config, self.calendar, w.start, w.end, ovs)
            out += [s for s in segs if swap.id in s.swaps]
        return out

    async def conflicts(self, start: datetime, end: datetime) -> list[Conflict]:
        approved = await self.store.approved_between(start, end)
        ptos = await self.store.ptos_between(start, end)
        return conflicts(self.config, self.calendar, start, end, approved, ptos)

    async def flags(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """The FlagSource for ScheduleService: a line per unswapped PTO/holiday conflict
        still ahead (a day already past needs no swap any more)."""
        start = max(start, self.clock.now())
        if end <= start:
            return []
        return [
            (c.start, conflict_note(c, self.config.zone)) for c in await self.conflicts(start, end)
        ]

    async def add_pto(self, member: str, window: Window) -> Pto:
        return (await self.record_pto(member, window))[0]

    async def record_pto(self, member: str, window: Window) -> tuple[Pto, list[Pto]]:
        """The entry now holding `window`, and the member's earlier entries merged into it."""
        now = self.clock.now()
        if window.end <= now:
            raise SwapError("That leave is already over: give a window that ends in the future.")
        check_bounds(self.config, window, now, "Leave recorded at once")
        return await self.store.add_pto(member, window.start, window.end, now)

    async def cancel_pto(self, member: str, pto_id: int) -> Pto:
        now = self.clock.now()
        return await self.store.cancel_pto(
            pto_id, lambda pto: check_cancel(pto, pto_id, member, now)
        )

    async def ptos_of(self, member: str) -> list[Pto]:
        mine = [p for p in await self.store.ptos_after(self.clock.now()) if p.member == member]
        return sorted(mine, key=lambda p: p.start)

    async def pto_overview(self, member: str) -> list[tuple[Pto, list[Conflict]]]:
        """Each of `member`'s PTO not yet over, with the shifts they still hold during it."""
        now = self.clock.now()
        out = []
        for pto in await self.ptos_of(member):
            start = max(pto.start, now)
            clashes = [
                c
                for c in await self.conflicts(start, pto.end)
                if c.member == member and c.reason == "PTO"
            ]
            out.append((pto, clashes))
        return out

    async def pto_during(self, member: str, window: Window) -> list[Pto]:
        """`member`'s PTO overlapping `window`: what a swap request asking them warns of."""
        ptos = await self.store.ptos_between(window.start, window.end)
        return sorted((p for p in ptos if p.member == member), key=lambda p: p.start)

    async def request_context(self, swap: Swap) -> tuple[list[str], list[str], list[Pto]]:
        """What a request's messages state beyond the swap itself: the roles the requester
        hands over in its window and, for an exchange, takes in return (as validated at
        request time: rotation and holidays), and the counterpart's PTO in the window."""

        def held(member: str, window: Window | None) -> list[str]:
            if window is None:
                return []
            roles = roles_held(self.config, self.calendar, member, window) or set()
            return sorted(roles, key=("Primary", "Backup").index)

        return (
            held(swap.requester, swap.window),
            held(swap.counterpart, swap.back),
            await self.pto_during(swap.counterpart, swap.window),
        )

    async def listing(self) -> tuple[list[Swap], list[Swap]]:
        """(pending, approved and not yet over), each in start order."""
        now = self.clock.now()
        pending = sorted(await self.store.pending(), key=lambda s: (s.first_start, s.id))
        upcoming = sorted(await self.store.approved_after(now), key=lambda s: (s.first_start, s.id))
        return pending, upcoming

    async def queue_reminders(self) -> int:
        """Queue a reminder for each PTO/holiday conflict at one of its reminder leads, once
        across replicas (the claim and the notice commit together). Returns how many."""
        now = self.clock.now()
        queued = 0
        for conflict in await self.conflicts(now, now + REMINDER_HORIZON):
            lead = due_reminders(conflict, now)
            if lead is None:
                continue
            key = keys.swap_reminder(
                conflict.member, int(conflict.start.timestamp()), conflict.reason, lead
            )
            ttl = conflict.end - now + timedelta(days=1)
            notice = ConflictReminder(conflict=conflict)
            if await self.store.outbox.enqueue_once(key, ttl, [notice], now):
                queued += 1
        # Critical holidays ahead: the two whose roles are exchanged hear of it once, a week
        # ahead (or when first seen inside that week).
        approved = await self.store.approved_between(now, now + NOTE_AHEAD)
        for note in exchange_notes(self.config, self.calendar, now, now + NOTE_AHEAD, approved):
            if note.start <= now:
                continue
            key = keys.holiday_note(note.member, int(note.start.timestamp()))
            ttl = note.end - now + timedelta(days=1)
            if await self.store.outbox.enqueue_once(key, ttl, [HolidayNote(note=note)], now):
                queued += 1
        return queued

    async def prune(self) -> None:
        if await self.store.claim(keys.SWAPS_PRUNED, PRUNE_EVERY):
            await self.store.prune(self.clock.now(), self.config.policy.retention)

    async def get(self, swap_id: int) -> Swap | None:
        return await self.store.get(swap_id)

    async def record_request_dm(self, swap_id: int, channel: str, ts: str) -> None:
        """Where the request DM went, so the decision can edit it in place."""
        await self.store.set_dm(swap_id, channel, ts)
