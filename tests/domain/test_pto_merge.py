"""Merging and cancelling PTO entries, and how a window is written: pure rules."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.domain.pto import Pto, PtoRefused, check_cancel, merge_pto
from tests.conftest import ist

IST = ZoneInfo("Asia/Kolkata")


def _pto(pto_id: int, member: str, start: str, end: str) -> Pto:
    return Pto(id=pto_id, member=member, start=ist(start), end=ist(end), created_at=ist(start))


def test_merge_takes_overlapping_and_touching_entries_of_the_same_member_only() -> None:
    existing = [
        _pto(1, "PR", "2025-09-01 00:00", "2025-09-03 00:00"),  # touches the new start
        _pto(2, "PR", "2025-09-04 00:00", "2025-09-06 00:00"),  # overlaps
        _pto(3, "CW", "2025-09-03 00:00", "2025-09-05 00:00"),  # someone else's
        _pto(4, "PR", "2025-09-06 00:01", "2025-09-07 00:00"),  # a minute clear of #2
    ]
    lo, hi, absorbed = merge_pto(existing, "PR", ist("2025-09-03 00:00"), ist("2025-09-05 00:00"))
    assert (lo, hi) == (ist("2025-09-01 00:00"), ist("2025-09-06 00:00"))
    assert [p.id for p in absorbed] == [1, 2]


def test_merge_is_transitive_through_a_widened_window() -> None:
    existing = [
        _pto(5, "SK", "2025-09-08 00:00", "2025-09-10 00:00"),
        _pto(6, "SK", "2025-09-10 00:00", "2025-09-11 00:00"),  # reached only via #5
    ]
    lo, hi, absorbed = merge_pto(existing, "SK", ist("2025-09-09 00:00"), ist("2025-09-09 12:00"))
    assert (lo, hi) == (ist("2025-09-08 00:00"), ist("2025-09-11 00:00"))
    assert [p.id for p in absorbed] == [5, 6]


def test_nothing_to_merge_keeps_the_window() -> None:
    lo, hi, absorbed = merge_pto([], "PR", ist("2025-09-03 00:00"), ist("2025-09-04 00:00"))
    assert (lo, hi, absorbed) == (ist("2025-09-03 00:00"), ist("2025-09-04 00:00"), [])


def test_check_cancel_says_why_not() -> None:
    pto = _pto(2, "PR", "2025-09-03 00:00", "2025-09-04 00:00")
    now = ist("2025-09-01 00:00")
    assert check_cancel(pto, 2, "PR", now) == pto
    with pytest.raises(PtoRefused, match="There is no PTO #9"):
        check_cancel(None, 9, "PR", now)
    with pytest.raises(PtoRefused, match="PTO #2 is PR's, not yours"):
        check_cancel(pto, 2, "CW", now)
    with pytest.raises(PtoRefused, match="already over"):
        check_cancel(pto, 2, "PR", ist("2025-09-04 00:00"))
    assert check_cancel(pto, 2, "PR", ist("2025-09-03 12:00")) == pto  # under way
