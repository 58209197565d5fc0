"""Table tests for bot/domain/presence.py: the stretches the groups and the topic follow, and
which shift notices are due when. Expected values are read off the policy by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.presence import (
    due_shift_notices,
    group_members,
    stretch_at,
    stretches,
    topic,
)
from bot.domain.schedule import BeforeRotation, Override
from tests.conftest import ist

# Swap #4: CW takes AM's Primary on Wed 22 Oct 2025.
SWAP = Override(id=4, start=ist("2025-10-22 00:00"), end=ist("2025-10-23 00:00"), a="AM", b="CW")


@pytest.fixture
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


@pytest.mark.parametrize(
    ("at", "swaps", "primary", "backup", "since", "until"),
    [
        # Rotation week 2 (the rotation starts Mon 25 Aug 2025 09:00).
        ("2025-09-03 12:00", [], "PR", "CW", "2025-09-01 09:00", "2025-09-08 09:00"),
        # Diwali, Monday 20 Oct: the outgoing pair exchanges at 00:00...
        ("2025-10-20 08:59", [], "PR", "SK", "2025-10-20 00:00", "2025-10-20 09:00"),
        # ...and the new week's pair takes over at 09:00, still exchanged, to midnight.
        ("2025-10-20 09:00", [], "PR", "AM", "2025-10-20 09:00", "2025-10-21 00:00"),
        # Without the swap the week's own pair runs to the next handover...
        ("2025-10-21 10:00", [], "AM", "PR", "2025-10-21 00:00", "2025-10-27 09:00"),
        # ...with it, only until the swap starts; then CW holds Primary for the day.
        ("2025-10-21 10:00", [SWAP], "AM", "PR", "2025-10-21 00:00", "2025-10-22 00:00"),
        ("2025-10-22 10:00", [SWAP], "CW", "PR", "2025-10-22 00:00", "2025-10-23 00:00"),
        ("2025-10-23 00:00", [SWAP], "AM", "PR", "2025-10-23 00:00", "2025-10-27 09:00"),
    ],
)
def test_the_stretch_in_force_and_when_it_ends(
    config: TeamConfig,
    cal: HolidayCalendar,
    at: str,
    swaps: list[Override],
    primary: str,
    backup: str,
    since: str,
    until: str,
) -> None:
    got = stretch_at(config, cal, ist(at), swaps)
    assert (got.primary, got.backup) == (primary, backup)
    assert (got.start, got.end) == (ist(since), ist(until))


def test_a_handover_to_the_same_pair_is_no_change(config: TeamConfig) -> None:
    # A two-row rotation whose rows name the same pair: the groups never change.
    rows = [config.rotation.weeks[0], config.rotation.weeks[0]]
    cfg = config.model_copy(update={"rotation": config.rotation.model_copy(update={"weeks": rows})})
    cal = HolidayCalendar(config.policy.holidays.model_copy(update={"critical": []}))
    start = ist("2025-09-01 09:00")
    [only] = stretches(cfg, cal, start, start + timedelta(weeks=3))
    assert only.end >= start + timedelta(weeks=3)


def test_before_the_rotation_there_is_no_stretch(config: TeamConfig, cal: HolidayCalendar) -> None:
    with pytest.raises(BeforeRotation):
        stretch_at(config, cal, ist("2025-08-25 08:59"))


def test_groups_and_topic(config: TeamConfig, cal: HolidayCalendar) -> None:
    s = stretch_at(config, cal, ist("2025-10-22 10:00"), [SWAP])
    assert group_members(config, s, primary_only=False) == ["U0CHENWU03", "U0PRRAO002"]
    assert group_members(config, s, primary_only=True) == ["U0CHENWU03"]
    assert topic(config, s) == (
        "On call: Primary Chen Wu · Backup Priya Rao · until Thu 23 Oct 2025, 00:00 IST"
    )


def _due(config: TeamConfig, cal: HolidayCalendar, at: datetime) -> list[tuple[str, str, str]]:
    return [
        (n.shift.member, n.shift.role, n.when)
        for n in due_shift_notices(config, cal, at, [SWAP], timedelta(hours=24))
    ]


@pytest.mark.parametrize(
    ("at", "due"),
    [
        # Exactly 24 h before the Diwali exchange: its two roles are told.
        ("2025-10-19 00:00", [("PR", "Primary", "ahead"), ("SK", "Backup", "ahead")]),
        # A minute before 24 h: nothing yet (AM's 09:00 Backup is 33 h away).
        ("2025-10-18 23:59", []),
        # 24 h before the swap: CW; AM is told too, 24 h before taking Primary back.
        (
            "2025-10-21 00:00",
            [("AM", "Primary", "start"), ("PR", "Backup", "start"), ("CW", "Primary", "ahead")],
        ),
        # Within the hour after a start: still told; after it, not (they are on already).
        ("2025-10-22 00:59", [("CW", "Primary", "start")]),
        ("2025-10-22 01:00", []),
    ],
)
def test_which_shift_notices_are_due(
    config: TeamConfig, cal: HolidayCalendar, at: str, due: list[tuple[str, str, str]]
) -> None:
    got = _due(config, cal, ist(at))
    for item in due:
        assert item in got, got
    # Nothing else is due then but the ones listed and the ahead notices of roles that
    # start within 24 h, each of which starts within 24 h.
    for n in due_shift_notices(config, cal, ist(at), [SWAP], timedelta(hours=24)):
        assert n.shift.start <= ist(at) + timedelta(hours=24)
        if n.when == "start":
            assert n.shift.start <= ist(at) < n.shift.start + timedelta(hours=1)
    if not due:
        assert [g for g in got if g[2] == "start"] == []
