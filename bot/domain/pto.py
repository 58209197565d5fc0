"""PTO and company holidays against the schedule: who is on call while off, and reminders.

Pure: the caller passes the approved swaps and recorded PTO it read from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.schedule import holiday_label, segments
from bot.domain.swaps import Swap, Window, describe_window, overrides

REMINDER_LEADS: tuple[tuple[str, timedelta], ...] = (
    ("7d", timedelta(days=7)),
    ("1d", timedelta(days=1)),
)


class Pto(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    member: str
    start: datetime
    end: datetime
    created_at: datetime


def merge_pto(
    existing: Sequence[Pto], member: str, start: datetime, end: datetime
) -> tuple[datetime, datetime, list[Pto]]:
    """The window `member` is on leave once [start, end) joins their entries it overlaps or
    touches, and those entries. Transitive: a widened window may reach one more entry."""
    mine = sorted((p for p in existing if p.member == member), key=lambda p: p.start)
    absorbed: list[Pto] = []
    grew = True
    while grew:
        grew = False
        for p in mine:
            if p not in absorbed and p.start <= end and start <= p.end:
                absorbed.append(p)
                start, end = min(start, p.start), max(end, p.end)
                grew = True
    return start, end, sorted(absorbed, key=lambda p: p.id)


class PtoRefused(ValueError):
    """A PTO change that does not apply; the message says why."""


def check_cancel(pto: Pto | None, pto_id: int, member: str, now: datetime) -> Pto:
    """The entry `member` may cancel, or PtoRefused saying why not. Leave under way may be
    cancelled (plans change on the day); leave already over is history."""
    if pto is None:
        raise PtoRefused(f"There is no PTO #{pto_id}; `/oncall pto` lists yours with their ids.")
    if pto.member != member:
        raise PtoRefused(
            f"PTO #{pto_id} is {pto.member}'s, not yours: only {pto.member} can cancel it."
        )
    if pto.end <= now:
        raise PtoRefused(f"PTO #{pto_id} is already over; there is nothing to cancel.")
    return pto


class Conflict(BaseModel):
    """Someone on call while on PTO or a company holiday, with no swap covering it."""

    model_config = ConfigDict(frozen=True)

    member: str
    role: str  # "Primary" or "Backup"
    start: datetime
    end: datetime
    reason: str  # "PTO" or the holiday's name


def conflicts(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    approved: Sequence[Swap],
    ptos: Sequence[Pto],
) -> list[Conflict]:
    """Who is on call during their own PTO or a company holiday in [start, end) with no swap.

    A person who took the shift through a swap agreed to it, so they are not flagged for a
    holiday; PTO is always flagged, since nobody should agree to work through their own leave.
    """
    tz = cfg.zone
    start = max(start, cfg.rotation.start_at)
    if end <= start:
        return []
    ovs = [o for s in approved for o in overrides(s)]
    swap_people = {o.id: {o.a, o.b} for o in ovs}
    found: list[Conflict] = []
    for seg in segments(cfg, calendar, start, end, ovs):
        swapped = set().union(*(swap_people[i] for i in seg.swaps)) if seg.swaps else set()
        for role, member in (("Primary", seg.primary), ("Backup", seg.backup)):
            for pto in ptos:
                if pto.member == member and pto.start < seg.end and seg.start < pto.end:
                    found.append(
                        Conflict(
                            member=member,
                            role=role,
                            start=max(pto.start, seg.start),
                            end=min(pto.end, seg.end),
                            reason="PTO",
                        )
                    )
            if member in swapped:
                continue
            day = seg.start.astimezone(tz).date()
            while datetime.combine(day, time(0), tzinfo=tz) < seg.end:
                # A critical holiday needs no swap: the policy's exchange decides who covers.
                name = None if calendar.critical(day) else calendar.company_holiday(day)
                day_start = datetime.combine(day, time(0), tzinfo=tz)
                day_end = day_start + timedelta(days=1)
                if name:
                    found.append(
                        Conflict(
                            member=member,
                            role=role,
                            start=max(day_start, seg.start),
                            end=min(day_end, seg.end),
                            reason=name,
                        )
                    )
                day += timedelta(days=1)
    # A segment may begin before `start` (it is the schedule's, not the question's): what
    # ended before `start` is not asked about.
    return _merge([c for c in found if c.end > start])


def _merge(items: list[Conflict]) -> list[Conflict]:
    """Join pieces split only by segment edges (e.g. a holiday exchange at midnight).
    Linear: each piece is compared with the last piece of its (member, reason) only."""
    out: list[Conflict] = []
    last: dict[tuple[str, str], int] = {}
    for c in sorted(items, key=lambda c: (c.start, c.member, c.reason)):
        i = last.get((c.member, c.reason))
        prev = out[i] if i is not None else None
        if prev is not None and prev.end == c.start and prev.role == c.role:
            out[i] = prev.model_copy(update={"end": c.end})  # type: ignore[index]
        else:
            last[(c.member, c.reason)] = len(out)
            out.append(c)
    return out


class ExchangeNote(BaseModel):
    """Someone whose role a critical holiday exchanges: told, nothing to arrange."""

    model_config = ConfigDict(frozen=True)

    member: str
    role: str  # the role they hold that day: "Primary" or "Backup"
    start: datetime
    end: datetime
    holiday: str
    label: str  # the policy's notation, e.g. CW⇄PR


def exchange_notes(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    approved: Sequence[Swap],
) -> list[ExchangeNote]:
    """The two people of each critical-holiday exchange in [start, end). Someone who gave
    their role away by a swap holds none and is not told; someone who took one by a swap is
    not part of the exchange (the swap told them what they hold)."""
    start = max(start, cfg.rotation.start_at)
    if end <= start:
        return []
    ovs = [o for s in approved for o in overrides(s)]
    out: list[ExchangeNote] = []
    for seg in segments(cfg, calendar, start, end, ovs):
        if not seg.holiday:
            continue
        exchanged = {seg.rotation_primary, seg.rotation_backup}
        for role, member in (("Primary", seg.primary), ("Backup", seg.backup)):
            if member not in exchanged:
                continue
            out.append(
                ExchangeNote(
                    member=member,
                    role=role,
                    start=seg.start,
                    end=seg.end,
                    holiday=seg.holiday,
                    label=holiday_label(seg),
                )
            )
    return out


def conflict_note(c: Conflict, tz: ZoneInfo) -> str:
    what = "on PTO" if c.reason == "PTO" else f"on a company holiday ({c.reason})"
    return (
        f"⚠ {describe_window(Window(start=c.start, end=c.end), tz)}: {c.member} is {c.role} "
        f"{what} with no swap"
    )


def due_reminders(conflict: Conflict, now: datetime) -> str | None:
    """The reminder to send now for a conflict ("7d" or "1d"), or None; the nearest lead wins
    so a conflict found late gets one reminder, not two at once."""
    if now >= conflict.start:
        return None
    due = [label for label, lead in REMINDER_LEADS if now >= conflict.start - lead]
    return due[-1] if due else None
