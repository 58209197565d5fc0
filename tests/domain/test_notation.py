"""The notation names the people involved (issue #12, item 4): a handover to someone off
duty is `giver→taker`; `⇄` only where two people actually exchange roles."""

from __future__ import annotations

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import exchange_notes
from bot.domain.schedule import (
    Override,
    SwapChange,
    change_label,
    resolve,
    swap_note,
    week_views,
)
from bot.domain.swaps import Swap, SwapStatus
from tests.conftest import ist

# Rotation week 2 (2025-09-01 → 09-08): PR Primary, CW Backup; AM and SK off duty.
DAY = (ist("2025-09-03 00:00"), ist("2025-09-04 00:00"))


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def _ov(id_: int, a: str, b: str) -> Override:
    return Override(id=id_, start=DAY[0], end=DAY[1], a=a, b=b)


@pytest.mark.parametrize(
    ("giver", "taker", "role", "exchange", "label"),
    [
        ("PR", "SK", "Primary", False, "PR→SK"),  # handover: giver → taker
        ("CW", "AM", "Backup", False, "CW→AM"),
        ("PR", "CW", "Primary", True, "CW⇄PR"),  # exchange: whoever now holds Primary first
        ("CW", "PR", "Backup", True, "CW⇄PR"),
    ],
)
def test_change_label(giver: str, taker: str, role: str, exchange: bool, label: str) -> None:
    change = SwapChange(id=1, giver=giver, taker=taker, role=role, exchange=exchange)
    assert change_label(change) == label


@pytest.mark.parametrize(
    ("overrides", "primary", "backup", "note"),
    [
        # The case: PR hands Primary to SK, off duty; CW took no part.
        ([_ov(1, "PR", "SK")], "SK", "CW", "2025-09-03: PR→SK (swap #1)"),
        # The Backup hands over to someone off duty.
        ([_ov(1, "CW", "AM")], "PR", "AM", "2025-09-03: CW→AM (swap #1)"),
        # Primary and Backup trade places: an exchange, asked by either of them.
        ([_ov(1, "PR", "CW")], "CW", "PR", "2025-09-03: CW⇄PR (swap #1)"),
        ([_ov(1, "CW", "PR")], "CW", "PR", "2025-09-03: CW⇄PR (swap #1)"),
        # Two handovers the same day: each names its own two people.
        (
            [_ov(1, "PR", "SK"), _ov(2, "CW", "AM")],
            "SK",
            "AM",
            "2025-09-03: PR→SK (swap #1), CW→AM (swap #2)",
        ),
        # A chain: SK took Primary by #1, then exchanges it with the Backup by #2.
        (
            [_ov(1, "PR", "SK"), _ov(2, "SK", "CW")],
            "CW",
            "SK",
            "2025-09-03: PR→SK (swap #1), CW⇄SK (swap #2)",
        ),
    ],
)
def test_schedule_annotation(
    config: TeamConfig,
    cal: HolidayCalendar,
    overrides: list[Override],
    primary: str,
    backup: str,
    note: str,
) -> None:
    seg = resolve(config, cal, ist("2025-09-03 12:00"), overrides)
    assert (seg.primary, seg.backup) == (primary, backup)
    assert swap_note(seg.changes) == note.split(": ", 1)[1]
    [week] = week_views(config, cal, 1, 1, overrides)
    assert note in week.annotations


def test_reasons_say_who_gave_what_to_whom(config: TeamConfig, cal: HolidayCalendar) -> None:
    seg = resolve(config, cal, ist("2025-09-03 12:00"), [_ov(1, "PR", "SK")])
    assert "swap #1: SK takes PR's Primary role (PR→SK)" in seg.reasons
    seg = resolve(config, cal, ist("2025-09-03 12:00"), [_ov(1, "PR", "CW")])
    assert "swap #1: PR and CW exchange roles (CW⇄PR)" in seg.reasons


def test_a_swap_on_a_critical_holiday_keeps_both_notations(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # Diwali, Mon 2025-10-20 before 09:00: week 8 (SK Primary, PR Backup), exchanged to
    # PR Primary, SK Backup; then SK hands that Backup role to AM, off duty.
    swap = Override(
        id=5, start=ist("2025-10-20 00:00"), end=ist("2025-10-20 09:00"), a="SK", b="AM"
    )
    [week] = week_views(config, cal, 7, 1, [swap])
    assert week.annotations == (
        "2025-10-20 (Diwali): PR⇄SK",
        "Mon 20 Oct 2025, 00:00–09:00 IST: SK→AM (swap #5)",
    )
    # The holiday note goes to the exchanged who still hold a role, in the holiday's own
    # notation: not to SK (who gave the role away), nor AM (who is not in the exchange).
    approved = [
        Swap(
            id=5,
            requester="SK",
            counterpart="AM",
            start=swap.start,
            end=swap.end,
            status=SwapStatus.APPROVED,
            created_at=ist("2025-10-01 12:00"),
        )
    ]
    notes = exchange_notes(config, cal, ist("2025-10-19 00:00"), ist("2025-10-20 09:00"), approved)
    assert [(n.member, n.role, n.label) for n in notes] == [("PR", "Primary", "PR⇄SK")]
