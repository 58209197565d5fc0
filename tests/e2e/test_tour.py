"""docs/tour.md is the console transcript of the scripted run, regenerated here: a change to
what the bot says shows up as a drift to review, and the tour a new user reads stays true."""

from __future__ import annotations

import difflib

import pytest

from bot.devtools.tour import COMMAND, TourRun, markdown
from tests.conftest import ROOT
from tests.e2e.test_readable import tour_run

__all__ = ["tour_run"]  # the module's one run of the tour, shared with test_readable

TOUR = ROOT / "docs" / "tour.md"
# What the console prints when a script asks for something that is not there: a renumbered
# button would otherwise make the tour press nothing and still read plausibly.
CONSOLE_ERRORS = ("No element `", "Unknown console command", "No form is open", "[HTTP ", "{?}")


def test_docs_tour_is_the_current_transcript(tour_run: TourRun) -> None:
    fresh = markdown(tour_run)
    committed = TOUR.read_text(encoding="utf-8") if TOUR.exists() else ""
    if fresh != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                fresh.splitlines(keepends=True),
                "docs/tour.md (committed)",
                "docs/tour.md (regenerated)",
                n=1,
            )
        )
        pytest.fail(
            f"docs/tour.md drifted from what the bot says now. Regenerate it with\n"
            f"    {COMMAND}\nand review the diff:\n{diff[:8000]}",
            pytrace=False,
        )


def test_every_step_of_the_tour_does_what_its_introduction_says(tour_run: TourRun) -> None:
    steps = {step.title: text for step, text in tour_run.transcript}
    for title, text in steps.items():
        errors = [line for line in text.splitlines() if line.startswith(CONSOLE_ERRORS)]
        assert not errors, f"{title}: {errors}"
    assert "• `/oncall week [date]`" in steps["What the bot can do"]
    who = steps["Who is on call"]
    assert "Primary: Priya Rao (@PR)\nBackup: Alex Mehta (@AM)" in who  # Diwali exchange
    assert "== On call at Wed 22 Oct 2025, 08:30 IST (03:00 UTC) ==" in who
    page = steps["A page that escalates"]
    assert "[DM to Priya Rao (PR)]\nYou are paged as Primary." in page
    assert "No ACK in 10 min: escalated to Backup @AM." in page
    ack = steps["Working the checklist, then ACK"]
    assert ack.index("INC-1 is not ACKed yet") < ack.index("Acknowledged by @PR")
    assert "[x] 2. Ingestion rate  (✓ Priya Rao" in ack and "Resolved by @PR." in ack
    approved = steps["A swap, approved"]
    assert "• 2025-10-23: AM→CW (swap #1) — Primary CW, Backup PR" in approved
    declined = steps["A swap asked with the form, declined"]
    assert "[modal: Swap a shift]" in declined and "Form sent." in declined
    assert "declined swap #2" in declined
    pto = steps["PTO"]
    assert "Recorded your PTO #1" in pto and "You are on call during it" in pto
    assert "• ⚠ 2025-10-28..2025-10-29: PR is Primary on PTO with no swap" in pto
    assert "== On-call schedule: next 52 weeks ==" in pto and "4     2026-10-12" in pto
    assert "Cancelled your PTO #1" in pto
    assert pto.rstrip().splitlines()[-2] == "• none recorded that is not over"
