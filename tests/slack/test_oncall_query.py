"""Table tests of the `/oncall` grammar (pure): what each text asks, and the error for a
mistake, naming the mistake."""

from __future__ import annotations

import pytest

from bot.config import TeamConfig
from bot.slack.listeners.commands.oncall_query import QueryError, parse_oncall
from tests.conftest import ist

NOW = ist("2025-09-03 12:00")


@pytest.mark.parametrize(
    ("text", "kind", "asked", "pipeline"),
    [
        ("", "now", "now", None),
        ("now growth-agg", "now", "now", "growth-agg"),
        # Headers name the instant as resolved, never the words typed.
        ("at tomorrow 10:00", "now", "at Thu 4 Sep 2025, 10:00 IST", None),
        (
            "at 2025-10-20 10:00 America/New_York",
            "now",
            "at Mon 20 Oct 2025, 19:30 IST (10:00 America/New_York)",
            None,
        ),
        ("2025-10-20 10:00 growth agg", "now", "at Mon 20 Oct 2025, 10:00 IST", "growth-agg"),
        ("schedule 52", "schedule", "now", None),
    ],
)
def test_what_each_text_asks(
    config: TeamConfig, text: str, kind: str, asked: str, pipeline: str | None
) -> None:
    query = parse_oncall(config, text, NOW)
    assert (query.kind, query.asked) == (kind, asked)
    assert (query.pipeline.slug if query.pipeline else None) == pipeline


@pytest.mark.parametrize(
    ("text", "error"),
    [
        # A typo in the pipeline after a good date blames the pipeline, with a suggestion.
        ("at 2025-10-20 10:00 grwth", "Unknown pipeline `grwth`. Did you mean `growth-agg`?"),
        ("now grwth-agg", "Unknown pipeline `grwth-agg`. Did you mean `growth-agg`?"),
        ("at 2025-13-40 10:00", "is not a date or time"),
        ("schedule 53", "give a number of weeks from 1 to 52"),
        ("schedule 0", "give a number of weeks from 1 to 52"),
        ("schedule " + "9" * 5000, "give a number of weeks from 1 to 52"),
        # Words after a complete subcommand: one refusal, naming the word and what preceded.
        ("schedule 8 extra", "`extra` is not understood after `/oncall schedule 8`; usage: "),
        ("me tomorrow", "`tomorrow` is not understood after `/oncall me`; usage: `/oncall me`"),
        ("help me", "`me` is not understood after `/oncall help`; usage: `/oncall help`."),
        ("now growth-agg please", "`please` is not understood after `/oncall now growth-agg`"),
        ("now growth agg please", "`please` is not understood after `/oncall now growth agg`"),
        (
            "at 2025-10-20 10:00 growth-agg please",
            "`please` is not understood after `/oncall at 2025-10-20 10:00 growth-agg`",
        ),
        (
            "2025-10-20 10:00 growth-agg please",
            "`please` is not understood after `/oncall 2025-10-20 10:00 growth-agg`",
        ),
        ("week 2025-10-20 please", "`please` is not understood after `/oncall week 2025-10-20`"),
        ("next @CW please", "`please` is not understood after `/oncall next @CW`"),
        ("@PR please", "`please` is not understood after `/oncall @PR`"),
        ("growth-agg please", "`please` is not understood after `/oncall growth-agg`"),
        # A digit after a date is a mistyped part of it, not an extra word.
        ("week 2025-10-20 25:00", "is not a date or time"),
    ],
)
def test_mistakes_are_named(config: TeamConfig, text: str, error: str) -> None:
    with pytest.raises(QueryError, match=None) as caught:
        parse_oncall(config, text, NOW)
    assert error in str(caught.value)
