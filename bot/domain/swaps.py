"""Shift swaps and PTO: the rules, as pure functions over pydantic models.

Precedence (applied by bot.domain.schedule.resolve): rotation → critical-holiday exchange →
approved swaps. A swap is an explicit agreement between two people, so it wins over both
rules above it; that is also why a requester's role is judged *after* the holiday exchange.

Two swaps conflict ("overlap") when their windows intersect in time and they share a person:
swaps between disjoint pairs compose, but one person cannot give away the same hours twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.schedule import BeforeRotation, Override, segments, week_bounds, week_start
from bot.domain.timefmt import period, plural, zone_label
from bot.domain.timeparse import TimeParseError, parse_instant, parse_window


def window_forms(zone: tzinfo) -> str:
    """The windows `/swap` and `/oncall pto` accept, for their help and their errors."""
    return (
        "`2025-09-03` (that whole day), `2025-09-03..2025-09-05` (whole days), "
        "`week 2025-09-03` (that rotation week, handoff to handoff), "
        f"`2025-09-03 09:00..18:00`; {zone_label(zone)} unless a zone is given "
        "(e.g. `2025-09-03 09:00..18:00 UTC`)"
    )


class SwapError(ValueError):
    """A request the rules refuse; the message says what is valid. `field` says which input
    was wrong ("counterpart", "window" or "back") so a modal can put the error beside it."""

    def __init__(self, message: str, field: str = "window") -> None:
        super().__init__(message)
        self.field = field


class TransitionRefused(SwapError):
    """A swap transition that does not apply (wrong person, already decided, …)."""

    def __init__(self, message: str, swap: Swap | None) -> None:
        super().__init__(message)
        self.swap = swap


class SwapStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end


class Swap(BaseModel):
    """`requester` hands their role in `window` to `counterpart`; with `back`, the
    counterpart hands theirs in `back` to the requester (an exchange of shifts)."""

    model_config = ConfigDict(frozen=True)

    id: int
    requester: str
    counterpart: str
    start: datetime
    end: datetime
    back_start: datetime | None = None
    back_end: datetime | None = None
    note: str = ""
    status: SwapStatus = SwapStatus.PENDING
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    # Where the counterpart's Approve/Decline message lives, so it can be edited in place.
    dm_channel: str | None = None
    dm_ts: str | None = None

    @property
    def window(self) -> Window:
        return Window(start=self.start, end=self.end)

    @property
    def back(self) -> Window | None:
        if self.back_start is None or self.back_end is None:
            return None
        return Window(start=self.back_start, end=self.back_end)

    @property
    def windows(self) -> list[Window]:
        return [self.window] + ([self.back] if self.back else [])

    @property
    def first_start(self) -> datetime:
        return min(w.start for w in self.windows)

    @property
    def last_end(self) -> datetime:
        return max(w.end for w in self.windows)

    @property
    def people(self) -> set[str]:
        return {self.requester, self.counterpart}


# ---------------------------------------------------------------------------- windows


def check_bounds(cfg: TeamConfig, window: Window, now: datetime, what: str = "A swap") -> None:
    """Refuse windows longer or further ahead than policy.toml `[limits]` allows."""
    limits = cfg.policy.limits
    if window.end - window.start > limits.window_max:
        days = (window.end - window.start).days
        raise SwapError(
            f"{what} can last at most {plural(limits.window_max.days, 'day')}; "
            f"this one is {plural(days, 'day')}."
        )
    if window.start - now > limits.window_ahead:
        raise SwapError(
            f"{what} can start at most {plural(limits.window_ahead.days, 'day')} ahead; "
            f"this one starts {plural((window.start - now).days, 'day')} from now."
        )


def parse_swap_window(cfg: TeamConfig, text: str, now: datetime) -> Window:
    """parse_window plus `week <date>`: that rotation week from handoff to handoff."""
    body = text.strip()
    try:
        if body.casefold().startswith("week"):
            rest = body[4:].strip()
            at = parse_instant(rest, now, cfg.zone)[0] if rest else now
            week, _ = week_start(cfg, at)
            start, end = week_bounds(cfg, week)
            return Window(start=start, end=end)
        start, end = parse_window(body, now, cfg.zone)
    except BeforeRotation as exc:
        raise SwapError(f"{exc}: pick a later week.") from None
    except TimeParseError as exc:
        raise SwapError(f"{exc}. A window is one of: {window_forms(cfg.zone)}.") from None
    return Window(start=start, end=end)


def window_from_fields(
    tz: ZoneInfo,
    start_date: date,
    start_time: time | None,
    end_date: date,
    end_time: time | None,
) -> Window:
    """The modal's pickers: without a time, dates are whole days (the end date included)."""
    start = datetime.combine(start_date, start_time or time(0), tzinfo=tz)
    if end_time is None:
        end = datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=tz)
    else:
        end = datetime.combine(end_date, end_time, tzinfo=tz)
    return Window(start=start, end=end)


def fields_from_window(window: Window, tz: ZoneInfo) -> tuple[date, time | None, date, time | None]:
    """The inverse of window_from_fields, for pre-filling the modal."""
    s, e = window.start.astimezone(tz), window.end.astimezone(tz)
    midnight = time(0)
    if s.time() == midnight and e.time() == midnight:
        return s.date(), None, e.date() - timedelta(days=1), None
    return s.date(), s.time(), e.date(), e.time()


