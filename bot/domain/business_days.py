"""Business-day arithmetic for deadlines counted in working days (RCAs: "due within 5
business days").

A business day is one of the team's working weekdays (Monday–Friday unless
`[business_hours] days` says otherwise) that is not a company holiday of the HolidayCalendar.
The definition is the calendar's own (`HolidayCalendar.is_business_day`), so a deadline and
the business-hours notification window can never disagree about what a working day is.

Pure: dates and zones are arguments, the clock is never read.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from bot.config.models import BusinessHours
from bot.domain.calendar import HolidayCalendar

# The policy's plain reading when no [business_hours] is at hand: Mon–Fri, holidays off.
WEEKDAYS = BusinessHours()

# A calendar with no business day in a year is misconfigured; without a bound a loop looking
# for the next working day would never end.
_SEARCH_LIMIT = 366


def is_business_day(
    day: date, calendar: HolidayCalendar, hours: BusinessHours | None = None
) -> bool:
    return calendar.is_business_day(day, hours or WEEKDAYS)


def add_business_days(
    start: date, n: int, calendar: HolidayCalendar, hours: BusinessHours | None = None
) -> date:
    """The n-th business day strictly after `start` (n < 0: the |n|-th strictly before it;
    n == 0: `start` itself, business day or not).

    `start` need not be a business day: an incident resolved on a Saturday is due on the
    5th business day after that Saturday, exactly as one resolved on the Friday before.
    """
    step = 1 if n > 0 else -1
    day, left, idle = start, abs(n), 0
    while left > 0:
        day += timedelta(days=step)
        if is_business_day(day, calendar, hours):
            left -= 1
            idle = 0
        else:
            idle += 1
            if idle > _SEARCH_LIMIT:
                raise ValueError("no business day within a year: check [business_hours]")
    return day


def business_days_between(
    a: date, b: date, calendar: HolidayCalendar, hours: BusinessHours | None = None
) -> int:
    """How many business days lie in (a, b]: the inverse of add_business_days, so
    `business_days_between(d, add_business_days(d, n), cal) == n`. Negative when b < a
    (the business days in (b, a], counted down). "Overdue by 3 business days" reads this.
    """
    if b < a:
        return -business_days_between(b, a, calendar, hours)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        if is_business_day(day, calendar, hours):
            count += 1
    return count


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last instant of `day` in `zone`: 23:59:59.999999 local time, aware.

    Chosen over the next midnight because a deadline is inclusive — "due Mon 27 Oct" means
    work posted at any moment of that Monday is on time, and `now > end_of_day(...)` is
    exactly "overdue". The instant also still lies on `day` when shown in the zone
    (23:59, never "Tue 00:00"), and 23:59 is outside every daylight-saving gap, while
    midnight is skipped in a few zones on the night the clocks change.
    """
    return datetime.combine(day, time.max, tzinfo=zone)
