from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.timeparse import TimeParseError, parse_instant, parse_window
from tests.conftest import IST, ist

NOW = ist("2025-08-28 10:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-20 08:00", ist("2025-10-20 08:00")),
        ("2026-03-04", ist("2026-03-04 12:00")),
        ("2025-10-20 03:00 UTC", datetime(2025, 10, 20, 3, 0, tzinfo=UTC)),
        ("2025-10-20 03:00 Europe/London", ist("2025-10-20 07:30")),
        ("2025-10-20 03:00 +00:00", ist("2025-10-20 08:30")),
        ("tomorrow 10:00", ist("2025-08-29 10:00")),
        ("today 6pm", ist("2025-08-28 18:00")),
        ("now", NOW),
        ("", NOW),
    ],
)
def test_instants(text: str, expected: datetime) -> None:
    assert parse_instant(text, NOW, IST)[0] == expected


@pytest.mark.parametrize("text", ["soon", "2025-13-01 10:00", "tomorrow 25:00", "2025/10/20"])
def test_bad_instants(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_instant(text, NOW, IST)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-09-03", "2025-09-03 00:00", "2025-09-04 00:00"),
        ("2025-09-03..2025-09-05", "2025-09-03 00:00", "2025-09-06 00:00"),
        ("2025-09-03 09:00..18:00", "2025-09-03 09:00", "2025-09-03 18:00"),
        ("2025-09-03 22:00..2025-09-04 06:00", "2025-09-03 22:00", "2025-09-04 06:00"),
    ],
)
def test_windows(text: str, start: str, end: str) -> None:
    assert parse_window(text, NOW, IST) == (ist(start), ist(end))


def test_empty_window() -> None:
    with pytest.raises(TimeParseError, match="empty"):
        parse_window("2025-09-03 18:00..09:00", NOW, IST)


@pytest.mark.parametrize(
    "text", ["2025-10-20 08:00 +99:00", "9999-12-31 23:00 UTC", "9999-12-31", "1900-01-01"]
)
def test_out_of_range_is_a_clear_error(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_instant(text, NOW, IST)
