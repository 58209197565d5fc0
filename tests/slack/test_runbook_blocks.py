"""Checklist messages stay inside Slack's Block Kit limits and show the right state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import TeamConfig
from bot.config.runbooks import load_runbooks
from bot.domain.checklist import Change, ChecklistRun, apply_change
from bot.domain.runbook import Runbook
from bot.slack.blocks.runbook import (
    Message,
    block_id,
    parent_message,
    run_id_of,
    step_line,
    thread_messages,
)
from tests.conftest import ROOT
from tests.synthetic import long_runbook

T0 = datetime(2025, 9, 3, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata"))


def _run(runbook: Runbook, parent: bool = True) -> ChecklistRun:
    return ChecklistRun(
        id="cl7",
        runbook=runbook,
        channel="C1",
        thread_ts="1.0",
        parent_ts="1.0" if parent else None,
        opened_at=T0,
    )


def _checkboxes(messages: list[Message]) -> list[dict[str, Any]]:
    return [
        el
        for m in messages
        for b in m.blocks
        if b["type"] == "actions"
        for el in b["elements"]
        if el["type"] == "checkboxes"
    ]


@pytest.mark.parametrize("steps", [1, 10, 11, 25, 300])
def test_every_step_is_offered_once_within_slack_limits(config: TeamConfig, steps: int) -> None:
    messages = thread_messages(config, _run(long_runbook(steps, detail_words=60)))
    values = [o["value"] for el in _checkboxes(messages) for o in el["options"]]
    assert values == [str(n) for n in range(1, steps + 1)]
    for el in _checkboxes(messages):
        assert len(el["options"]) <= 10
        assert all(len(o["text"]["text"]) <= 75 for o in el["options"])
    for m in messages:
        assert len(m.blocks) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in m.blocks)


def test_a_long_checklist_is_split_into_several_messages(config: TeamConfig) -> None:
    messages = thread_messages(config, _run(long_runbook(300, detail_words=60)))
    assert len(messages) > 1
    assert "(part 1/" in messages[0].text


def test_ticks_never_change_how_the_checklist_is_split(config: TeamConfig) -> None:
    run = _run(long_runbook(300, detail_words=60))
    ticked = apply_change(run, Change(tick=frozenset(range(1, 301, 3))), "U0CHENWU03", T0)
    before = [len(m.blocks) for m in thread_messages(config, run)]
    assert [len(m.blocks) for m in thread_messages(config, ticked)] == before


def test_a_smaller_block_budget_splits_sooner(config: TeamConfig) -> None:
    run = _run(long_runbook(40))
    assert len(thread_messages(config, run, max_blocks=5)) > len(thread_messages(config, run))


def test_ticked_option_is_initial_and_says_who_and_when(config: TeamConfig) -> None:
    run = apply_change(_run(long_runbook(12)), Change(tick=frozenset({11})), "U0CHENWU03", T0)
    second = _checkboxes(thread_messages(config, run))[1]
    assert [o["value"] for o in second["initial_options"]] == ["11"]
    assert second["initial_options"][0] == second["options"][0]
    assert second["options"][0]["description"]["text"] == "✓ Chen Wu · Wed 3 Sep 2025, 12:00 IST"
    assert "description" not in second["options"][1]


def test_unticked_group_has_no_initial_options(config: TeamConfig) -> None:
    assert "initial_options" not in _checkboxes(thread_messages(config, _run(long_runbook(3))))[0]


def test_step_links_known_dashboards_and_escapes_markup(config: TeamConfig) -> None:
    step = (
        long_runbook(1)
        .steps[0]
        .model_copy(update={"detail": "a < b & see [[Freshness & Lag]] and [[Nope]]."})
    )
    line = step_line(step, config.policy.dashboards)
    assert line == (
        "*1. Check number 1:* a &lt; b &amp; see "
        "<https://grafana.company.example/d/freshness-lag|Freshness &amp; Lag> and Nope."
    )


def test_block_id_names_the_run_and_changes_every_revision() -> None:
    assert run_id_of(block_id("cl7", 2, 5)) == "cl7"
    assert block_id("cl7", 0, 1) != block_id("cl7", 0, 2)
    assert run_id_of("checklist:cl7") is None
    assert run_id_of("other:cl7:0:1") is None


def test_parent_shows_the_summary_and_progress(config: TeamConfig) -> None:
    growth = load_runbooks(ROOT / "runbooks")["growth-agg"]
    run = apply_change(_run(growth), Change(tick=frozenset({1})), "U0CHENWU03", T0)
    msg = parent_message(config, run)
    text = "\n".join(str(b) for b in msg.blocks)
    assert msg.text == "Runbook for Growth — Aggregate: 1/8 done"
    for expected in ("Daily active users", "Auth events", "Earnings package", "Kafka backlog"):
        assert expected in text
    assert "#investor-kpis" in text and "due 06:30 IST" in text


def test_thread_in_a_page_explains_the_pipeline_itself(config: TeamConfig) -> None:
    run = _run(long_runbook(3), parent=False)
    intro = str(thread_messages(config, run)[0].blocks[:3])
    assert "A synthetic runbook with many steps." in intro
