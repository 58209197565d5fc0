"""Holiday reminders that mean something: critical holidays are information for the two
whose roles the exchange swaps; other company holidays and PTO still ask for a swap; past
days are never flagged."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from tests.conftest import ist
from tests.e2e.paging_helpers import IDS
from tests.e2e.swap_helpers import dms_to, oncall


async def _jobs(h: Harness) -> None:
    assert h.deps is not None
    await h.deps.swaps.queue_reminders()
    await h.deliver()


async def test_a_critical_holiday_is_a_note_to_the_two_exchanged_not_a_swap_request(
    harness: Harness, clock: FakeClock
) -> None:
    # Diwali, Mon 2025-10-20: week 8 (SK/PR) until 09:00, week 1 (AM/PR) after.
    clock.set(ist("2025-10-14 12:00"))
    await _jobs(harness)
    await _jobs(harness)  # a second tick (or replica) sends nothing again
    for who in ("SK", "PR", "AM"):
        notes = [c.args["text"] for c in dms_to(harness, IDS[who]) if "Diwali" in c.args["text"]]
        assert notes, who
        assert all("Nothing to arrange" in n and "swap" not in n.split("Nothing")[0] for n in notes)
    pr = [c.args["text"] for c in dms_to(harness, IDS["PR"]) if "Diwali" in c.args["text"]]
    assert len(pr) == 2  # Primary before 09:00 (SK/PR exchanged), Primary after (PR⇄AM)
    assert any("*Primary*" in n and "PR⇄SK" in n for n in pr)
    everything = [str(c.args) for c in harness.slack.of("chat.postMessage")]
    assert not any("Diwali" in t and "arrange a swap" in t.lower() for t in everything)


async def test_past_days_are_never_flagged(harness: Harness, clock: FakeClock) -> None:
    # 2025-09-05 (Prophet's Birthday, a company holiday) is flagged while it is ahead...
    clock.set(ist("2025-09-04 12:00"))
    assert "2025-09-05" in await oncall(harness, IDS["AM"], "week")
    # ...and not once it is over.
    clock.set(ist("2025-09-06 12:00"))
    assert "company holiday (Prophet's Birthday)" not in await oncall(harness, IDS["AM"], "week")
