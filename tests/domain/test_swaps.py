"""The pure swap and PTO rules, table-tested."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.pto import Conflict, due_reminders
from bot.domain.swaps import (
    Swap,
    SwapError,
    SwapStatus,
    Window,
    conflicting,
    fields_from_window,
    parse_swap_window,
    window_from_fields,
    window_syntax,
)
from bot.slack.listeners.commands.swap_query import find_member, parse_swap
from tests.conftest import IST, ist

NOW = ist("2025-08-28 10:00")


def _swap(i: int, a: str, b: str, start: str, end: str) -> Swap:
    return Swap(
        id=i,
        requester=a,
        counterpart=b,
        start=ist(start),
        end=ist(end),
        created_at=NOW,
        status=SwapStatus.APPROVED,
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-09-03", "2025-09-03 00:00", "2025-09-04 00:00"),
        ("2025-09-03..2025-09-05", "2025-09-03 00:00", "2025-09-06 00:00"),
        ("week 2025-09-03", "2025-09-01 09:00", "2025-09-08 09:00"),
        ("week 2025-09-01 08:00", "2025-08-25 09:00", "2025-09-01 09:00"),
        ("2025-09-03 09:00..18:00", "2025-09-03 09:00", "2025-09-03 18:00"),
        ("2025-09-03 09:00..18:00 UTC", "2025-09-03 14:30", "2025-09-03 23:30"),
    ],
)
def test_windows(config: TeamConfig, text: str, start: str, end: str) -> None:
    assert parse_swap_window(config, text, NOW) == Window(start=ist(start), end=ist(end))


def test_bad_window_lists_forms(config: TeamConfig) -> None:
    with pytest.raises(SwapError, match="week 2025-09-03"):
        parse_swap_window(config, "soon", NOW)


@pytest.mark.parametrize(
    ("token", "who"),
    [
        ("<@U0CHENWU03|chen>", "CW"),
        ("<@U0CHENWU03>", "CW"),
        ("@CW", "CW"),
        ("cw", "CW"),
        ("@priya", "PR"),
        ("<@U0NOBODY1>", None),
        ("@XY", None),
    ],
)
def test_members(config: TeamConfig, token: str, who: str | None) -> None:
    assert find_member(config, token) == who


def test_exchange_grammar(config: TeamConfig) -> None:
    q = parse_swap(config, "@SK 2025-09-03 FOR week 2025-09-16", NOW)
    assert q.counterpart == "SK" and q.back == Window(
        start=ist("2025-09-15 09:00"), end=ist("2025-09-22 09:00")
    )


def test_overlap_needs_a_shared_person_and_instant() -> None:
    mine = _swap(9, "PR", "SK", "2025-09-03 12:00", "2025-09-03 18:00")
    same_people = _swap(1, "PR", "CW", "2025-09-03 00:00", "2025-09-04 00:00")
    other_people = _swap(2, "AM", "CW", "2025-09-03 00:00", "2025-09-04 00:00")
    touching = _swap(3, "PR", "CW", "2025-09-03 18:00", "2025-09-04 00:00")
    assert conflicting(mine, [other_people, touching]) is None
    assert conflicting(mine, [other_people, same_people]) == same_people


def test_form_fields_round_trip() -> None:
    day = Window(start=ist("2025-09-03 00:00"), end=ist("2025-09-05 00:00"))
    part = Window(start=ist("2025-09-03 09:00"), end=ist("2025-09-03 18:00"))
    for w in (day, part):
        assert window_from_fields(IST, *fields_from_window(w, IST)) == w


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2025-08-26 23:59", None),
        ("2025-08-27 00:00", "7d"),
        ("2025-09-02 00:00", "1d"),
        ("2025-09-03 00:00", None),
    ],
)
def test_reminder_leads(now: str, due: str | None) -> None:
    c = Conflict(
        member="PR",
        role="Primary",
        start=ist("2025-09-03 00:00"),
        end=ist("2025-09-04 00:00"),
        reason="PTO",
    )
    assert due_reminders(c, ist(now)) == due


def test_holiday_exchange_then_swap_precedence(config: TeamConfig) -> None:
    # Diwali 2025-10-20 in week 9 (= week 1: AM Primary, PR Backup): the holiday makes PR
    # Primary; a swap PR→SK then hands that Primary role to SK.
    from bot.domain.schedule import resolve
    from bot.domain.swaps import overrides

    cal = HolidayCalendar(config.policy.holidays)
    at: datetime = ist("2025-10-20 12:00")
    swap = _swap(5, "PR", "SK", "2025-10-20 00:00", "2025-10-21 00:00")
    seg = resolve(config, cal, at, overrides(swap))
    assert (seg.primary, seg.backup) == ("SK", "AM")


@pytest.mark.parametrize(
    ("start", "end", "typed"),
    [
        ("2025-09-08 00:00", "2025-09-09 00:00", "2025-09-08"),
        ("2025-09-08 00:00", "2025-09-11 00:00", "2025-09-08..2025-09-10"),
        ("2025-09-08 00:00", "2025-09-08 09:00", "2025-09-08 00:00..09:00"),
        ("2025-09-04 22:00", "2025-09-05 06:00", "2025-09-04 22:00..2025-09-05 06:00"),
        ("2025-09-04 22:00", "2025-09-05 00:00", "2025-09-04 22:00..2025-09-05 00:00"),
        ("2025-09-08 09:00", "2025-09-15 09:00", "2025-09-08 09:00..2025-09-15 09:00"),
    ],
)
def test_a_window_offered_to_paste_is_one_swap_reads_back_unchanged(
    config: TeamConfig, start: str, end: str, typed: str
) -> None:
    window = Window(start=ist(start), end=ist(end))
    assert window_syntax(window, IST) == typed
    assert parse_swap_window(config, typed, ist("2025-09-01 12:00")) == window
