"""One person's shifts: each window in which they are Primary or Backup, and why.

Pure: the caller passes `now`, the approved swaps (as overrides) and the PTO/holiday
conflicts it read from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import Conflict
from bot.domain.schedule import Override, Segment, segments, week_bounds, week_start

# `/oncall me` looks this many rotation weeks ahead, counting the current one.
HORIZON_WEEKS = 8


class Shift(BaseModel):
    """A stretch in which `member` holds one role for one reason."""

    model_config = ConfigDict(frozen=True)

    member: str
    role: str  # "Primary" or "Backup"
    start: datetime
    end: datetime
    reason: str  # "rotation week 6", "Holi exchange", "swap #4 with CW"
    conflicts: tuple[Conflict, ...] = ()

    def ongoing(self, now: datetime) -> bool:
        return self.start <= now < self.end


def horizon(
    cfg: TeamConfig, now: datetime, weeks: int = HORIZON_WEEKS
) -> tuple[datetime, datetime]:
    """[start of the rotation week containing `now`, end of the `weeks`-th week from it).
    Before the rotation starts, its first `weeks` weeks."""
    at = max(now, cfg.rotation.start_at)
    week, start = week_start(cfg, at)
    return start, week_bounds(cfg, week + weeks)[0]


def reason_for(seg: Segment, member: str, overrides: Sequence[Override]) -> str:
    partners = [
        f"swap #{o.id} with {o.b if o.a == member else o.a}"
        for o in sorted(overrides, key=lambda o: o.id)
        if o.id in seg.swaps and o.covers(seg.start) and member in (o.a, o.b)
    ]
    if partners:
        return ", ".join(dict.fromkeys(partners))
    if seg.holiday:
        return f"{seg.holiday} exchange"
    return f"rotation week {seg.cycle_week}"


def shifts(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    member: str,
    now: datetime,
    overrides: Sequence[Override] = (),
    conflicts: Sequence[Conflict] = (),
    weeks: int = HORIZON_WEEKS,
) -> list[Shift]:
    """`member`'s shifts that have not ended by `now`, within `weeks` rotation weeks counting
    the current one, in order. Consecutive segments in which they keep the same role for the
    same reason are one shift (a shift that is under way keeps its real start). Each shift
    carries the conflicts (their PTO, a company holiday) of `member` that fall inside it and
    are not over yet."""
    start, end = horizon(cfg, now, weeks)
    out: list[Shift] = []
    for seg in segments(cfg, calendar, start, end, list(overrides)):
        if seg.end <= now:
            continue
        role = "Primary" if seg.primary == member else "Backup" if seg.backup == member else None
        if role is None:
            continue
        reason = reason_for(seg, member, overrides)
        last = out[-1] if out else None
        if last and last.end == seg.start and last.role == role and last.reason == reason:
            out[-1] = last.model_copy(update={"end": seg.end})
        else:
            out.append(Shift(member=member, role=role, start=seg.start, end=seg.end, reason=reason))
    return [
        s.model_copy(
            update={
                "conflicts": tuple(
                    c
                    for c in sorted(conflicts, key=lambda c: (c.start, c.reason))
                    if c.member == member and c.end > now and c.start < s.end and s.start < c.end
                )
            }
        )
        for s in out
    ]
