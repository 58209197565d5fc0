"""Table tests of one person's shifts: roles, windows, reasons, merging, conflicts."""

from __future__ import annotations

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import Conflict
from bot.domain.schedule import Override
from bot.domain.shifts import horizon, shifts
from tests.conftest import ist


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def ov(id_: int, start: str, end: str, a: str, b: str) -> Override:
    return Override(id=id_, start=ist(start), end=ist(end), a=a, b=b)


Row = tuple[str, str, str, str]  # role, start, end (IST), reason

CASES: list[tuple[str, str, str, list[Override], list[Row]]] = [
    (
        "rotation and a critical-holiday exchange merged across the week's handoff",
        "PR",
        "2025-09-03 12:00",
        [],
        [
            ("Primary", "2025-09-01 09:00", "2025-09-08 09:00", "rotation week 2"),
            ("Primary", "2025-09-29 09:00", "2025-10-06 09:00", "rotation week 6"),
            ("Backup", "2025-10-13 09:00", "2025-10-20 00:00", "rotation week 8"),
            # Diwali: 00:00–09:00 is week 8 and 09:00–24:00 week 9, one shift for one reason.
            ("Primary", "2025-10-20 00:00", "2025-10-21 00:00", "Diwali exchange"),
            ("Backup", "2025-10-21 00:00", "2025-10-27 09:00", "rotation week 1"),
        ],
    ),
    (
        "the other side of the Diwali exchange",
        "SK",
        "2025-10-14 12:00",
        [],
        [
            ("Primary", "2025-10-13 09:00", "2025-10-20 00:00", "rotation week 8"),
            ("Backup", "2025-10-20 00:00", "2025-10-20 09:00", "Diwali exchange"),
        ],
    ),
    (
        "a role exchange through a swap splits the week",
        "PR",
        "2025-09-02 12:00",
        [ov(4, "2025-09-03 00:00", "2025-09-04 00:00", "PR", "CW")],
        [
            ("Primary", "2025-09-01 09:00", "2025-09-03 00:00", "rotation week 2"),
            ("Backup", "2025-09-03 00:00", "2025-09-04 00:00", "swap #4 with CW"),
            ("Primary", "2025-09-04 00:00", "2025-09-08 09:00", "rotation week 2"),
        ],
    ),
    (
        "the counterpart sees the same swap from their side",
        "CW",
        "2025-09-02 12:00",
        [ov(4, "2025-09-03 00:00", "2025-09-04 00:00", "PR", "CW")],
        [
            ("Backup", "2025-09-01 09:00", "2025-09-03 00:00", "rotation week 2"),
            ("Primary", "2025-09-03 00:00", "2025-09-04 00:00", "swap #4 with PR"),
            ("Backup", "2025-09-04 00:00", "2025-09-08 09:00", "rotation week 2"),
            ("Primary", "2025-09-08 09:00", "2025-09-15 09:00", "rotation week 3"),
        ],
    ),
    (
        "someone off duty takes a role through a swap",
        "AM",
        "2025-09-02 12:00",
        [ov(7, "2025-09-05 00:00", "2025-09-06 00:00", "PR", "AM")],
        [("Primary", "2025-09-05 00:00", "2025-09-06 00:00", "swap #7 with PR")],
    ),
    (
        "segments cut by a swap that does not touch them are merged back",
        "PR",
        "2025-09-02 12:00",
        [ov(9, "2025-09-03 00:00", "2025-09-04 00:00", "AM", "SK")],
        [("Primary", "2025-09-01 09:00", "2025-09-08 09:00", "rotation week 2")],
    ),
    (
        "a shift that ended exactly now is not shown",
        "PR",
        "2025-09-08 09:00",
        [],
        [("Primary", "2025-09-29 09:00", "2025-10-06 09:00", "rotation week 6")],
    ),
    (
        "before the rotation starts: its first weeks",
        "PR",
        "2025-08-01 10:00",
        [],
        [
            ("Backup", "2025-08-25 09:00", "2025-09-01 09:00", "rotation week 1"),
            ("Primary", "2025-09-01 09:00", "2025-09-08 09:00", "rotation week 2"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("member", "now", "overrides", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_shifts_table(
    config: TeamConfig,
    cal: HolidayCalendar,
    member: str,
    now: str,
    overrides: list[Override],
    expected: list[Row],
) -> None:
    got = shifts(config, cal, member, ist(now), overrides)
    rows = [(s.role, s.start, s.end, s.reason) for s in got]
    want = [(role, ist(a), ist(b), why) for role, a, b, why in expected]
    assert rows[: len(want)] == want
    assert all(s.member == member and s.end > ist(now) for s in got)


def test_horizon_is_eight_rotation_weeks_from_the_current_one(config: TeamConfig) -> None:
    assert horizon(config, ist("2025-09-03 12:00")) == (
        ist("2025-09-01 09:00"),
        ist("2025-10-27 09:00"),
    )
    # Exactly at a handoff the new week is the first.
    assert horizon(config, ist("2025-09-08 09:00"))[0] == ist("2025-09-08 09:00")
    assert horizon(config, ist("2025-08-01 10:00"), 1) == (
        ist("2025-08-25 09:00"),
        ist("2025-09-01 09:00"),
    )


def test_nothing_after_the_horizon(config: TeamConfig, cal: HolidayCalendar) -> None:
    got = shifts(config, cal, "AM", ist("2025-09-03 12:00"))
    assert got[-1].start < ist("2025-10-27 09:00")
    assert [s.reason for s in got] == [
        "rotation week 4",
        "rotation week 5",
        "rotation week 7",
        "Diwali exchange",
        "rotation week 1",
    ]
    assert got[-1].end == ist("2025-10-27 09:00")


def test_ongoing(config: TeamConfig, cal: HolidayCalendar) -> None:
    first = shifts(config, cal, "PR", ist("2025-09-03 12:00"))[0]
    assert first.ongoing(ist("2025-09-03 12:00"))
    assert not first.ongoing(ist("2025-09-08 09:00"))


def _conflict(member: str, role: str, start: str, end: str, reason: str) -> Conflict:
    return Conflict(member=member, role=role, start=ist(start), end=ist(end), reason=reason)


def test_conflicts_are_attached_to_the_shift_they_fall_in(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    pto = _conflict("PR", "Primary", "2025-09-04 00:00", "2025-09-06 00:00", "PTO")
    holiday = _conflict("PR", "Primary", "2025-10-02 00:00", "2025-10-03 00:00", "Dussehra")
    over = _conflict("PR", "Primary", "2025-09-02 00:00", "2025-09-03 00:00", "PTO")
    someone_else = _conflict("CW", "Backup", "2025-09-04 00:00", "2025-09-05 00:00", "PTO")
    got = shifts(
        config, cal, "PR", ist("2025-09-03 12:00"), conflicts=[holiday, someone_else, over, pto]
    )
    assert [s.conflicts for s in got[:3]] == [(pto,), (holiday,), ()]
