"""The schedule as the app sees it: the pure engine plus swaps read from wherever they live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.config.models import Pipeline, TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.schedule import (
    Override,
    Rung,
    Segment,
    WeekView,
    ladder,
    resolve,
    week_bounds,
    week_start,
    week_views,
)

OverrideSource = Callable[[datetime, datetime], Awaitable[list[Override]]]
# Warnings to show under the weeks they fall in (e.g. on call during PTO): (when, line).
FlagSource = Callable[[datetime, datetime], Awaitable[list[tuple[datetime, str]]]]


async def _no_overrides(start: datetime, end: datetime) -> list[Override]:
    return []


class ScheduleService:
    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        overrides: OverrideSource = _no_overrides,
        flags: FlagSource | None = None,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.overrides = overrides
        self.flags = flags

    async def _around(self, at: datetime) -> list[Override]:
        week, _ = week_start(self.config, at)
        start, _ = week_bounds(self.config, week)
        return await self.overrides(start, week_bounds(self.config, week + 1)[1])

    async def resolve(self, at: datetime) -> Segment:
        return resolve(self.config, self.calendar, at, await self._around(at))

    async def ladder(self, at: datetime, pipeline: Pipeline | None) -> tuple[Segment, list[Rung]]:
        seg = await self.resolve(at)
        return seg, ladder(self.config, seg, pipeline)

    async def weeks(self, at: datetime, count: int) -> list[WeekView]:
        """`count` rotation weeks starting with the one containing `at`; raises
        BeforeRotation."""
        first_week, start = week_start(self.config, at)
        end = week_bounds(self.config, first_week + count)[0]
        views = week_views(
            self.config, self.calendar, first_week, count, await self.overrides(start, end)
        )
        if self.flags is None:
            return views
        flags = await self.flags(start, end)
        return [
            w.model_copy(
                update={
                    "annotations": w.annotations
                    + tuple(line for at, line in flags if w.start <= at < w.end)
                }
            )
            for w in views
        ]
