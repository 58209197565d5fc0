"""Table tests of the schedule engine: rotation weeks, boundaries, holidays, the cycle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.schedule import (
    BeforeRotation,
    LadderRole,
    Override,
    ladder,
    resolve,
    week_views,
)
from tests.conftest import ist


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


@pytest.mark.parametrize(
    ("at", "primary", "backup", "cycle_week"),
    [
        # The policy's 8-week table, mid-week.
        ("2025-08-27 12:00", "AM", "PR", 1),
        ("2025-09-03 12:00", "PR", "CW", 2),
        ("2025-09-10 12:00", "CW", "SK", 3),
        ("2025-09-17 12:00", "SK", "AM", 4),
        ("2025-09-24 12:00", "AM", "CW", 5),
        ("2025-10-01 12:00", "PR", "SK", 6),
        ("2025-10-08 12:00", "CW", "AM", 7),
        ("2025-10-15 12:00", "SK", "PR", 8),
        # Boundaries: exactly 09:00 Monday belongs to the new week; 08:59 to the old.
        ("2025-08-25 09:00", "AM", "PR", 1),
        ("2025-09-01 08:59", "AM", "PR", 1),
        ("2025-09-01 09:00", "PR", "CW", 2),
        ("2025-09-08 08:59:59", "PR", "CW", 2),
        # The cycle repeats: week 9 = week 1, week 10 = week 2.
        ("2025-10-22 12:00", "AM", "PR", 1),
        ("2025-10-29 12:00", "PR", "CW", 2),
        # Far future: 2031-06-04 is Wed of absolute week 301 → 301 % 8 = 5 → row 6.
        ("2031-06-04 12:00", "PR", "SK", 6),
    ],
)
def test_rotation_table(
    config: TeamConfig, cal: HolidayCalendar, at: str, primary: str, backup: str, cycle_week: int
) -> None:
    seg = resolve(config, cal, ist(at))
    assert (seg.primary, seg.backup, seg.cycle_week) == (primary, backup, cycle_week)
    assert seg.holiday is None


@pytest.mark.parametrize(
    ("at", "primary", "backup", "holiday", "seg_start", "seg_end"),
    [
        # Diwali 2025 is Monday 2025-10-20: week 8 (SK/PR) until 09:00, week 1 (AM/PR) after;
        # each week's holders exchange for their part of the day.
        ("2025-10-20 00:00", "PR", "SK", "Diwali", "2025-10-20 00:00", "2025-10-20 09:00"),
        ("2025-10-20 08:59", "PR", "SK", "Diwali", "2025-10-20 00:00", "2025-10-20 09:00"),
        ("2025-10-20 09:00", "PR", "AM", "Diwali", "2025-10-20 09:00", "2025-10-21 00:00"),
        ("2025-10-20 23:59", "PR", "AM", "Diwali", "2025-10-20 09:00", "2025-10-21 00:00"),
        ("2025-10-21 00:00", "AM", "PR", None, "2025-10-21 00:00", "2025-10-27 09:00"),
        ("2025-10-19 23:59", "SK", "PR", None, "2025-10-13 09:00", "2025-10-20 00:00"),
        # Holi 2026 (Wednesday 2026-03-04), week 4 (SK/AM).
        ("2026-03-04 12:00", "AM", "SK", "Holi", "2026-03-04 00:00", "2026-03-05 00:00"),
        # Republic Day 2026 is a Monday too: absolute week 21 (row 6, PR/SK) until 09:00,
        # week 22 (row 7, CW/AM) after; each pair exchanges.
        ("2026-01-26 08:00", "SK", "PR", "Republic Day", "2026-01-26 00:00", "2026-01-26 09:00"),
        ("2026-01-26 10:00", "AM", "CW", "Republic Day", "2026-01-26 09:00", "2026-01-27 00:00"),
        # Independence Day 2026 (Saturday) in week 50 (row 3, CW/SK).
        (
            "2026-08-15 12:00",
            "SK",
            "CW",
            "Independence Day",
            "2026-08-15 00:00",
            "2026-08-16 00:00",
        ),
    ],
)
def test_critical_holiday_exchange(
    config: TeamConfig,
    cal: HolidayCalendar,
    at: str,
    primary: str,
    backup: str,
    holiday: str | None,
    seg_start: str,
    seg_end: str,
) -> None:
    seg = resolve(config, cal, ist(at))
    assert (seg.primary, seg.backup, seg.holiday) == (primary, backup, holiday)
    assert (seg.start, seg.end) == (ist(seg_start), ist(seg_end))


def test_non_critical_holiday_changes_nothing(config: TeamConfig, cal: HolidayCalendar) -> None:
    # 2025-09-05 is the Prophet's Birthday: a company holiday, not a critical one.
    seg = resolve(config, cal, ist("2025-09-05 12:00"))
    assert (seg.primary, seg.backup, seg.holiday) == ("PR", "CW", None)


def test_two_name_date_matches_either_name(config: TeamConfig) -> None:
    # The library names 2025-10-02 "Dussehra; Mahatma Gandhi's Birthday".
    policy = config.policy.holidays.model_copy(update={"critical": ["Mahatma Gandhi's Birthday"]})
    cal = HolidayCalendar(policy)
    seg = resolve(config, cal, ist("2025-10-02 12:00"))
    assert seg.holiday == "Mahatma Gandhi's Birthday"
    assert (seg.primary, seg.backup) == ("SK", "PR")  # week 6 is PR/SK, exchanged
    dussehra = HolidayCalendar(config.policy.holidays.model_copy(update={"critical": ["dussehra"]}))
    assert resolve(config, dussehra, ist("2025-10-02 12:00")).holiday == "dussehra"


def test_extra_company_holiday_can_be_critical(config: TeamConfig) -> None:
    data = config.policy.holidays.model_dump()
    data.update(extra=[{"date": "2025-09-10", "name": "Company Day"}], critical=["Company Day"])
    cal = HolidayCalendar(type(config.policy.holidays).model_validate(data))
    assert resolve(config, cal, ist("2025-09-10 12:00")).primary == "SK"


def test_before_the_start(config: TeamConfig, cal: HolidayCalendar) -> None:
    with pytest.raises(BeforeRotation, match="no rotation defined before Mon 25 Aug 2025, 09:00"):
        resolve(config, cal, ist("2025-08-25 08:59"))


def test_other_zone_input(config: TeamConfig, cal: HolidayCalendar) -> None:
    # 03:30 UTC is 09:00 IST: the new week.
    seg = resolve(config, cal, datetime(2025, 9, 1, 3, 30, tzinfo=UTC))
    assert seg.primary == "PR"


def test_cost_does_not_grow_with_distance(config: TeamConfig, cal: HolidayCalendar) -> None:
    # 500 years out still resolves (a week-by-week loop would be 26,000 iterations deep).
    seg = resolve(config, cal, ist("2525-06-04 12:00"))
    assert seg.week == (ist("2525-06-04 12:00") - ist("2025-08-25 09:00")).days // 7 == 26077
    assert seg.cycle_week == 26077 % 8 + 1


@pytest.mark.parametrize(
    ("pipeline", "at", "expected"),
    [
        # Week 2 PR/CW; growth-agg owners CW (primary) / SK (secondary): IC = SK, lead = AM.
        ("growth-agg", "2025-09-03 12:00", ["PR", "CW", "SK", "AM"]),
        # Week 2; profit-agg owners AM/PR: secondary PR is Primary → no IC (the policy's "if
        # not already paged"); both free engineers lead, AM and SK.
        ("profit-agg", "2025-09-03 12:00", ["PR", "CW", "AM", "SK"]),
        # Week 1 AM/PR; profit-agg secondary PR is Backup → no IC; CW and SK lead.
        ("profit-agg", "2025-08-27 12:00", ["AM", "PR", "CW", "SK"]),
        # Week 8 SK/PR; engagement-agg owners PR/AM: IC = AM, lead = CW.
        ("engagement-agg", "2025-10-15 12:00", ["SK", "PR", "AM", "CW"]),
    ],
)
def test_ladder(
    config: TeamConfig, cal: HolidayCalendar, pipeline: str, at: str, expected: list[str]
) -> None:
    rungs = ladder(config, resolve(config, cal, ist(at)), config.pipeline(pipeline))
    assert [r.member for r in rungs] == expected
    assert rungs[0].role is LadderRole.PRIMARY and rungs[-1].role is LadderRole.LEAD


def test_lead_preference_overrides_roster_order(config: TeamConfig, cal: HolidayCalendar) -> None:
    esc = config.policy.escalation.model_copy(update={"lead_preference": ["SK", "CW", "AM", "PR"]})
    cfg = config.model_copy(update={"policy": config.policy.model_copy(update={"escalation": esc})})
    rungs = ladder(cfg, resolve(cfg, cal, ist("2025-08-27 12:00")), cfg.pipeline("profit-agg"))
    assert rungs[-1].member == "SK"


def test_week_views_annotate_in_policy_notation(config: TeamConfig, cal: HolidayCalendar) -> None:
    weeks = week_views(config, cal, 7, 2)
    assert [w.cycle_week for w in weeks] == [8, 1]
    assert weeks[0].annotations == ("2025-10-20 (Diwali): PR⇄SK",)
    assert weeks[1].annotations == ("2025-10-20 (Diwali): PR⇄AM",)


def test_override_exchanges_roles_and_is_annotated(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    swap = Override(
        id=12, start=ist("2025-09-03 00:00"), end=ist("2025-09-04 00:00"), a="PR", b="CW"
    )
    seg = resolve(config, cal, ist("2025-09-03 12:00"), [swap])
    assert (seg.primary, seg.backup, seg.swaps) == ("CW", "PR", (12,))
    assert (seg.start, seg.end) == (ist("2025-09-03 00:00"), ist("2025-09-04 00:00"))
    weeks = week_views(config, cal, 1, 1, [swap])
    assert weeks[0].annotations == ("2025-09-03: CW⇄PR (swap #12)",)


def test_override_to_off_duty_member(config: TeamConfig, cal: HolidayCalendar) -> None:
    swap = Override(
        id=3, start=ist("2025-09-03 09:00"), end=ist("2025-09-03 18:00"), a="PR", b="SK"
    )
    seg = resolve(config, cal, ist("2025-09-03 12:00"), [swap])
    assert (seg.primary, seg.backup) == ("SK", "CW")
    assert resolve(config, cal, ist("2025-09-03 18:00"), [swap]).primary == "PR"
