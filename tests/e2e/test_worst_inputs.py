"""Nothing holds the event loop: the worst input of every command is answered with a bounded
amount of the bot's own work. The budget is a count of calls, not a time, so the test cannot
flake on a loaded machine; `bench/worst_inputs.py` times the same inputs against 50 ms of CPU.
"""

from __future__ import annotations

import pytest

from bot.devtools.harness import Harness
from bot.devtools.worst_inputs import WORST, count_work
from tests.e2e.paging_helpers import IDS

# `/oncall schedule 52`, the costliest, makes ~24,300 calls in ~9 ms of CPU. An unbounded
# walk (a day at a time to the year 2999, say) would make millions.
BUDGET = 100_000


@pytest.mark.parametrize(("command", "text"), WORST)
async def test_worst_input_is_answered_within_a_bounded_amount_of_work(
    harness: Harness, command: str, text: str
) -> None:
    await harness.command("/oncall", "", IDS["PR"])  # warm up imports and caches
    harness.autodeliver = False
    with count_work() as work:
        resp = await harness.command(command, text, IDS["PR"])
    assert resp.status == 200
    assert len(resp.text) < 20_000  # nothing echoed back at length
    assert 0 < work.calls < BUDGET, f"{command} {text[:40]}…: {work.calls} calls"
