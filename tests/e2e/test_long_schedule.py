"""`/oncall schedule 52` with a year of swaps, holiday exchanges and PTO: nothing is lost.

Before issue #12 the answer was two sections cut at Slack's 3000 characters, so a long year
stopped mid-word and dropped the rest without saying so.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.deps import Deps
from bot.devtools.fakeslack_blocks import block_errors
from bot.devtools.harness import Harness
from bot.domain.schedule import WeekView
from bot.domain.swaps import SwapError, Window
from bot.slack.blocks.common import MAX_BLOCKS, SECTION_LIMIT
from tests.block_texts import block_texts

PR = "U0PRRAO002"


def _deps(h: Harness) -> Deps:
    assert h.deps is not None
    return h.deps


async def _a_year_of_changes(h: Harness) -> None:
    """A swap in every week, and PTO on the Backup's Thursday every other week."""
    deps = _deps(h)
    cfg = deps.config
    zone = cfg.zone
    weeks = await deps.schedule.weeks(h.clock.now(), 52)
    for i, w in enumerate(weeks[1:], start=1):
        monday = w.start.astimezone(zone).date()
        others = [m.initials for m in cfg.members if m.initials not in (w.primary, w.backup)]
        # A holiday exchange may move a role on some day; try the next day then.
        for offset in (2, 3, 4):
            day = monday + timedelta(days=offset)
            window = Window(
                start=datetime.combine(day, time(10), zone),
                end=datetime.combine(day, time(12), zone),
            )
            try:
                swap = await deps.swaps.request(w.primary, others[i % len(others)], window)
            except SwapError:
                continue
            await deps.swaps.approve(swap.id, swap.counterpart)
            break
        if i % 2:
            thursday = monday + timedelta(days=3)
            leave = Window(
                start=datetime.combine(thursday, time(0), zone),
                end=datetime.combine(thursday + timedelta(days=1), time(0), zone),
            )
            await deps.swaps.add_pto(w.backup, leave)


def _row(h: Harness, w: WeekView) -> str:
    zone = _deps(h).config.zone
    dates = f"{w.start.astimezone(zone):%Y-%m-%d} → {w.end.astimezone(zone):%Y-%m-%d}"
    return f"{w.cycle_week:<5} {dates:<25} {w.primary:<8} {w.backup:<8}"


async def test_fifty_two_weeks_lose_no_row_and_no_note(harness: Harness) -> None:
    await _a_year_of_changes(harness)
    weeks = await _deps(harness).schedule.weeks(harness.clock.now(), 52)
    notes = [note for w in weeks for note in w.annotations]
    # Enough to have overflowed one section: the case that used to be cut.
    assert len("\n".join(notes)) > SECTION_LIMIT
    assert any("Diwali" in n for n in notes)
    assert sum("PTO" in n for n in notes) >= 20

    body = (await harness.command("/oncall", "schedule 52", PR)).json
    blocks = body["blocks"]
    texts = block_texts(blocks)
    shown = "\n".join(texts)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_LIMIT for t in texts)
    assert block_errors(blocks) is None
    for w in weeks:
        assert _row(harness, w) in shown, w
    lines = set(shown.splitlines())
    for note in notes:
        assert f"• {note}" in lines, note
    # Every table section is a whole code block: a fence cannot span sections.
    tables = [t for t in texts if t.startswith("```")]
    assert len(tables) >= 1 and all(t.endswith("```") for t in tables)
    assert "more weeks" not in shown


async def test_a_short_schedule_is_unchanged_in_shape(harness: Harness) -> None:
    body = (await harness.command("/oncall", "schedule 2", PR)).json
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section"]
    assert block_errors(body["blocks"]) is None
