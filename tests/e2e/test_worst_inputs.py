"""Nothing holds the event loop: the worst input of every command is answered with a bounded
amount of the bot's own work. The budget is a count of calls, not a time, so the test cannot
flake on a loaded machine; `bench/worst_inputs.py` times the same inputs against 50 ms of CPU.
"""

from __future__ import annotations

import time

import pytest

from bot.devtools.harness import Harness
from bot.devtools.worst_inputs import WORST, count_work
from tests.e2e.paging_helpers import IDS

# `/oncall schedule 52`, the costliest, makes ~26,000 calls (~9 ms of CPU when the machine is
# idle). An unbounded walk (a day at a time to the year 2999, say) would make millions.
BUDGET = 100_000
# A call into C (a regex, a sort) counts once however long it runs, so a runaway one would
# pass the budget: this catches it. Ten times what a loaded CI run was once charged for a
# 2 ms answer (garbage collection in the long test process), so it is no speed goal.
HANG = 1.0  # seconds of CPU


@pytest.mark.parametrize(("command", "text"), WORST)
async def test_worst_input_is_answered_within_a_bounded_amount_of_work(
    harness: Harness, command: str, text: str
) -> None:
    await harness.command("/oncall", "", IDS["PR"])  # warm up imports and caches
    harness.autodeliver = False
    started = time.process_time()
    with count_work() as work:
        resp = await harness.command(command, text, IDS["PR"])
    cpu = time.process_time() - started
    assert resp.status == 200
    assert len(resp.text) < 20_000  # nothing echoed back at length
    assert "bot.server" in work.modules  # the server's work was counted, not only the client's
    assert work.calls < BUDGET, f"{command} {text[:40]}…: {work.calls} calls"
    assert cpu < HANG, f"{command} {text[:40]}…: {cpu:.2f} s of CPU"
