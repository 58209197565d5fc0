"""Calendar feeds (RFC 5545) of who is on call and who is on leave: every Primary and Backup
shift, as the schedule resolves it (rotation week → critical-holiday exchange → swaps), and
every recorded PTO, from 4 weeks back to 26 weeks ahead.

Pure: the instant, the approved swaps and the PTO are arguments.

One event per stretch a person holds a role for one reason: consecutive schedule segments
with the same person, role and reason are one event (a swap between two others cuts the
schedule into segments, not anyone else's shift). UIDs say what the event is, so a client
that polls the feed updates events in place instead of duplicating them:

- a rotation week or holiday exchange: `shift-<role>-<member>-<start in UTC>`;
- a swap: `swap-<id>-<role>-<member>` (with `-2`, `-3`, … for a second stretch of the same
  swap, e.g. after a holiday inside its window or in its return window), so a changed swap
  keeps its UIDs; LAST-MODIFIED is when it was decided;
- PTO: `pto-<id>`, LAST-MODIFIED when it was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import Pto
from bot.domain.schedule import Segment, segments, week_bounds, week_start
from bot.domain.swaps import Swap, Window, describe_window, overrides
from bot.domain.timefmt import period, stamp

WEEKS_BACK = 4
WEEKS_AHEAD = 26
UID_DOMAIN = "oncall-bot"
PRODID = "-//oncall-bot//calendar feed//EN"


class EventKind(StrEnum):
    ROTATION = "rotation"
    HOLIDAY = "holiday"
    SWAP = "swap"
    PTO = "pto"


class FeedEvent(BaseModel):
    """One calendar event, before it is written as iCalendar."""

    model_config = ConfigDict(frozen=True)

    uid: str
    kind: EventKind
    member: str
    role: str | None  # "Primary" or "Backup"; None for PTO
    start: datetime
    end: datetime
    summary: str  # without the member: the person's own feed shows it as it is
    description: str
    swap: int | None = None
    modified: datetime | None = None


def feed_window(cfg: TeamConfig, now: datetime) -> tuple[datetime, datetime]:
    """[start, end): from the handoff WEEKS_BACK weeks before the current rotation week to
    the end of the week WEEKS_AHEAD after it. Whole weeks, so the first event of the feed
    does not move with every request (nor does its UID)."""
    rot = cfg.rotation
    week = week_start(cfg, now)[0] if now >= rot.start_at else 0
    start = week_bounds(cfg, max(week - WEEKS_BACK, 0))[0]
    end = week_bounds(cfg, week + WEEKS_AHEAD)[1]
    return start, end


def _utc_id(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _cause(seg: Segment, role: str, member: str) -> tuple[EventKind, tuple[object, ...]]:
    """Why `member` holds `role` in `seg`: what they would hold before swaps decides."""
    if seg.holiday:
        before = {"Primary": seg.rotation_backup, "Backup": seg.rotation_primary}[role]
    else:
        before = {"Primary": seg.rotation_primary, "Backup": seg.rotation_backup}[role]
    if before != member and seg.swaps:
        return EventKind.SWAP, ()
    if seg.holiday:
        local_day = seg.start.date().isoformat()
        return EventKind.HOLIDAY, (seg.holiday, local_day)
    return EventKind.ROTATION, (seg.week,)


def _swap_of(seg: Segment, member: str, swaps: dict[int, Swap]) -> Swap | None:
    """The applied swap that put `member` where they are (the last one naming them)."""
    found = None
    for sid in seg.swaps:
        swap = swaps.get(sid)
        if swap is not None and member in swap.people:
            found = swap
    return found


class _Stretch:
    def __init__(self, member: str, role: str, key: tuple[object, ...], seg: Segment) -> None:
        self.member = member
        self.role = role
        self.key = key
        self.segs = [seg]

    @property
    def end(self) -> datetime:
        return self.segs[-1].end


def _stretches(segs: list[Segment], swaps: dict[int, Swap]) -> list[_Stretch]:
    open_: dict[tuple[str, str], _Stretch] = {}
    out: list[_Stretch] = []
    for seg in segs:
        for role, member in (("Primary", seg.primary), ("Backup", seg.backup)):
            kind, detail = _cause(seg, role, member)
            if kind is EventKind.SWAP:
                swap = _swap_of(seg, member, swaps)
                detail = (swap.id if swap else seg.swaps[-1],)
            key = (kind, *detail)
            last = open_.get((role, member))
            if last is not None and last.key == key and last.end == seg.start:
                last.segs.append(seg)
                continue
            stretch = _Stretch(member, role, key, seg)
            open_[(role, member)] = stretch
            out.append(stretch)
    return out


def _name(cfg: TeamConfig, initials: str) -> str:
    return next((m.name for m in cfg.members if m.initials == initials), initials)


def _lines(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _shift_event(
    cfg: TeamConfig, stretch: _Stretch, swaps: dict[int, Swap], seen: dict[str, int]
) -> FeedEvent:
    tz = cfg.zone
    first, last = stretch.segs[0], stretch.segs[-1]
    start, end = first.start, last.end
    member, role = stretch.member, stretch.role
    name = _name(cfg, member)
    kind = EventKind(str(stretch.key[0]))
    others = _lines([s.backup if role == "Primary" else s.primary for s in stretch.segs])
    other_role = "Backup" if role == "Primary" else "Primary"
    head = (
        f"{name} ({member}) is {role} on call {period(start, end, tz)}; "
        f"{other_role}: {', '.join(others)}."
    )
    why = _lines([r for s in stretch.segs for r in s.reasons])
    swap_id: int | None = None
    modified: datetime | None = None
    if kind is EventKind.ROTATION:
        summary = f"{role} on call (rotation week {first.cycle_week})"
        uid = f"shift-{role.lower()}-{member}-{_utc_id(start)}"
        why = [first.reasons[0]] if first.reasons else why
    elif kind is EventKind.HOLIDAY:
        summary = f"{role} on call: {first.holiday} exchange"
        uid = f"shift-{role.lower()}-{member}-{_utc_id(start)}"
    else:
        swap_id = int(str(stretch.key[1]))
        swap = swaps.get(swap_id)
        base = f"swap-{swap_id}-{role.lower()}-{member}"
        seen[base] = seen.get(base, 0) + 1
        uid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        if swap is not None:
            other = swap.counterpart if member == swap.requester else swap.requester
            summary = f"{role} on call: swap #{swap_id} with {other}"
            windows = " and ".join(describe_window(w, tz) for w in swap.windows)
            decided = (
                f", approved by {swap.decided_by} {stamp(swap.decided_at, tz)}"
                if swap.decided_at is not None and swap.decided_by
                else ""
            )
            why.append(
                f"swap #{swap_id}: {swap.requester} asked {swap.counterpart} for {windows}"
                f"{decided}" + (f'; note: "{swap.note}"' if swap.note else "")
            )
            modified = swap.decided_at or swap.created_at
        else:
            summary = f"{role} on call: swap #{swap_id}"
    description = head + "\nWhy:\n" + "\n".join(f"- {line}" for line in why)
    return FeedEvent(
        uid=f"{uid}@{UID_DOMAIN}",
        kind=kind,
        member=member,
        role=role,
        start=start,
        end=end,
        summary=summary,
        description=description,
        swap=swap_id,
        modified=modified,
    )


def _pto_event(cfg: TeamConfig, pto: Pto) -> FeedEvent:
    tz = cfg.zone
    name = _name(cfg, pto.member)
    window = describe_window(Window(start=pto.start, end=pto.end), tz)
    return FeedEvent(
        uid=f"pto-{pto.id}@{UID_DOMAIN}",
        kind=EventKind.PTO,
        member=pto.member,
        role=None,
        start=pto.start,
        end=pto.end,
        summary="PTO",
        description=(
            f"{name} ({pto.member}) is on leave: {window}.\n"
            f"Recorded with /oncall pto {stamp(pto.created_at, tz)}. A shift inside it needs "
            "a swap (see /oncall schedule)."
        ),
        modified=pto.created_at,
    )


def build_events(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    now: datetime,
    approved: Sequence[Swap],
    ptos: Sequence[Pto],
    member: str | None = None,
) -> list[FeedEvent]:
    """The feed's events in start order: everyone's, or `member`'s alone. `approved` are the
    approved swaps and `ptos` the recorded leave (any outside the window are ignored)."""
    start, end = feed_window(cfg, now)
    by_id = {s.id: s for s in approved}
    ovs = [o for s in approved for o in overrides(s)]
    segs = segments(cfg, calendar, start, end, ovs)
    seen: dict[str, int] = {}
    events = [_shift_event(cfg, st, by_id, seen) for st in _stretches(segs, by_id)]
    events += [_pto_event(cfg, p) for p in ptos if p.start < end and p.end > start]
    if member is not None:
        events = [e for e in events if e.member == member]
    return sorted(
        events, key=lambda e: (e.start, e.kind != EventKind.PTO, e.role != "Primary", e.uid)
    )


def to_ics(events: Sequence[FeedEvent], now: datetime, title: str, team: bool) -> bytes:
    """The events as an iCalendar document, times in UTC. DTSTAMP is `now` (when the feed
    was made); LAST-MODIFIED, where known, when the swap was decided or the PTO recorded.
    In the team feed (`team`) each summary starts with whose event it is."""
    # Imported here: icalendar is a tenth of serve's own start-up and only feeds need it.
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", "UTC")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp_at = now.astimezone(UTC)
    for e in events:
        ev = Event()
        ev.add("uid", e.uid)
        ev.add("dtstamp", stamp_at)
        ev.add("dtstart", e.start.astimezone(UTC))
        ev.add("dtend", e.end.astimezone(UTC))
        ev.add("summary", f"{e.member} — {e.summary}" if team else e.summary)
        ev.add("description", e.description)
        ev.add("categories", [e.role or "PTO"])
        ev.add("transp", "OPAQUE" if e.kind is EventKind.PTO else "TRANSPARENT")
        ev.add("sequence", 0)
        if e.modified is not None:
            ev.add("last-modified", e.modified.astimezone(UTC))
        ev.add("x-oncall-kind", e.kind.value)
        ev.add("x-oncall-member", e.member)
        cal.add_component(ev)
    return bytes(cal.to_ical())
