"""Company holidays, critical holidays, business hours and business-day arithmetic.

Pure: the `holidays` package is a data library (no I/O, no clock), so it belongs here.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.config.models import BusinessHours, HolidayPolicy


def _split(name: str) -> list[str]:
    # The library joins two holidays on one date: "Dussehra; Mahatma Gandhi's Birthday".
    return [part.strip() for part in name.split(";") if part.strip()]


class HolidayCalendar:
    """Answers "is this calendar date a company holiday, and is it a critical one?"."""

    def __init__(self, policy: HolidayPolicy) -> None:
        self._policy = policy
        self._critical = {name.casefold(): name for name in policy.critical}
        self._extra: dict[date, list[str]] = {}
        self._unknown: dict[int, list[str]] = {}
        for extra in policy.extra:
            self._extra.setdefault(extra.date, []).append(extra.name)
        # The library's country table is built on first use: importing it loads every
        # country's module (150 ms, a third of `serve`'s start-up, issue #14); `serve` warms
        # it on a thread once it listens. Locked: the escalation thread may ask first.
        self._lib_built: Any = None
        self._lib_lock = threading.Lock()

    @property
    def _lib(self) -> Any:
        if self._lib_built is None:
            with self._lib_lock:
                if self._lib_built is None:
                    import holidays as holidays_lib

                    self._lib_built = holidays_lib.country_holidays(
                        self._policy.country,
                        subdiv=self._policy.subdivision,
                        categories=tuple(self._policy.categories),
                    )
        return self._lib_built

    def warm(self) -> None:
        """Load the holiday library now rather than on the first question."""
        _ = self._lib

    def names(self, day: date) -> list[str]:
        found = list(self._extra.get(day, []))
        lib_name = self._lib.get(day)
        if lib_name:
            found.extend(_split(str(lib_name)))
        return found

    def company_holiday(self, day: date) -> str | None:
        names = self.names(day)
        return "; ".join(names) if names else None

    def critical(self, day: date) -> str | None:
        """The critical holiday on `day` (any of its names may match), in the policy's spelling."""
        return _critical_cached(self, day)

    def _critical_uncached(self, day: date) -> str | None:
        for name in self.names(day):
            match = self._critical.get(name.casefold())
            if match:
                return match
        return None

    def unknown_critical(self, year: int) -> list[str]:
        """Critical holidays the library gives no date for in `year` (lunar holidays such as
        Holi and Diwali are tabulated only so far ahead): the exchange cannot happen then."""
        if year not in self._unknown:
            self._unknown[year] = self._unknown_uncached(year)
        return self._unknown[year]

    def _unknown_uncached(self, year: int) -> list[str]:
        seen = {name.casefold() for day, raw in self._lib_year(year) for name in _split(str(raw))}
        seen |= {n.casefold() for d, names in self._extra.items() if d.year == year for n in names}
        return [name for key, name in self._critical.items() if key not in seen]

    def _lib_year(self, year: int) -> list[tuple[date, Any]]:
        import warnings

        import holidays as holidays_lib

        with warnings.catch_warnings():
            # The library warns (once per call) past the years it knows; we report that.
            warnings.simplefilter("ignore")
            lib: Any = holidays_lib.country_holidays(
                self._policy.country,
                subdiv=self._policy.subdivision,
                categories=tuple(self._policy.categories),
                years=[year],
            )
        return list(lib.items())

    def critical_between(self, first: date, last: date) -> list[tuple[date, str]]:
        """Critical holidays on the dates first..last inclusive."""
        out = []
        day = first
        while day <= last:
            name = self.critical(day)
            if name:
                out.append((day, name))
            day += timedelta(days=1)
        return out

    def is_business_day(self, day: date, hours: BusinessHours) -> bool:
        if day.weekday() not in {d.number for d in hours.days}:
            return False
        return not (hours.exclude_company_holidays and self.names(day))

    def in_business_hours(self, local: datetime, hours: BusinessHours) -> bool:
        """`local` must already be in the team's zone."""
        if not self.is_business_day(local.date(), hours):
            return False
        return hours.start <= local.time() < hours.end

    def next_business_window(
        self, local: datetime, hours: BusinessHours
    ) -> tuple[datetime, datetime]:
        """The business-hours window in force at `local` (in the team's zone), or the next
        one: (start, end). At most a year ahead; a calendar with no business day in a year
        is a configuration error."""
        day = local.date()
        for _ in range(366):
            if self.is_business_day(day, hours):
                start = datetime.combine(day, hours.start, tzinfo=local.tzinfo)
                end = datetime.combine(day, hours.end, tzinfo=local.tzinfo)
                if local < end:
                    return start, end
            day += timedelta(days=1)
        raise ValueError("no business day within a year: check [business_hours]")


@lru_cache(maxsize=4096)
def _critical_cached(cal: HolidayCalendar, day: date) -> str | None:
    return cal._critical_uncached(day)
