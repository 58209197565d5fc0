"""Escalation that follows the schedule as it changes, reaches everyone, and says so, through
the real app: signed requests, the fake Slack, a fake clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness
from bot.slack import ids
from tests.conftest import ROOT, ist
from tests.e2e.paging_helpers import IDS, advance, dms, thread
from tests.e2e.paging_helpers import press as press_page
from tests.e2e.swap_helpers import press, swap_cmd


def _who(h: Harness) -> list[str]:
    return [w for w, _ in dms(h)]


async def test_a_page_across_the_monday_handover_follows_the_new_week(
    harness: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-09-29 08:55"))  # week 5 (AM/CW) until 09:00, then week 6 (PR/SK)
    await harness.command("/page", "growth-agg sev1 DAU late", IDS["AM"])
    assert _who(harness) == ["AM"]
    await advance(harness, 5)  # 09:00: the handover
    told = dict(dms(harness)[1:])  # two people, told at once (in either order)
    assert sorted(told) == ["AM", "PR"]
    assert told["PR"].startswith("You inherit INC-1 as Primary: open 5 min, not ACKed")
    assert "rotation week 6 of 8" in told["PR"]
    assert told["AM"].startswith("You are off the hook for INC-1: <@U0PRRAO002> is Primary")
    assert "Primary is now <@U0PRRAO002>, and INC-1 is still not ACKed" in thread(harness)[-1]
    await advance(harness, 5)  # 09:05: the backup rung, resolved now: week 6's SK
    assert _who(harness)[-1] == "SK"
    assert "You are paged as Backup" in dms(harness)[-1][1]
    assert "CW" not in _who(harness)  # week 5's Backup, off duty since 09:00
    text = (await harness.command("/oncall", "incidents", IDS["AM"])).json["text"]
    assert "Paging Backup <@U0SKAPOOR4>" in text


async def test_a_swap_approved_while_a_page_is_open_changes_who_the_next_rung_pages(
    harness: Harness, clock: FakeClock
) -> None:
    # Week 2: PR Primary, CW Backup. CW hands their role to SK from 12:05.
    await harness.command("/page", "growth-agg sev1 DAU late", IDS["AM"])
    await swap_cmd(harness, IDS["CW"], "@SK 2025-09-03 12:05..18:00")
    await press(harness, IDS["SK"], IDS["SK"], ids.ACTION_SWAP_APPROVE)
    await advance(harness, 10)
    assert _who(harness) == ["PR", "SK"]
    assert thread(harness)[-1] == "No ACK in 10 min: escalated to Backup <@U0SKAPOOR4>."


async def test_with_no_incident_commander_both_free_engineers_lead_and_all_get_the_final_page(
    harness: Harness,
) -> None:
    # Week 2 PR/CW; profit-agg's secondary owner PR is Primary: no commander rung.
    await harness.command("/page", "profit-agg sev1 margin table empty", IDS["AM"])
    await advance(harness, 10)
    assert _who(harness) == ["PR", "CW"]
    await advance(harness, 15)  # the skipped commander's delay, then both leads
    assert sorted(_who(harness)[2:]) == ["AM", "SK"]
    assert thread(harness)[-1] == (
        "No ACK in 15 min: escalated to Data Platform Lead <@U0AMEHTA01> and <@U0SKAPOOR4>."
    )
    await advance(harness, 60)  # three repeats, then the final page
    final = [w for w, t in dms(harness) if t.startswith("Final page")]
    assert sorted(final) == ["AM", "CW", "PR", "SK"]
    assert "final page (repeat 4 of 4) to every engineer on the roster" in thread(harness)[-1]


async def test_a_sev3_stops_after_the_backup(harness: Harness) -> None:
    body = (await harness.command("/page", "growth-agg sev3 slow", IDS["AM"])).json
    assert "INC-1 opened" in body["text"]
    await advance(harness, 10)
    assert _who(harness) == ["PR", "CW"]
    assert "Automatic escalation has run out" in thread(harness)[-1]
    await advance(harness, 120)
    assert _who(harness) == ["PR", "CW"]
    page = harness.slack.of("chat.update")[-1].args
    assert "SEV3: pages Primary → Backup, no repeats" in str(page["blocks"])


async def test_a_sev4_only_notifies_the_channel(harness: Harness) -> None:
    await harness.command("/page", "growth-agg sev4 cosmetic drift", IDS["AM"])
    await advance(harness, 30)
    assert _who(harness) == []
    [post] = [c for c in harness.slack.of("chat.postMessage") if "INC-1" in str(c.args["text"])]
    assert "Channel notification for the Primary <@U0PRRAO002>" in post.args["text"]


@pytest.fixture
async def no_slack_id(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[Harness]:
    members = [
        m.model_copy(update={"slack_id": None}) if m.initials == "CW" else m for m in config.members
    ]
    h = await Harness(
        redis,
        clock,
        config.model_copy(update={"members": members}),
        settings_overrides={"runbooks_dir": ROOT / "no-runbooks"},
    ).start()
    yield h
    await h.stop()


async def test_a_member_with_no_slack_id_is_named_and_the_next_rung_fires_at_once(
    no_slack_id: Harness,
) -> None:
    h = no_slack_id
    await h.command("/page", "growth-agg sev1 DAU late", IDS["AM"])
    await advance(h, 10)
    said = thread(h)
    assert "Could not reach Backup Chen Wu: no Slack ID in schedules/team.toml." in said
    # The commander (SK) is paged at 12:10 with the backup rung, not 15 min later.
    assert [w for w, _ in dms(h)] == ["PR", "SK"]


async def test_a_dm_slack_refuses_is_said_and_the_next_rung_fires_at_once(
    harness: Harness,
) -> None:
    await harness.command("/page", "growth-agg sev1 DAU late", IDS["AM"])
    await advance(harness, 9.5)
    harness.slack.refuse("chat.postMessage", "account_inactive", channel="DU0CHENWU03")
    await advance(harness, 0.5)  # 12:10: CW's DM is refused
    await advance(harness, 0.5)
    assert "Could not reach <@U0CHENWU03>: Slack says `account_inactive`." in thread(harness)
    assert _who(harness) == ["PR", "SK"]


async def test_every_duration_in_a_full_escalation_reads_like_a_person_wrote_it(
    harness: Harness,
) -> None:
    answers = []
    await harness.command("/page", "growth-agg sev1 DAU late", IDS["AM"])
    await advance(harness, 3.5)
    answers.append((await harness.command("/oncall", "incidents", IDS["AM"])).text)
    await advance(harness, 120)
    await harness.command("/page", "profit-agg sev2 margins", IDS["AM"])
    await advance(harness, 0.5)
    answers.append((await harness.command("/oncall", "incidents", IDS["AM"])).text)
    await harness.command("/page", "engagement-agg sev2 scores", IDS["AM"])
    await advance(harness, 3.5)
    await press_page(harness, "PR", ids.ACTION_PAGE_ACK, "INC-3")
    texts = [str(c.args) for c in harness.slack.calls] + answers
    rendered = "\n".join(texts)
    assert "in 6 min 30 s" in rendered  # the countdown, to the second
    assert "Acknowledged by <@U0PRRAO002>, 3 min 30 s after the page." in rendered
    assert "INC-1" in rendered and "Final page" in rendered
    assert not re.search(r"\b\d{3,} s\b", rendered)
    assert not re.search(r"\b0 min\b", rendered)


async def test_an_out_of_hours_notification_stays_open_through_the_next_business_day(
    harness: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-09-05 19:05"))  # a Friday, after business hours (and a holiday)
    resp = await harness.alert(
        {"pipeline": "growth-daily", "signal": "freshness", "summary": "scorecard late"}
    )
    assert resp.json["accepted"][0]["mode"] == "best_effort", resp.json
    clock.set(ist("2025-09-08 09:00"))  # Monday, the next business-hours window opens
    await harness.run_jobs()
    assert "INC-1" in (await harness.command("/oncall", "incidents", IDS["AM"])).json["text"]
    clock.set(ist("2025-09-08 19:00"))  # ...and closes at the end of that window
    await harness.run_jobs()
    assert "Closed automatically" in thread(harness)[-1]
