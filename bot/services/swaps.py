"""Swaps and PTO as the app sees them: the pure rules, the Redis store and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import Conflict, Pto, conflict_note, conflicts
from bot.domain.schedule import Override, Segment, segments
from bot.domain.swaps import (
    Swap,
    SwapError,
    SwapStatus,
    Window,
    due_to_expire,
    overrides,
    validate_request,
)
from bot.store.swaps import SwapStore, TransitionRefused

# How far ahead the reminder job looks: the longest reminder lead plus a margin.
REMINDER_HORIZON = timedelta(days=8)


class SwapService:
    def __init__(
        self, config: TeamConfig, calendar: HolidayCalendar, store: SwapStore, clock: Clock
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.store = store
        self.clock = clock

    async def request(
        self,
        requester: str,
        counterpart: str,
        window: Window,
        back: Window | None = None,
        note: str = "",
        role: str | None = None,
    ) -> Swap:
        now = self.clock.now()
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
        return await self.store.create(swap)

    async def approve(self, swap_id: int, actor: str) -> Swap:
        return await self._decide(swap_id, actor, SwapStatus.APPROVED)

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

        return await self.store.transition(swap_id, to, actor, now, check)

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

        done = await self.store.transition(swap_id, SwapStatus.CANCELLED, actor, now, check)
        # The last check ran inside the transaction that succeeded.
        return done, seen[-1] is SwapStatus.APPROVED

    async def expire_due(self) -> list[Swap]:
        """Expire pending requests whose window has started; returns those this process
        expired (another replica may win some), so each requester is told once."""
        now = self.clock.now()
        out = []
        for swap in due_to_expire(await self.store.pending_started(now), now):

            def check(current: Swap) -> None:
                if current.status is not SwapStatus.PENDING:
                    raise TransitionRefused("already decided", current)

            try:
                out.append(
                    await self.store.transition(swap.id, SwapStatus.EXPIRED, "bot", now, check)
                )
            except SwapError:
                continue
        return out

    async def overrides(self, start: datetime, end: datetime) -> list[Override]:
        """The OverrideSource for ScheduleService."""
        return [o for s in await self.store.approved_between(start, end) for o in overrides(s)]

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
        """The FlagSource for ScheduleService: a line per unswapped PTO/holiday conflict."""
        return [
            (c.start, conflict_note(c, self.config.zone)) for c in await self.conflicts(start, end)
        ]

    async def add_pto(self, member: str, window: Window) -> Pto:
        now = self.clock.now()
        if window.end <= now:
            raise SwapError("That leave is already over: give a window that ends in the future.")
        return await self.store.add_pto(member, window.start, window.end, now)

    async def ptos_of(self, member: str) -> list[Pto]:
        return [p for p in await self.store.ptos_after(self.clock.now()) if p.member == member]

    async def listing(self) -> tuple[list[Swap], list[Swap]]:
        """(pending, approved and not yet over), each in start order."""
        now = self.clock.now()
        pending = sorted(await self.store.pending(), key=lambda s: (s.first_start, s.id))
        upcoming = sorted(await self.store.approved_after(now), key=lambda s: (s.first_start, s.id))
        return pending, upcoming