def _whole_days(window: Window, tz: ZoneInfo) -> str | None:
    """`2025-09-03` or `2025-09-03..2025-09-05` when the window is whole days, else None."""
    s, e = window.start.astimezone(tz), window.end.astimezone(tz)
    if s.time() != time(0) or e.time() != time(0):
        return None
    last = e.date() - timedelta(days=1)
    return f"{s:%Y-%m-%d}" if last == s.date() else f"{s:%Y-%m-%d}..{last:%Y-%m-%d}"


def describe_window(window: Window, tz: ZoneInfo) -> str:
    """Whole days in the policy's notation (`2025-09-04`), any other window as people read
    it (`Wed 3 Sep 2025, 10:00–18:00 IST`)."""
    return _whole_days(window, tz) or period(window.start, window.end, tz)


def window_syntax(window: Window, tz: ZoneInfo) -> str:
    """The window as `/swap` and `/oncall pto` take it, for a command offered to paste:
    `2025-09-03`, `2025-09-03..2025-09-05`, `2025-09-03 09:00..18:00` or
    `2025-09-04 22:00..2025-09-05 06:00`. `parse_swap_window` reads it back unchanged."""
    days = _whole_days(window, tz)
    if days:
        return days
    s, e = window.start.astimezone(tz), window.end.astimezone(tz)
    if s.date() == e.date():
        return f"{s:%Y-%m-%d %H:%M}..{e:%H:%M}"
    return f"{s:%Y-%m-%d %H:%M}..{e:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------- the rules


def overrides(swap: Swap) -> list[Override]:
    """What an approved swap means to the schedule engine."""
    out = [
        Override(id=swap.id, start=swap.start, end=swap.end, a=swap.requester, b=swap.counterpart)
    ]
    if swap.back is not None:
        out.append(
            Override(
                id=swap.id,
                start=swap.back.start,
                end=swap.back.end,
                a=swap.counterpart,
                b=swap.requester,
            )
        )
    return out


def conflicting(swap: Swap, approved: Iterable[Swap]) -> Swap | None:
    """The first approved swap that shares a person and an instant with `swap`."""
    for other in sorted(approved, key=lambda s: s.id):
        if other.id == swap.id or not (other.people & swap.people):
            continue
        if any(w.overlaps(o) for w in swap.windows for o in other.windows):
            return other
    return None


def roles_held(
    cfg: TeamConfig, calendar: HolidayCalendar, member: str, window: Window
) -> set[str] | None:
    """The roles `member` holds across `window` under rotation and holiday rules, or None if
    there is an instant in the window when they hold no role."""
    if window.start < cfg.rotation.start_at:
        return None
    roles: set[str] = set()
    for seg in segments(cfg, calendar, window.start, window.end):
        if seg.primary == member:
            roles.add("Primary")
        elif seg.backup == member:
            roles.add("Backup")
        else:
            return None
    return roles


def validate_request(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    swap: Swap,
    now: datetime,
    approved: Sequence[Swap],
    role: str | None = None,
) -> None:
    """Raise SwapError naming the first rule `swap` breaks; `role` ("Primary"/"Backup"), if
    given, is the role the requester means to hand over and must be the one they hold."""
    tz = cfg.zone
    members = {m.initials for m in cfg.members}
    if swap.counterpart not in members:
        valid = ", ".join(sorted(members))
        raise SwapError(
            f"`{swap.counterpart}` is not on the roster (valid: {valid}).", "counterpart"
        )
    if swap.counterpart == swap.requester:
        raise SwapError(
            "You cannot swap with yourself: name another member of the roster.", "counterpart"
        )
    for label, field, w in (
        ("window", "window", swap.window),
        ("return window", "back", swap.back),
    ):
        if w is None:
            continue
        if w.end <= w.start:
            raise SwapError(f"The {label} is empty: it must end after it starts.", field)
        if w.start <= now:
            raise SwapError(
                f"The {label} {describe_window(w, tz)} has already started; swaps are arranged "
                "before the shift. Pick a window that starts in the future.",
                field,
            )
    if swap.back is not None and swap.back.overlaps(swap.window):
        raise SwapError("The two windows of an exchange must not overlap.", "back")
    clash = conflicting(swap, approved)
    if clash is not None:
        raise SwapError(
            f"That overlaps approved swap #{clash.id} ({clash.requester}→{clash.counterpart}, "
            f"{describe_window(clash.window, tz)}); cancel it first or pick another window."
        )
    held = roles_held(cfg, calendar, swap.requester, swap.window)
    if held is not None and role is not None and role not in held:
        raise SwapError(
            f"You are {' and '.join(sorted(held))} in {describe_window(swap.window, tz)}, "
            f"not {role}: pick that role or `Whichever I hold`.",
            "role",
        )
    if held is None:
        raise SwapError(
            f"You ({swap.requester}) are not Primary or Backup for the whole of "
            f"{describe_window(swap.window, tz)}, so there is no shift to hand over. "
            "Check `/oncall schedule`."
        )
    if swap.back is not None and (roles_held(cfg, calendar, swap.counterpart, swap.back) is None):
        raise SwapError(
            f"{swap.counterpart} is not Primary or Backup for the whole of "
            f"{describe_window(swap.back, tz)}, so there is no shift to take in return.",
            "back",
        )


def due_to_expire(pending: Iterable[Swap], now: datetime) -> list[Swap]:
    """Pending requests whose window has started unanswered."""
    return [s for s in pending if s.status is SwapStatus.PENDING and s.first_start <= now]
