"""Table test: every duration the bot prints goes through human_duration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import human_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.4, "0 s"),
        (1, "1 s"),
        (42, "42 s"),
        (59.6, "1 min"),
        (60, "1 min"),
        (207, "3 min 27 s"),
        (600, "10 min"),
        (612, "10 min 12 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h"),
        (3605, "1 h"),
        (3900, "1 h 5 min"),
        (3930, "1 h 5 min"),
        (86400, "1 d"),
        (86400 + 3 * 3600 + 59, "1 d 3 h"),
        (90 * 86400, "90 d"),
        (-5, "0 s"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text
