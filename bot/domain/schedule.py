"""Who holds which on-call role at an instant: rotation → critical-holiday exchange → swaps.

Pure and O(1) in the distance from the rotation start: the week is found by arithmetic on
local dates, never by walking week after week. The instant is always an argument.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.config.models import Pipeline, TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.timefmt import period, stamp


class BeforeRotation(ValueError):
    def __init__(self, start: datetime) -> None:
        super().__init__(
            f"no rotation defined before {stamp(start, start.tzinfo or ZoneInfo('UTC'))}"
        )
        self.start = start


class Override(BaseModel):
    """An approved swap as the engine sees it: during [start, end) `a` and `b` trade places.

    A transposition covers both kinds of swap: if `b` holds the other role they exchange
    roles (the policy's CW⇄PR); if `b` is off duty, `b` simply takes `a`'s role.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    start: datetime
    end: datetime
    a: str
    b: str

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class SwapChange(BaseModel):
    """What one approved swap did within a segment: `giver` handed `role` to `taker`.
    `exchange` when the taker held the other role, so the two traded places; otherwise the
    taker was off duty and the giver now is."""

    model_config = ConfigDict(frozen=True)

    id: int
    giver: str
    taker: str
    role: str  # the role handed over: "Primary" or "Backup"
    exchange: bool


class Segment(BaseModel):
    """A stretch of time with one assignment, and why it is so."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    week: int  # 0-based weeks since the rotation start
    cycle_week: int  # 1-based row of the rotation table
    cycle_length: int
    rotation_primary: str
    rotation_backup: str
    primary: str
    backup: str
    holiday: str | None = None
    swaps: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()
    changes: tuple[SwapChange, ...] = ()  # what each swap in `swaps` did, in order


class LadderRole(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"
    COMMANDER = "commander"
    LEAD = "lead"

    @property
    def label(self) -> str:
        return {
            "primary": "Primary",
            "backup": "Backup",
            "commander": "Incident Commander",
            "lead": "Data Platform Lead",
        }[self.value]


class Rung(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: LadderRole
    member: str
    reason: str


class WeekView(BaseModel):
    model_config = ConfigDict(frozen=True)

    week: int
    cycle_week: int
    start: datetime
    end: datetime
    primary: str
    backup: str
    annotations: tuple[str, ...] = ()


def _at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def week_start(cfg: TeamConfig, at: datetime) -> tuple[int, datetime]:
    """(week index, start of that week) for an aware instant; raises BeforeRotation."""
    rot = cfg.rotation
    tz = rot.tz
    if at < rot.start_at:
        raise BeforeRotation(rot.start_at)
    local = at.astimezone(tz)
    back = (local.weekday() - rot.handoff_day.number) % 7
    start = _at_local(local.date() - timedelta(days=back), rot.handoff_time, tz)
    if start > at:
        start = _at_local(start.date() - timedelta(days=7), rot.handoff_time, tz)
    week = (start.date() - rot.start.date()).days // 7
    return week, start


def week_bounds(cfg: TeamConfig, week: int) -> tuple[datetime, datetime]:
    rot = cfg.rotation
    first = rot.start.date() + timedelta(days=7 * week)
    return (
        _at_local(first, rot.handoff_time, rot.tz),
        _at_local(first + timedelta(days=7), rot.handoff_time, rot.tz),
    )


def exchange_label(primary: str, backup: str) -> str:
    """The policy's notation for two people who trade roles: whoever now holds Primary
    first, e.g. `CW⇄PR`."""
    return f"{primary}⇄{backup}"


def holiday_label(seg: Segment) -> str:
    """A critical holiday's exchange in the policy's notation: the rotation's Backup, who
    holds Primary that day, first (`PR⇄SK`), whatever swaps then did to the segment."""
    return exchange_label(seg.rotation_backup, seg.rotation_primary)


def change_label(change: SwapChange) -> str:
    """Who gave what to whom: `PR→SK` (giver → taker) when the taker was off duty, so the
    one who took no part is not named; `CW⇄PR` only when the two exchanged roles."""
    if not change.exchange:
        return f"{change.giver}→{change.taker}"
    if change.role == "Primary":  # the taker now holds Primary
        return exchange_label(change.taker, change.giver)
    return exchange_label(change.giver, change.taker)


def swap_note(changes: tuple[SwapChange, ...] | list[SwapChange]) -> str:
    """The schedule's annotation for a segment's swaps: `PR→SK (swap #1), CW⇄AM (swap #2)`."""
    return ", ".join(f"{change_label(c)} (swap #{c.id})" for c in changes)


def _swap_reason(change: SwapChange) -> str:
    if change.exchange:
        return (
            f"swap #{change.id}: {change.giver} and {change.taker} exchange roles "
            f"({change_label(change)})"
        )
    return (
        f"swap #{change.id}: {change.taker} takes {change.giver}'s {change.role} role "
        f"({change_label(change)})"
    )


def swap_changes(
    primary: str, backup: str, at: datetime, overrides: list[Override]
) -> tuple[str, str, tuple[SwapChange, ...]]:
    """Primary and Backup once the swaps covering `at` apply in order, and what each did."""
    changes: list[SwapChange] = []
    for ov in overrides:
        if not ov.covers(at) or ov.a not in (primary, backup):
            continue
        before = (primary, backup)
        swap = {ov.a: ov.b, ov.b: ov.a}
        primary, backup = swap.get(primary, primary), swap.get(backup, backup)
        changes.append(
            SwapChange(
                id=ov.id,
                giver=ov.a,
                taker=ov.b,
                role="Primary" if before[0] == ov.a else "Backup",
                exchange=ov.b in before,
            )
        )
    return primary, backup, tuple(changes)


def resolve(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    at: datetime,
    overrides: list[Override] | tuple[Override, ...] = (),
) -> Segment:
    """The assignment in force at `at` and the segment of time it holds for."""
    week, start = week_start(cfg, at)
    end = week_bounds(cfg, week)[1]
    tz = cfg.rotation.tz
    ordered = sorted(overrides, key=lambda o: o.id)

    # The segment ends at the next change: week end, a critical holiday's midnight, a swap edge.
    cuts = {start, end}
    local_day = start.astimezone(tz).date()
    while local_day <= end.astimezone(tz).date():
        if calendar.critical(local_day):
            cuts.add(_at_local(local_day, time(0), tz))
            cuts.add(_at_local(local_day + timedelta(days=1), time(0), tz))
        local_day += timedelta(days=1)
    for ov in ordered:
        cuts.update((ov.start, ov.end))
    seg_start = max(c for c in cuts if c <= at and c >= start)
    seg_end = min(c for c in cuts if c > at and c <= end)

    row = cfg.rotation.weeks[week % len(cfg.rotation.weeks)]
    n = len(cfg.rotation.weeks)
    primary, backup = row.primary, row.backup
    reasons = [f"rotation week {week % n + 1} of {n} ({period(start, end, tz)})"]
    holiday = calendar.critical(at.astimezone(tz).date())
    if holiday:
        primary, backup = backup, primary
        reasons.append(
            f"{holiday} ({at.astimezone(tz):%Y-%m-%d}) is a critical holiday: Backup and Primary "
            f"exchange roles for the day ({exchange_label(primary, backup)})"
        )
    primary, backup, changes = swap_changes(primary, backup, at, ordered)
    reasons.extend(_swap_reason(c) for c in changes)
    return Segment(
        start=seg_start,
        end=seg_end,
        week=week,
        cycle_week=week % n + 1,
        cycle_length=n,
        rotation_primary=row.primary,
        rotation_backup=row.backup,
        primary=primary,
        backup=backup,
        holiday=holiday,
        swaps=tuple(c.id for c in changes),
        reasons=tuple(reasons),
        changes=changes,
    )


def segments(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    overrides: list[Override] | tuple[Override, ...] = (),
) -> list[Segment]:
    """Every segment overlapping [start, end), in order (start is clipped to the rotation)."""
    at = max(start, cfg.rotation.start_at)
    out: list[Segment] = []
    while at < end:
        seg = resolve(cfg, calendar, at, overrides)
        out.append(seg)
        at = seg.end
    return out


def ladder(cfg: TeamConfig, seg: Segment, pipeline: Pipeline | None = None) -> list[Rung]:
    """The escalation ladder (policy: "Escalation Ladder (Sev-1)") for a segment.

    Incident commander: "the secondary owner of the impacted pipeline if not already paged":
    when the secondary owner is Primary or Backup, there is no commander rung. Data platform
    lead: "whoever is not Primary/Backup that week", so every engineer not on the ladder
    (two when the commander rung is empty), unless `policy.escalation.lead_preference`
    names the one to prefer.
    """
    rungs = [
        Rung(role=LadderRole.PRIMARY, member=seg.primary, reason="Primary on call"),
        Rung(role=LadderRole.BACKUP, member=seg.backup, reason="Backup on call"),
    ]
    taken = {seg.primary, seg.backup}
    if pipeline is not None and pipeline.secondary not in taken:
        rungs.append(
            Rung(
                role=LadderRole.COMMANDER,
                member=pipeline.secondary,
                reason=f"secondary owner of {pipeline.name}",
            )
        )
        taken.add(pipeline.secondary)
    free = [m.initials for m in cfg.members if m.initials not in taken]
    preference = cfg.policy.escalation.lead_preference
    if preference:
        free = [who for who in preference if who not in taken][:1]
    for who in free:
        rungs.append(
            Rung(
                role=LadderRole.LEAD,
                member=who,
                reason=f"neither Primary nor Backup now ({seg.primary}/{seg.backup})",
            )
        )
    return rungs


def week_views(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    first_week: int,
    count: int,
    overrides: list[Override] | tuple[Override, ...] = (),
) -> list[WeekView]:
    """`count` rotation weeks from `first_week`, annotated in the policy's notation."""
    n = len(cfg.rotation.weeks)
    out = []
    for week in range(max(first_week, 0), max(first_week, 0) + count):
        start, end = week_bounds(cfg, week)
        row = cfg.rotation.weeks[week % n]
        notes: list[str] = []
        years = sorted(
            {start.astimezone(cfg.rotation.tz).year, end.astimezone(cfg.rotation.tz).year}
        )
        for year in years:
            unknown = calendar.unknown_critical(year)
            if unknown:
                notes.append(
                    f"⚠ {year}: the holiday library has no date for {', '.join(unknown)}, "
                    "so no critical-holiday exchange is scheduled for it"
                )
        for seg in segments(cfg, calendar, start, end, overrides):
            if seg.holiday:
                day = seg.start.astimezone(cfg.rotation.tz)
                notes.append(f"{day:%Y-%m-%d} ({seg.holiday}): {holiday_label(seg)}")
            if seg.changes:
                notes.append(f"{_span(seg, cfg.rotation.tz)}: {swap_note(seg.changes)}")
        out.append(
            WeekView(
                week=week,
                cycle_week=week % n + 1,
                start=start,
                end=end,
                primary=row.primary,
                backup=row.backup,
                annotations=tuple(dict.fromkeys(notes)),
            )
        )
    return out


def _span(seg: Segment, tz: ZoneInfo) -> str:
    s, e = seg.start.astimezone(tz), seg.end.astimezone(tz)
    midnight = time(0)
    if s.time() == midnight and e.time() == midnight and (e.date() - s.date()).days == 1:
        return f"{s:%Y-%m-%d}"
    return period(seg.start, seg.end, tz)
