"""Last week's numbers for the Monday handover digest (bot/domain/handover.py): pages by
pipeline, pages outside business hours per person, time to ACK, escalations past the Backup.

Pure: the window and the incidents are arguments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from math import ceil

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Incident, Mode

# The rungs that are "past the Backup" for the weekly numbers: anything else on the ladder.
_FIRST_RUNGS = frozenset({"primary", "backup"})


class WeekStats(BaseModel):
    """Last week's numbers, over [start, end)."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    # Incidents that paged (not channel notifications), opened in the window, by pipeline
    # slug: every configured pipeline in configuration order (0 included, so a quiet
    # pipeline reads as quiet rather than missing), then any slug no longer configured.
    pages_by_pipeline: dict[str, int] = Field(default_factory=dict)
    # Pages (a person reached on a rung) outside business hours, by initials, most first.
    outside_hours: dict[str, int] = Field(default_factory=dict)
    acked: int = 0
    unacked: int = 0  # paged in the window and never ACKed (resolved without, or still open)
    tta_p50: timedelta | None = None
    tta_max: timedelta | None = None
    # Incidents that paged someone past the Backup (commander, lead) within the window.
    past_backup: list[str] = Field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(self.pages_by_pipeline.values())


def _p50(values: list[timedelta]) -> timedelta:
    # Nearest rank: the median is a time somebody actually took to ACK, never an average
    # of two; with few pages a week an interpolated value would describe nobody.
    ordered = sorted(values)
    return ordered[ceil(len(ordered) / 2) - 1]


def last_week_stats(
    incidents: Sequence[Incident],
    start: datetime,
    end: datetime,
    cfg: TeamConfig,
    calendar: HolidayCalendar,
) -> WeekStats:
    """Pages by pipeline, out-of-hours pages per person, time to ACK (p50 and max) and
    escalations past the Backup, for [start, end).

    `incidents` may hold anything at hand (open ones, older ones, duplicates by id): each
    figure picks what falls in the window. An incident counts as a page of the week it was
    opened in; a person's out-of-hours page and a past-the-Backup page count in the week
    they happened, even for an incident opened earlier. A person Slack could not reach was
    not woken, so their page is not counted against the hours.
    """
    unique = list({inc.id: inc for inc in incidents}.values())
    paged = [inc for inc in unique if inc.mode is Mode.PAGE and start <= inc.opened_at < end]
    by_pipeline = {p.slug: 0 for p in cfg.pipelines}
    for inc in sorted(paged, key=lambda i: i.opened_at):
        by_pipeline[inc.pipeline] = by_pipeline.get(inc.pipeline, 0) + 1

    hours = cfg.policy.business_hours
    outside: Counter[str] = Counter()
    past: list[tuple[datetime, str]] = []
    for inc in unique:
        in_window = [p for p in inc.paged if start <= p.at < end]
        for p in in_window:
            reached = p.member not in inc.unreachable
            if reached and not calendar.in_business_hours(p.at.astimezone(cfg.zone), hours):
                outside[p.member] += 1
        beyond = [
            p.at
            for p in in_window
            if 0 <= p.level < len(inc.rungs) and inc.rungs[p.level] not in _FIRST_RUNGS
        ]
        if beyond:
            past.append((min(beyond), inc.id))

    ttas = [inc.acked_at - inc.opened_at for inc in paged if inc.acked_at is not None]
    return WeekStats(
        start=start,
        end=end,
        pages_by_pipeline=by_pipeline,
        outside_hours=dict(sorted(outside.items(), key=lambda kv: (-kv[1], kv[0]))),
        acked=len(ttas),
        unacked=len(paged) - len(ttas),
        tta_p50=_p50(ttas) if ttas else None,
        tta_max=max(ttas) if ttas else None,
        past_backup=[inc_id for _, inc_id in sorted(past)],
    )
