"""Nothing holds the event loop: the worst input of every command is answered within 50 ms
of CPU time (the server runs in this process, so process_time counts its work)."""

from __future__ import annotations

import time

import pytest

from bot.devtools.harness import Harness
from tests.e2e.paging_helpers import IDS

LONG = "x" * 999  # just under the command text limit
WORST = [
    ("/oncall", "pto 2027-01-04..2999-12-30"),
    ("/oncall", "pto 2025-09-04..2025-12-02"),  # the longest leave allowed, with conflicts
    ("/swap", "@CW 2027-01-04..2999-12-30"),
    ("/swap", "@CW 2025-09-04..2025-12-02 for 2025-12-03..2026-03-02"),
    ("/oncall", "schedule 52"),
    ("/oncall", "at 2999-12-30 23:59 growth-agg"),
    ("/oncall", "week 2999-12-30"),
    ("/oncall", LONG),
    ("/oncall", "at " + "2025-09-03 " * 90),
    ("/oncall", "x" * 5000),  # over the limit: refused before any work
    ("/page", "growth-agg sev1 " + LONG[:980]),
    ("/page", "gr" * 490),
    ("/runbook", LONG),
    ("/swap", "@" + LONG),
    ("/swap", "cancel " + "9" * 900),
    ("/oncall", "incidents"),
    ("/oncall", "help"),
]


@pytest.mark.parametrize(("command", "text"), WORST)
async def test_worst_input_is_answered_within_50_ms_of_cpu(
    harness: Harness, command: str, text: str
) -> None:
    await harness.command("/oncall", "", IDS["PR"])  # warm up imports and caches
    harness.autodeliver = False
    started = time.process_time()
    resp = await harness.command(command, text, IDS["PR"])
    cpu = time.process_time() - started
    assert resp.status == 200
    assert len(resp.text) < 20_000  # nothing echoed back at length
    assert cpu < 0.050, f"{command} {text[:40]}…: {cpu * 1000:.1f} ms of CPU"
