"""`/rca write` end to end in the console: the template's fields numbered, filled, sent."""

from __future__ import annotations

from bot.devtools.harness import Harness
from tests.e2e.test_console import _run


async def test_rca_write_in_the_console(harness: Harness) -> None:
    text = await _run(
        harness,
        "\n".join(
            [
                "at 2025-10-17 14:00",
                "/page profit-agg sev1 profit aggregate late",
                "as SK",
                "at 2025-10-17 14:05",
                "press 5",  # the ACK in SK's page DM
                "at 2025-10-17 15:30",
                "press 2",  # Resolve on the page: still 2 after the ACK redrew it
                "/rca",
                "/rca write INC-1",
                "fill 1 The FX rates table was late.",
                "fill 7 Alert on FX lag | PR | 2025-10-3",
                "submit",
                "fill 7 Alert on FX lag | PR | 2025-10-31",
                "submit",
                "/rca",
            ]
        ),
    )
    assert "• INC-1 profit aggregate late: due Mon 27 Oct 2025, owner SK" in text
    assert "[modal: RCA INC-1]" in text
    assert "{1} Summary (required) [text, several lines]: (empty)" in text
    assert (
        "{4} Timeline [text, several lines]: Fri 17 Oct 2025, 14:00 IST — Incident opened" in text
    )
    assert "{7}: Line 1: `2025-10-3` is not a date; write it as 2025-10-31." in text
    assert "Form sent." in text
    assert "RCA posted for INC-1" in text
    assert text.rstrip().endswith("No open RCAs.")
