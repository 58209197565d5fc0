"""Errors that point at the mistake (issue #12, item 6): words after a complete subcommand
are refused the same way in every command, never ignored; counts agree with their nouns;
an "until" names the weekday."""

from __future__ import annotations

import pytest

from bot.config import TeamConfig
from bot.devtools.fakeslack_blocks import block_errors
from bot.devtools.harness import Harness
from bot.domain.calendar import HolidayCalendar
from bot.domain.schedule import Override, segments
from bot.domain.swaps import Swap, SwapStatus
from bot.slack.blocks.common import escape_placeholders, extra_words
from bot.slack.blocks.swaps import announcement
from tests.conftest import ist

PR = "U0PRRAO002"


def test_the_one_refusal() -> None:
    assert extra_words("/oncall schedule 8", ["extra"], "`/oncall schedule [N]`") == (
        "`extra` is not understood after `/oncall schedule 8`; usage: `/oncall schedule [N]`."
    )
    # Long words are cut short and backticks cannot break the code span.
    said = extra_words("/swap list", "a`b " + "x" * 100, "`/swap list`")
    assert said.startswith("`a'b xxxx") and "…` is not understood" in said


@pytest.mark.parametrize(
    ("command", "text", "done", "usage"),
    [
        ("/oncall", "help extra", "/oncall help", "`/oncall help`"),
        ("/oncall", "now growth-agg extra", "/oncall now growth-agg", "`/oncall now [pipeline]`"),
        (
            "/oncall",
            "at 2025-10-20 10:00 growth-agg extra",
            "/oncall at 2025-10-20 10:00 growth-agg",
            "`/oncall at <date time> [pipeline]`",
        ),
        ("/oncall", "week 2025-10-20 extra", "/oncall week 2025-10-20", "`/oncall week [date]`"),
        ("/oncall", "schedule 8 extra", "/oncall schedule 8", "`/oncall schedule [N]`"),
        ("/oncall", "me extra", "/oncall me", "`/oncall me`"),
        ("/oncall", "next @CW extra", "/oncall next @CW", "`/oncall next [@member]`"),
        ("/oncall", "@CW extra", "/oncall @CW", "`/oncall @member`"),
        ("/oncall", "handover extra", "/oncall handover", "`/oncall handover`, which takes no"),
        (
            "/oncall",
            "incidents page 2 extra",
            "/oncall incidents page 2",
            "`/oncall incidents [page N]`",
        ),
        ("/oncall", "pto list extra", "/oncall pto list", "`/oncall pto`"),
        ("/oncall", "pto help extra", "/oncall pto help", "`/oncall pto help`"),
        ("/oncall", "pto cancel 3 extra", "/oncall pto cancel 3", "`/oncall pto cancel <id>`"),
        ("/oncall", "pto 2025-09-10 extra", "/oncall pto 2025-09-10", "`/oncall pto <window>`"),
        (
            "/oncall",
            "runs growth-agg 7 extra",
            "/oncall runs growth-agg 7",
            "`/oncall runs <pipeline> [days]`",
        ),
        ("/oncall", "runs growth agg extra", "/oncall runs growth agg", "`/oncall runs"),
        ("/oncall", "suppressions extra", "/oncall suppressions", "`/oncall suppressions`"),
        ("/oncall", "unsuppress S-3 extra", "/oncall unsuppress S-3", "`/oncall unsuppress <id>`"),
        ("/swap", "help extra", "/swap help", "`/swap help`"),
        ("/swap", "list extra", "/swap list", "`/swap list`"),
        ("/swap", "cancel 12 extra", "/swap cancel 12", "`/swap cancel <id>`"),
        ("/swap", "@CW 2025-09-10 extra", "/swap @CW 2025-09-10", "`/swap @member <window>"),
        (
            "/swap",
            "@CW 2025-09-10 for 2025-09-17 extra",
            "/swap @CW 2025-09-10 for 2025-09-17",
            "`/swap @member <window>",
        ),
        ("/runbook", "list extra", "/runbook list", "`/runbook list`"),
        ("/runbook", "help extra", "/runbook help", "`/runbook help`"),
        ("/runbook", "growth-agg extra", "/runbook growth-agg", "`/runbook [pipeline]`"),
        ("/rca", "list extra", "/rca list", "`/rca` (or `/rca list`)"),
        ("/rca", "help extra", "/rca help", "`/rca help`"),
        ("/rca", "actions all extra", "/rca actions all", "`/rca actions [all]`"),
        ("/rca", "write INC-7 extra", "/rca write INC-7", "`/rca write <incident>`"),
        ("/rca", "assign INC-7 @PR extra", "/rca assign INC-7 @PR", "`/rca assign <incident>"),
        ("/rca", "done INC-7 A2 extra", "/rca done INC-7 A2", "`/rca done <incident> <item>`"),
    ],
)
async def test_extra_words_are_refused_the_same_way_everywhere(
    harness: Harness, command: str, text: str, done: str, usage: str
) -> None:
    body = (await harness.command(command, text, PR)).json
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert body["text"].startswith(
        # As Slack gets it: the usage's `<placeholders>` escaped (blocks/common.py).
        f":warning: `extra` is not understood after `{done}`; usage: {escape_placeholders(usage)}"
    ), body["text"]
    assert block_errors(body["blocks"]) is None


async def test_a_page_summary_is_not_extra_words(harness: Harness) -> None:
    # `/page <pipeline> [sev] <summary>`: every word after the severity is the summary.
    body = (await harness.command("/page", "growth-agg sev2 DAU table is late again", PR)).json
    assert "not understood" not in body["text"]
    assert "opened" in body["text"]


async def test_counts_agree_with_their_nouns(harness: Harness) -> None:
    one = (await harness.command("/oncall", "schedule 1", PR)).json["text"]
    assert one.startswith("On-call schedule: next 1 week\n")
    for text in ("schedule 1", "schedule 2", "me", "incidents"):
        said = (await harness.command("/oncall", text, PR)).json["text"]
        for wrong in ("1 weeks", "1 incidents", "1 alerts", "1 steps", "1 days", "1 conflicts"):
            assert wrong not in said, (text, wrong)
    runbooks = (await harness.command("/runbook", "", PR)).json["text"]
    assert " 1 steps" not in runbooks and "steps" in runbooks


async def test_until_names_the_weekday(harness: Harness) -> None:
    now = (await harness.command("/oncall", "", PR)).json["text"]
    assert "until Mon 8 Sep 2025, 09:00 IST" in now
    suppressed = (
        await harness.command("/oncall", "suppress growth-daily 2h warehouse move", PR)
    ).json["text"]
    assert "suppressed until Wed 3 Sep 2025, 14:00 IST" in suppressed


def test_the_swap_announcement_names_only_the_two_of_the_swap(config: TeamConfig) -> None:
    cal = HolidayCalendar(config.policy.holidays)
    start, end = ist("2025-09-03 00:00"), ist("2025-09-04 00:00")
    swap = Swap(
        id=1,
        requester="PR",
        counterpart="SK",
        start=start,
        end=end,
        status=SwapStatus.APPROVED,
        created_at=ist("2025-09-01 12:00"),
    )
    ovs = [Override(id=1, start=start, end=end, a="PR", b="SK")]
    text = announcement(config, swap, segments(config, cal, start, end, ovs)).text
    assert "• 2025-09-03: PR→SK (swap #1) — Primary SK, Backup CW" in text
    assert "⇄" not in text
