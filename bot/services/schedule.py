"""The schedule as the app sees it: the pure engine plus swaps read from wherever they live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import TypeVar, cast

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

T = TypeVar("T")
# Answers kept per segment at most (per_segment): one per minute and question.
DRAWN_MAX = 256

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
        # The last segment resolved and the swaps it was resolved with: every `/oncall now`
        # and page in a segment asks the same question (issue #14), and the answer changes
        # only at the segment's edges or when the swaps do (compared on each call).
        self._last: tuple[list[Override], Segment] | None = None
        # That segment's start and end as POSIX seconds: comparing floats, not zone-aware
        # datetimes, on every request (issue #14).
        self._last_span = (0.0, 0.0)
        # The last rotation week asked about: (its start, its end, the next week's end),
        # and its start and end as POSIX seconds.
        self._window: tuple[datetime, datetime, datetime] | None = None
        self._window_span = (0.0, 0.0)
        # Ladders of that segment by pipeline, and answers drawn from it (per_segment);
        # dropped with it.
        self._ladders: dict[str | None, list[Rung]] = {}
        self._drawn: dict[Hashable, object] = {}

    async def _around(self, at: datetime, ts: float) -> list[Override]:
        """The swaps that can touch `at`'s rotation week (`ts` in POSIX seconds): those
        overlapping it or the next."""
        window = self._window
        if window is None or not self._window_span[0] <= ts < self._window_span[1]:
            week, start = week_start(self.config, at)
            window = (
                start,
                week_bounds(self.config, week)[1],
                week_bounds(self.config, week + 1)[1],
            )
            self._window = window
            self._window_span = (window[0].timestamp(), window[1].timestamp())
        return await self.overrides(window[0], window[2])

    async def resolve(self, at: datetime) -> Segment:
        ts = at.timestamp()
        overrides = await self._around(at, ts)
        last = self._last
        span = self._last_span
        if last is not None and span[0] <= ts < span[1] and last[0] == overrides:
            return last[1]
        seg = resolve(self.config, self.calendar, at, overrides)
        self._last = (overrides, seg)
        self._last_span = (seg.start.timestamp(), seg.end.timestamp())
        self._ladders, self._drawn = {}, {}
        return seg

    async def ladder(self, at: datetime, pipeline: Pipeline | None) -> tuple[Segment, list[Rung]]:
        seg = await self.resolve(at)
        key = pipeline.slug if pipeline else None
        rungs = self._ladders.get(key)
        if rungs is None or self._last is None or self._last[1] is not seg:
            rungs = ladder(self.config, seg, pipeline)
            if self._last is not None and self._last[1] is seg:
                self._ladders[key] = rungs
        # A copy: callers may extend their ladder without touching the cached one.
        return seg, list(rungs)

    def per_segment(self, seg: Segment, key: Hashable, draw: Callable[[], T]) -> T:
        """`draw()`, remembered while `seg` is the segment last resolved: an answer that
        depends only on the segment (and `key`) is drawn once per segment, not per request."""
        if self._last is None or self._last[1] is not seg:
            return draw()
        if key not in self._drawn:
            if len(self._drawn) >= DRAWN_MAX:
                self._drawn.clear()  # a long segment asked about minute after minute
            self._drawn[key] = draw()
        return cast(T, self._drawn[key])

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
