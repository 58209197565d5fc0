"""Long answers split across sections and say what they leave out (issue #12, item 1)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.config import TeamConfig
from bot.config.models import Weekday
from bot.devtools.fakeslack_blocks import block_errors
from bot.domain.schedule import WeekView
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    chunk_lines,
    fit_blocks,
    section,
    sections,
)
from bot.slack.blocks.oncall import schedule_reply
from tests.block_texts import block_texts
from tests.conftest import ist


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_long_line_is_split_at_a_space_never_inside_a_word() -> None:
    words = [f"word{i}" for i in range(1500)]
    line = " ".join(words)
    chunks = chunk_lines(["head", line, "tail"])
    assert all(len(c) <= SECTION_LIMIT for c in chunks)
    pieces = [w for c in chunks for w in c.split()]
    assert pieces == ["head", *words, "tail"]


def test_sections_lose_nothing_and_keep_lines_whole() -> None:
    lines = [f"• line {i} " + "x" * (i % 90) for i in range(400)]
    blocks = sections("\n".join(lines))
    assert len(blocks) > 1
    texts = block_texts(blocks)
    assert all(len(t) <= SECTION_LIMIT for t in texts)
    assert [line for t in texts for line in t.split("\n")] == lines
    assert block_errors(blocks) is None


def test_a_single_section_marks_a_cut_instead_of_hiding_it() -> None:
    text = section("y" * 4000)["text"]["text"]
    assert len(text) == SECTION_LIMIT and text.endswith("…")


def test_fit_blocks_says_how_many_more_and_where() -> None:
    blocks = [section(str(i)) for i in range(60)]
    fitted = fit_blocks(blocks, "`/oncall incidents page 2`")
    assert len(fitted) == MAX_BLOCKS
    assert block_texts(fitted)[-1] == "… and 11 more: `/oncall incidents page 2`"
    assert fit_blocks(blocks[:50], "x") == blocks[:50]


def _weeks(notes_per_week: int, note_len: int) -> list[WeekView]:
    start = ist("2025-09-01 09:00")
    out = []
    for i in range(52):
        notes = tuple(
            f"week {i} note {j}: " + " ".join(["swap"] * (note_len // 5))
            for j in range(notes_per_week)
        )
        out.append(
            WeekView(
                week=i,
                cycle_week=i % 8 + 1,
                start=start + timedelta(weeks=i),
                end=start + timedelta(weeks=i + 1),
                primary="PR",
                backup="CW",
                annotations=notes,
            )
        )
    # One note longer than a whole section.
    out[0] = out[0].model_copy(update={"annotations": (" ".join(["exchange"] * 700),)})
    return out


def test_a_schedule_too_long_for_one_message_ends_saying_what_is_left(
    config: TeamConfig,
) -> None:
    weeks = _weeks(notes_per_week=12, note_len=400)
    reply = schedule_reply(config, weeks, "On-call schedule: next 52 weeks")
    blocks = reply.blocks
    texts = block_texts(blocks)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_LIMIT for t in texts)
    assert block_errors(blocks) is None
    more = re.fullmatch(
        r"… and (\d+) more weeks: `/oncall week (\S+)`, then each week after it", texts[-1]
    )
    assert more, texts[-1]
    hidden = int(more.group(1))
    shown = 52 - hidden
    assert 0 < hidden < 52
    assert more.group(2) == f"{weeks[shown].start:%Y-%m-%d}"
    body = _flat("\n".join(texts[:-1]))
    for w in weeks[:shown]:
        assert f"{w.start:%Y-%m-%d} → {w.end:%Y-%m-%d}" in body
        for note in w.annotations:
            assert _flat(f"• {note}") in body
    assert f"{weeks[shown].start:%Y-%m-%d} → " not in body
    assert texts[-1] in reply.text


def test_fifty_two_plain_weeks_fit_one_message(config: TeamConfig) -> None:
    weeks = _weeks(notes_per_week=2, note_len=60)
    reply = schedule_reply(config, weeks, "On-call schedule: next 52 weeks")
    texts = block_texts(reply.blocks)
    assert "more weeks" not in texts[-1]
    body = "\n".join(texts)
    assert all(f"{w.start:%Y-%m-%d} → {w.end:%Y-%m-%d}" in body for w in weeks)
    assert block_errors(reply.blocks) is None


def test_the_table_header_names_the_configured_handoff_day(config: TeamConfig) -> None:
    weeks = _weeks(notes_per_week=0, note_len=0)[:2]
    assert "Dates (Mon→Mon)" in schedule_reply(config, weeks, "t").text
    rotation = config.rotation.model_copy(update={"handoff_day": Weekday.SUNDAY})
    sunday = config.model_copy(update={"rotation": rotation})
    assert "Dates (Sun→Sun)" in schedule_reply(sunday, weeks, "t").text
