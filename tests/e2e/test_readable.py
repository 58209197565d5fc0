"""Answers people can read (issue #12): everything the scripted run of the tour sent Slack
is valid Block Kit within Slack's limits and passes the readability lint, and no reply
spells out the rotation's zone by hand.

The lint itself is tested first, on good and bad samples, so that a clean run means clean
messages and not a lint that finds nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from redis.asyncio import Redis

from bot.config import TeamConfig
from bot.devtools.fakeslack import Call
from bot.devtools.readlint import (
    SECTION_LIMIT,
    Finding,
    lint_sections,
    lint_source,
    lint_text,
    lint_tree,
    summary,
)
from bot.devtools.slackcheck import Payload, from_answer, from_call
from bot.devtools.tour import TourRun, run_tour
from tests.conftest import ROOT

# --- the lint, on samples ------------------------------------------------------------------


def rules(text: str, mrkdwn: bool = True) -> list[str]:
    return [f.rule for f in lint_text(text, "sample", mrkdwn)]


@pytest.mark.parametrize(
    "text",
    ["retry in 90 s", "open for 125 seconds", "after 1,500 s", "waited 60s", "60 sec"],
)
def test_seconds_over_a_minute_are_found(text: str) -> None:
    assert rules(text) == ["raw-seconds"]


@pytest.mark.parametrize(
    "text",
    ["ACKed in 42 s", "3 min 27 s", "59 s", "`advance 30s`", "2,888 req/s", "a 3 s lease"],
)
def test_durations_written_as_durations_pass(text: str) -> None:
    assert rules(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Acknowledged at 2025-09-03 12:09 IST",
        "next at 2025-09-03 12:10",
        "(2025-09-03 06:20 UTC)",
        "rotation week 1 of 8 (2025-10-20 09:00 → 2025-10-27 09:00 IST)",
        "parked 2025-09-03 12:00:05 UTC",
        "from 2025-09-03 9:00",
    ],
)
def test_an_instant_without_its_weekday_is_found(text: str) -> None:
    assert set(rules(text)) == {"no-weekday"}


@pytest.mark.parametrize(
    "text",
    [
        "Acknowledged at Wed 3 Sep 2025, 12:09 IST",
        "rotation week 1 of 8 (Mon 20 Oct 2025, 09:00 → Mon 27 Oct 2025, 09:00 IST)",
        "e.g. `/oncall at 2025-10-20 08:00`",
        "```\n/swap @CW 2025-09-08 00:00..09:00\n```",
        "Diwali (2025-10-20): PR⇄AM",
        "started_at 2025-09-03T06:00:00 has no UTC offset",
    ],
)
def test_weekday_instants_week_ranges_and_typed_examples_pass(text: str) -> None:
    assert rules(text) == []


@pytest.mark.parametrize("text", ["open 1 h 0 min", "0 min left", "in 0 minutes"])
def test_zero_minutes_are_found(text: str) -> None:
    assert rules(text) == ["zero-min"]


@pytest.mark.parametrize("text", ["in 10 min", "every 30 min", "1 h 5 min", "2.0 min"])
def test_minutes_pass(text: str) -> None:
    assert rules(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hello {name}",
        "rotation week {0} of 8",
        "owner: None",
        "%s is paged",
        "Hi %(name)s",
        "TODO: say why",
        "`/oncall pto cancel <id>`",  # Slack reads `<id>` as markup: it must be &lt;id&gt;
        "see <placeholder>",
    ],
)
def test_unfilled_placeholders_are_found(text: str) -> None:
    assert rules(text) == ["placeholder"]


@pytest.mark.parametrize(
    "text",
    [
        "3. Incident Commander: none",
        "`/oncall pto cancel &lt;id&gt;`",
        "<@U0PRRAO002> and <#C0INVESTORS|investor-kpis>, <!here>",
        "<https://grafana.company.example/d/lag|Freshness & Lag>, <mailto:a@b.example|mail>",
        "completeness 99.2 % below 99.5 %",
        'body: {"pipeline": "growth-agg"}',
    ],
)
def test_filled_text_passes(text: str) -> None:
    assert rules(text) == []


def test_angle_brackets_in_plain_text_are_text() -> None:
    # plain_text is shown as typed: `<date>` there is a usage hint, not markup.
    assert rules("e.g. <date>", mrkdwn=False) == []
    assert rules("owner None", mrkdwn=False) == ["placeholder"]


def test_a_section_cut_at_slacks_limit_is_found() -> None:
    # What `text[:3000]` did to `/oncall schedule 52`: the last line stops mid-word.
    tail = "\n• ⚠ 2027-10-29: PR is Primary on a company holiday with no swa"
    cut = ("• 2026-04-14 (Holi): AM⇄SK\n" * 200)[: SECTION_LIMIT - len(tail)] + tail
    assert len(cut) == SECTION_LIMIT
    found = lint_sections([cut], "schedule")
    assert [f.rule for f in found] == ["truncated"]
    assert "at Slack's limit" in found[0].text and found[0].where == "schedule section 1/1"


def test_a_word_cut_with_an_ellipsis_is_found() -> None:
    assert [f.rule for f in lint_sections(["… on a company holiday with no swa…"])] == ["truncated"]


def test_a_word_split_across_sections_is_found() -> None:
    found = lint_sections(["• 2025-10-23: AM→CW (sw", "ap #1)", "• 2026-03-04 (Holi)"])
    assert [(f.rule, f.where) for f in found] == [("truncated", "section 1/3")]


def test_sections_split_between_lines_pass() -> None:
    lines = "• 2026-04-14: PR is Primary on a company holiday with no swap\n" * 45
    sections = [lines.rstrip(), lines.rstrip(), "… and 3 more: `/oncall schedule 52 page 2`"]
    assert lint_sections(sections) == []
    assert lint_sections(["Primary: Chen Wu", "Backup: Priya Rao", "Diagnostics checklist …"]) == []


def test_ist_in_string_literals_is_found() -> None:
    source = 'X = "09:00 IST"\ndef f(t):\n    return f"{t} IST"\n'
    found = lint_source("bot/x.py", source)
    assert [(f.where, f.rule) for f in found] == [
        ("bot/x.py:1", "ist-literal"),
        ("bot/x.py:3", "ist-literal"),
    ]


def test_ist_in_docstrings_comments_and_other_words_passes() -> None:
    source = (
        '"""Times are IST."""\n'
        "def f():\n"
        '    """At 09:00 IST."""\n'
        "    # IST here is a comment\n"
        '    return ["LIST", "Istanbul", "ist"]\n'
    )
    assert lint_source("bot/x.py", source) == []


def test_ist_is_allowed_only_in_the_zone_label_and_the_parsers_zone_table() -> None:
    label = 'def zone_label(zone):\n    return "IST"\n'
    assert lint_source("bot/domain/timefmt.py", label) == []
    assert [f.rule for f in lint_source("bot/domain/other.py", label)] == ["ist-literal"]
    table = '_ALIASES = {"IST": "Asia/Kolkata"}\nFORMS = "(UTC, IST, +05:30)"\n'
    found = lint_source("bot/domain/timeparse.py", table)
    assert [f.where for f in found] == ["bot/domain/timeparse.py:2"]


def test_the_summary_groups_one_template_seen_in_many_messages() -> None:
    same = [Finding(f"#{n} views.publish", "placeholder", "None.") for n in (3, 7, 9)]
    text = summary([*same, Finding("#4 HTTP answer", "zero-min", "0 min")], "samples")
    assert text.splitlines() == [
        "2 readability problems (4 findings) in samples:",
        "- placeholder: None.",
        "    in #3 views.publish and 2 more",
        "- zero-min: 0 min",
        "    in #4 HTTP answer",
    ]


def _post(blocks: list[Any]) -> Payload:
    payload = from_call(
        Call("chat.postMessage", {"channel": "C1", "text": "t", "blocks": blocks}), 1
    )
    assert payload is not None
    return payload


SECTION: dict[str, Any] = {
    "type": "section",
    "text": {"type": "mrkdwn", "text": "Primary: Chen Wu"},
}


def test_valid_block_kit_passes() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "ACK"}, "action_id": "a"}
    assert _post([SECTION, {"type": "actions", "elements": [button]}]).problems == []


def test_block_kit_over_slacks_limits_is_found() -> None:
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * (SECTION_LIMIT + 1)}}
    assert [p.split(":")[0] for p in _post([SECTION, long]).problems] == ["blocks[1]"]
    assert _post([SECTION] * 51).problems == ["51 blocks, more than Slack's 50"]
    wide = {"type": "section", "fields": [{"type": "mrkdwn", "text": "y" * 2001}]}
    assert _post([wide]).problems == ["blocks[0].fields[0]: over 2000 characters"]
    assert _post([{"type": "sektion"}]).problems == ["blocks[0]: unknown block type 'sektion'"]
    empty = {"type": "section", "text": {"type": "mrkdwn", "text": " "}}
    assert _post([empty]).problems == ["blocks[0].text: empty text"]


def test_a_view_over_slacks_limits_is_found() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "A title far over 24 chars"}}
    payload = from_call(Call("views.open", {"view": {**view, "blocks": [SECTION]}}), 1)
    assert payload is not None and len(payload.problems) == 1
    assert payload.problems[0].startswith("view: SlackObjectFormationError")


# --- the scripted run -----------------------------------------------------------------------


async def _run(config: TeamConfig) -> TourRun:
    url = os.environ.get("REDIS_URL")
    redis: Redis = (
        Redis.from_url(url, decode_responses=True)
        if url
        else FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    )
    try:
        await redis.flushdb()
        return await run_tour(redis, config)
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def tour_run(config: TeamConfig) -> Iterator[TourRun]:
    """One run of the tour for the module's tests (a few seconds): on the real Redis when
    REDIS_URL is set (the database is flushed), else on fakeredis."""
    yield asyncio.run(_run(config))


def payloads(run: TourRun) -> list[Payload]:
    from_calls = [from_call(c, n) for n, c in enumerate(run.calls, 1)]
    from_answers = [from_answer(a, n, req) for n, (req, a) in enumerate(run.answers, 1)]
    return [p for p in [*from_calls, *from_answers] if p is not None]


def test_the_run_sends_every_kind_of_message(tour_run: TourRun) -> None:
    """What the lint reviews is what the issue lists: replies, DMs, pages, thread
    messages, redraws, modals, Home tabs and the HTTP answers to commands."""
    methods = Counter(c.method for c in tour_run.calls)
    for method in ("chat.postMessage", "chat.update", "views.open", "views.publish"):
        assert methods[method] > 0, method
    posts = [c.args for c in tour_run.calls if c.method == "chat.postMessage"]
    assert any(str(a.get("channel", "")).startswith("D") for a in posts)  # DMs
    assert any(a.get("thread_ts") for a in posts)  # thread messages
    assert any("Page INC-1" in str(a.get("text")) for a in posts)
    assert sum(1 for _, a in tour_run.answers if a.get("text")) >= 10  # ephemeral answers
    assert len(payloads(tour_run)) > 50


def test_everything_slack_received_is_valid_block_kit(tour_run: TourRun) -> None:
    rejected = [f"{method}: {why}" for method, why in tour_run.rejected]
    problems = [f"{p.where}: {problem}" for p in payloads(tour_run) for problem in p.problems]
    assert not rejected + problems, "\n".join(
        ["Block Kit problems in the scripted run (bot/devtools/tour.py):", *rejected, *problems]
    )


def test_everything_slack_received_reads_well(tour_run: TourRun) -> None:
    found = [f for p in payloads(tour_run) for f in p.findings()]
    assert not found, summary(found, "what the scripted run (bot/devtools/tour.py) sent Slack")


def test_no_reply_names_the_zone_by_hand() -> None:
    found = lint_tree(ROOT)
    assert not found, summary(
        found, "string literals of bot/ (name the zone with bot.domain.timefmt.zone_label)"
    )
