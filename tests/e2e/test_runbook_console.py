"""The console session from the issue: `/runbook growth-agg`, then ticks by number as anyone."""

from __future__ import annotations

import io

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.console import Console, run_console
from bot.devtools.harness import Harness

SCRIPT = """\
/runbook growth-agg
tick 1
as CW
tick 2
tick 1
"""


async def test_console_ticks_as_any_member(
    harness: Harness, clock: FakeClock, config: TeamConfig
) -> None:
    out = io.StringIO()
    console = Console(harness, clock, config, out=out)
    await run_console(console, io.StringIO(SCRIPT), interactive=False)
    text = out.getvalue()
    assert "== Runbook: Growth — Aggregate ==" in text
    assert "    1. [ ] 1. Stream lag" in text
    assert "Progress: 0/8 done" in text
    assert "Freshness & Lag (https://grafana.company.example/d/freshness-lag)" in text
    # AM ticks step 1; CW ticks step 2 and then unticks step 1 from the numbers first shown.
    sessions = text.split("CW> tick 2")
    assert "[x] 1. Stream lag  (✓ Alex Mehta · Wed 3 Sep 2025, 12:00 IST)" in sessions[0]
    after_cw = sessions[1].split("CW> tick 1")
    assert "[x] 2. Ingestion rate  (✓ Chen Wu · Wed 3 Sep 2025, 12:00 IST)" in after_cw[0]
    assert "Progress: 2/8 done" in after_cw[0]
    assert "[ ] 1. Stream lag\n" in after_cw[1]
    assert "Progress: 1/8 done" in after_cw[1]
    assert ":warning:" not in text
