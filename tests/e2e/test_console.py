"""A scripted console session: the same app, signed requests, the fake Slack printing."""

from __future__ import annotations

import io

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.console import Console, run_console
from bot.devtools.harness import Harness
from tests.conftest import ist


async def _run(harness: Harness, script: str) -> str:
    out = io.StringIO()
    assert isinstance(harness.clock, FakeClock)
    console = Console(harness, harness.clock, harness.config or TeamConfig.model_validate({}), out)
    await run_console(console, io.StringIO(script), interactive=False)
    return out.getvalue()


async def test_scripted_session(harness: Harness) -> None:
    text = await _run(
        harness,
        "\n".join(
            [
                "/oncall at 2025-09-03 12:00",
                "as pr",
                "at 2025-10-20 08:00",
                "/oncall now growth-agg",
                "advance 2h",
                "/oncall",
                "as ZZ",
                "frobnicate",
            ]
        ),
    )
    assert "AM> /oncall at 2025-09-03 12:00" in text
    assert "Primary: Priya Rao (@PR)\nBackup: Chen Wu (@CW)" in text
    assert "You are now Priya Rao (PR)." in text
    assert "Clock set to 2025-10-20 08:00 IST (Monday)." in text
    # Diwali: PR Primary, SK Backup; growth-agg's secondary owner SK is on the ladder, so no
    # Incident Commander, and both free engineers lead.
    assert "3. Incident Commander: none" in text
    assert "4. Data Platform Lead: Alex Mehta (@AM) and Chen Wu (@CW)" in text
    assert "PR⇄SK" in text
    assert "Clock advanced to 2025-10-20 10:00 IST (Monday)." in text
    assert "PR⇄AM" in text
    assert "No member `ZZ`; valid: AM, PR, CW, SK, or a Slack ID" in text
    assert "Unknown console command `frobnicate`" in text
    assert harness.clock.now() == ist("2025-10-20 10:00")
