"""Where people already look for who is on call (issue #11): the `@data-oncall` and
`@data-oncall-primary` user groups, the team channel's topic, and the DMs that tell a person
their shift is coming and has begun.

Pure: everything follows `schedule.segments` (rotation → holiday exchange → approved swaps),
so the groups, the topic, `/oncall now` and the pages always agree. The caller passes `now`
and the approved swaps as overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.durations import human_duration
from bot.domain.schedule import BeforeRotation, Override, Segment, segments
from bot.domain.shifts import Shift, reason_for
from bot.domain.timefmt import period, stamp

# How far ahead to look for the end of the current stretch: a rotation where one pair held
# the roles for longer than this would show "until" this far ahead, which stays true.
LOOKAHEAD = timedelta(weeks=8)


class Stretch(BaseModel):
    """A time in which the same two people hold Primary and Backup: the unit the groups and
    the topic follow (a holiday exchange or a swap starts a new one; a week boundary that
    hands over to the same pair does not)."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    primary: str
    backup: str


def stretches(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
) -> list[Stretch]:
    """The stretches overlapping [start, end), in order; the last one runs to its real end
    (up to LOOKAHEAD past `end`), so "until" is right for it too."""
    out: list[Stretch] = []
    for seg in segments(cfg, calendar, start, end + LOOKAHEAD, list(overrides)):
        last = out[-1] if out else None
        if last and (last.primary, last.backup) == (seg.primary, seg.backup):
            out[-1] = last.model_copy(update={"end": seg.end})
            continue
        if seg.start >= end:
            break
        out.append(Stretch(start=seg.start, end=seg.end, primary=seg.primary, backup=seg.backup))
    return out


def stretch_at(
    cfg: TeamConfig, calendar: HolidayCalendar, now: datetime, overrides: Sequence[Override] = ()
) -> Stretch:
    """The stretch in force at `now`. Raises BeforeRotation before the rotation starts."""
    if now < cfg.rotation.start_at:
        raise BeforeRotation(now)
    return stretches(cfg, calendar, now, now + timedelta(seconds=1), overrides)[0]


def group_members(cfg: TeamConfig, stretch: Stretch, primary_only: bool) -> list[str]:
    """Slack ids a group should hold: Primary (and Backup unless `primary_only`). A member
    without a Slack id cannot be in a group (`oncall-bot check` warns of them)."""
    people = [stretch.primary] if primary_only else [stretch.primary, stretch.backup]
    ids = (cfg.member(p).slack_id for p in dict.fromkeys(people))
    return [i for i in ids if i]


def topic(cfg: TeamConfig, stretch: Stretch) -> str:
    """`On call: Primary Alex Mehta · Backup Priya Rao · until Mon 27 Oct 2025, 09:00 IST`."""
    primary, backup = cfg.member(stretch.primary).name, cfg.member(stretch.backup).name
    until = stamp(stretch.end, cfg.rotation.tz)
    return f"On call: Primary {primary} · Backup {backup} · until {until}"


# --- shift notices -----------------------------------------------------------------------


class ShiftNotice(BaseModel):
    """One DM owed to `shift.member`: `ahead` (24 h before the role starts) or `start`."""

    model_config = ConfigDict(frozen=True)

    shift: Shift
    when: str  # "ahead" | "start"

    @property
    def key(self) -> str:
        """What makes it once: the person, the role, its start and which notice."""
        s = self.shift
        return f"{s.member}:{s.role}:{int(s.start.timestamp())}:{self.when}"


def role_shifts(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override] = (),
) -> list[Shift]:
    """Every person's role windows starting in [start, end), with why. A person who keeps
    the same role across a week boundary or a change of reason has one window (no notice
    mid-role); the reason is the one the role started with."""
    segs = segments(cfg, calendar, start - LOOKAHEAD, end + LOOKAHEAD, list(overrides))
    out: list[Shift] = []
    for member in (m.initials for m in cfg.members):
        current: Shift | None = None
        for seg in segs:
            role = _role(seg, member)
            if current and role == current.role and seg.start == current.end:
                current = current.model_copy(update={"end": seg.end})
                continue
            if current and start <= current.start < end:
                out.append(current)
            current = None
            if role is not None:
                reason = reason_for(seg, member, overrides)
                current = Shift(
                    member=member, role=role, start=seg.start, end=seg.end, reason=reason
                )
        if current and start <= current.start < end:
            out.append(current)
    return sorted(out, key=lambda s: (s.start, s.role, s.member))


def _role(seg: Segment, member: str) -> str | None:
    return "Primary" if seg.primary == member else "Backup" if seg.backup == member else None


def due_shift_notices(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    now: datetime,
    overrides: Sequence[Override] = (),
    ahead: timedelta = timedelta(hours=24),
    grace: timedelta = timedelta(hours=1),
) -> list[ShiftNotice]:
    """The shift notices due at `now`: `ahead` for a role starting within `ahead` (a role
    arranged later than that, e.g. a swap approved 3 h before, is told as soon as it
    exists), `start` for a role that began within `grace` (after a longer outage the
    person is already on and the start notice would only be noise)."""
    if now + ahead < cfg.rotation.start_at:
        return []
    out: list[ShiftNotice] = []
    # Inclusive of now + ahead: a role starting exactly 24 h from now is told now.
    until = now + ahead + timedelta(microseconds=1)
    for shift in role_shifts(cfg, calendar, now - grace, until, overrides):
        if shift.start > now:
            out.append(ShiftNotice(shift=shift, when="ahead"))
        elif now < min(shift.end, shift.start + grace):
            out.append(ShiftNotice(shift=shift, when="start"))
    return out


def shift_notice_text(cfg: TeamConfig, notice: ShiftNotice, now: datetime) -> str:
    """The DM: the role, the window in the rotation's zone, and why."""
    s, tz = notice.shift, cfg.rotation.tz
    window = period(s.start, s.end, tz)
    if notice.when == "ahead":
        head = f":calendar: You are *{s.role}* in {human_duration(s.start - now)}"
    else:
        head = f":rotating_light: You are *{s.role}* now"
    return f"{head}: {window} ({s.reason}). `/oncall me` lists your next shifts."
