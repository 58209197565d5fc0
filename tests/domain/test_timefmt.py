"""`timefmt.period`: every window the bot writes, each end with its weekday (issue #12)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.timefmt import period

IST = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
NY = ZoneInfo("America/New_York")


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


@pytest.mark.parametrize(
    ("start", "end", "zone", "text"),
    [
        # A whole day ends at 24:00 of that day, as the policy writes it, not "Thu 00:00".
        ("2025-09-03 00:00", "2025-09-04 00:00", IST, "Wed 3 Sep 2025, 00:00–24:00 IST"),
        ("2025-09-03 10:00", "2025-09-03 18:00", IST, "Wed 3 Sep 2025, 10:00–18:00 IST"),
        # Across days, the last day is named: through Wednesday, not "until Thursday".
        (
            "2025-10-28 00:00",
            "2025-10-30 00:00",
            IST,
            "Tue 28 Oct 2025, 00:00 → Wed 29 Oct 2025, 24:00 IST",
        ),
        (
            "2025-10-20 09:00",
            "2025-10-27 09:00",
            IST,
            "Mon 20 Oct 2025, 09:00 → Mon 27 Oct 2025, 09:00 IST",
        ),
        (
            "2025-09-03 09:00",
            "2025-09-03 18:30",
            ZoneInfo("UTC"),
            "Wed 3 Sep 2025, 03:30–13:00 UTC",
        ),
        # In the rotation's zone, whatever zone the instants came in.
        ("2025-09-03 09:30", "2025-09-04 09:30", NY, "Wed 3 Sep 2025, 00:00–24:00 EDT"),
        # A window across a clock change names the zone at each end.
        (
            "2025-10-25 12:00",
            "2025-10-27 12:00",
            LONDON,
            "Sat 25 Oct 2025, 07:30 BST → Mon 27 Oct 2025, 06:30 GMT",
        ),
        # The whole day of a clock change (23 h in spring, 25 h in autumn) is still one day.
        ("2025-03-30 05:30", "2025-03-31 04:30", LONDON, "Sun 30 Mar 2025, 00:00 GMT–24:00 BST"),
        ("2025-10-26 04:30", "2025-10-27 05:30", LONDON, "Sun 26 Oct 2025, 00:00 BST–24:00 GMT"),
        # Nothing should ask for an empty or reversed window; if it does, no "18:00–10:00"
        # that reads as overnight: both instants, as given.
        (
            "2025-09-03 18:00",
            "2025-09-03 10:00",
            IST,
            "Wed 3 Sep 2025, 18:00 IST → Wed 3 Sep 2025, 10:00 IST",
        ),
        (
            "2025-09-03 10:00",
            "2025-09-03 10:00",
            IST,
            "Wed 3 Sep 2025, 10:00 IST → Wed 3 Sep 2025, 10:00 IST",
        ),
    ],
)
def test_period(start: str, end: str, zone: ZoneInfo, text: str) -> None:
    assert period(ist(start), ist(end), zone) == text
