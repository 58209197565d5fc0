"""Table tests of business-day arithmetic against the team's real holiday calendar (IN)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import TeamConfig
from bot.config.models import BusinessHours, Weekday
from bot.domain.business_days import (
    add_business_days,
    business_days_between,
    end_of_day,
    is_business_day,
)
from bot.domain.calendar import HolidayCalendar
from tests.conftest import IST


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_diwali_2025_is_the_only_holiday_of_its_week(cal: HolidayCalendar) -> None:
    # The policy lists Diwali as critical; the library dates it Monday 2025-10-20. The RCA
    # examples below rely on it being the only company holiday of that week.
    assert cal.critical(d("2025-10-20")) == "Diwali"
    assert [cal.company_holiday(d(f"2025-10-{n}")) for n in range(20, 25)] == [
        "Diwali",
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-10-17", True),  # Friday
        ("2025-10-18", False),  # Saturday
        ("2025-10-19", False),  # Sunday
        ("2025-10-20", False),  # Monday, Diwali
        ("2025-10-21", True),
        ("2025-10-02", False),  # Thursday, Dussehra and Gandhi Jayanti
        ("2025-11-05", False),  # Wednesday, Guru Nanak's Birthday
        ("2025-12-25", False),  # Thursday, Christmas
        ("2026-01-26", False),  # Monday, Republic Day
        ("2026-01-27", True),
    ],
)
def test_is_business_day(cal: HolidayCalendar, day: str, expected: bool) -> None:
    assert is_business_day(d(day), cal) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Friday + 5 skips the weekend and Diwali: Tue 21, Wed, Thu, Fri 24, Mon 27.
        ("2025-10-17", 5, "2025-10-27"),
        ("2025-10-17", 1, "2025-10-21"),
        # From a Saturday or from the holiday itself: the same count as from the Friday.
        ("2025-10-18", 5, "2025-10-27"),
        ("2025-10-20", 5, "2025-10-27"),
        # Gandhi Jayanti (Thu 2025-10-02) inside the window.
        ("2025-09-26", 5, "2025-10-06"),
        ("2025-09-29", 5, "2025-10-07"),
        # Christmas.
        ("2025-12-22", 5, "2025-12-30"),
        ("2025-12-24", 1, "2025-12-26"),
        # n == 0 does not move, even off a business day.
        ("2025-10-17", 0, "2025-10-17"),
        ("2025-10-19", 0, "2025-10-19"),
        # Backwards: reminders two business days before the due day.
        ("2025-10-27", -2, "2025-10-23"),
        ("2025-10-21", -1, "2025-10-17"),
        ("2025-10-06", -3, "2025-09-30"),
    ],
)
def test_add_business_days(cal: HolidayCalendar, start: str, n: int, expected: str) -> None:
    assert add_business_days(d(start), n, cal) == d(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2025-10-17", "2025-10-27", 5),
        ("2025-10-27", "2025-10-17", -5),
        ("2025-10-17", "2025-10-17", 0),
        ("2025-10-17", "2025-10-20", 0),  # (Fri, Mon-Diwali]: nothing
        ("2025-10-18", "2025-10-21", 1),
        ("2025-10-27", "2025-11-06", 7),  # Guru Nanak's Birthday (Wed 5 Nov) does not count
    ],
)
def test_business_days_between(cal: HolidayCalendar, a: str, b: str, expected: int) -> None:
    assert business_days_between(d(a), d(b), cal) == expected


@pytest.mark.parametrize("start", ["2025-09-26", "2025-10-17", "2025-10-18", "2025-12-20"])
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_between_inverts_add(cal: HolidayCalendar, start: str, n: int) -> None:
    assert business_days_between(d(start), add_business_days(d(start), n, cal), cal) == n


def test_working_week_follows_business_hours(cal: HolidayCalendar) -> None:
    sun_to_thu = BusinessHours(
        days=[Weekday.SUNDAY, Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY]
    )
    # Fri 17 → Sun 19, (Mon 20 Diwali), Tue 21, Wed 22, Thu 23, Sun 26.
    assert add_business_days(d("2025-10-17"), 5, cal, sun_to_thu) == d("2025-10-26")
    assert is_business_day(d("2025-10-24"), cal, sun_to_thu) is False


def test_no_business_day_at_all_is_an_error_not_a_hang(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="no business day"):
        add_business_days(d("2025-10-17"), 1, cal, BusinessHours(days=[]))


@pytest.mark.parametrize(
    ("day", "zone", "utc"),
    [
        ("2025-10-27", "Asia/Kolkata", "2025-10-27T18:29:59.999999"),
        ("2025-10-27", "UTC", "2025-10-27T23:59:59.999999"),
        # The night Chile's clocks skip midnight (00:00 → 01:00 on 2025-09-07).
        ("2025-09-06", "America/Santiago", "2025-09-07T03:59:59.999999"),
    ],
)
def test_end_of_day(day: str, zone: str, utc: str) -> None:
    tz = ZoneInfo(zone)
    end = end_of_day(d(day), tz)
    assert end.astimezone(UTC) == datetime.fromisoformat(utc).replace(tzinfo=UTC)
    # Still the day itself in the zone; the next microsecond is the next day.
    assert end.astimezone(tz).date() == d(day)
    assert (end + timedelta(microseconds=1)).astimezone(tz).date() == d(day) + timedelta(days=1)


def test_end_of_day_is_inclusive() -> None:
    end = end_of_day(d("2025-10-27"), IST)
    assert datetime(2025, 10, 27, 23, 59, 59, tzinfo=IST) <= end
    assert datetime(2025, 10, 28, 0, 0, tzinfo=IST) > end
