"""`/oncall` through the real app: signed HTTP requests, fake Slack Web API."""

from __future__ import annotations

import time

from bot.devtools.harness import Harness
from bot.devtools.signing import command_body, signed_headers

PR = "U0PRRAO002"


async def test_at_week_two_names_primary_and_backup(harness: Harness) -> None:
    resp = await harness.command("/oncall", "at 2025-09-03 12:00", PR)
    assert resp.status == 200
    body = resp.json
    assert body["response_type"] == "ephemeral"
    assert "Primary Priya Rao (<@U0PRRAO002>)" in body["text"]
    assert "Backup Chen Wu (<@U0CHENWU03>)" in body["text"]
    # Until: the weekday too, as every instant a person reads.
    assert "until Mon 8 Sep 2025, 09:00 IST" in body["text"]
    assert "rotation week 2 of 8" in body["text"]


async def test_diwali_exchange_is_shown_and_explained(harness: Harness) -> None:
    body = (await harness.command("/oncall", "at 2025-10-20 10:00", PR)).json
    # Week 9 = week 1 (AM primary, PR backup); Diwali makes PR primary for the day.
    assert "Primary Priya Rao" in body["text"]
    assert "Backup Alex Mehta" in body["text"]
    assert "Diwali" in body["text"] and "PR⇄AM" in body["text"]
    assert "until Tue 21 Oct 2025, 00:00 IST" in body["text"]


async def test_pipeline_ladder(harness: Harness) -> None:
    body = (await harness.command("/oncall", "at 2025-09-03 12:00 growth-agg", PR)).json
    section = body["blocks"][1]["text"]["text"]
    assert "1. *Primary:* Priya Rao" in section
    assert "3. *Incident Commander:* Samir Kapoor" in section
    assert "4. *Data Platform Lead:* Alex Mehta" in section


async def test_schedule_annotates_diwali(harness: Harness) -> None:
    harness.clock.set(harness.clock.now().replace(month=10, day=14))  # type: ignore[attr-defined]
    body = (await harness.command("/oncall", "schedule 2", PR)).json
    assert "2025-10-20 (Diwali): PR⇄SK" in body["text"]
    assert "2025-10-20 (Diwali): PR⇄AM" in body["text"]


async def test_unknown_pipeline_suggests_nearest(harness: Harness) -> None:
    body = (await harness.command("/oncall", "now growth-agregate", PR)).json
    assert body["response_type"] == "ephemeral"
    assert "Did you mean `growth-agg`?" in body["text"]


async def test_bad_date_says_what_is_valid(harness: Harness) -> None:
    body = (await harness.command("/oncall", "at 2025-13-45 10:00", PR)).json
    assert "is not a date or time" in body["text"]
    assert "tomorrow 10:00" in body["text"]


async def test_unknown_subcommand_lists_valid_ones(harness: Harness) -> None:
    body = (await harness.command("/oncall", "whoami", PR)).json
    assert "Unknown subcommand `whoami`" in body["text"]
    assert "now, at, week, schedule, help" in body["text"]


async def test_before_rotation_start(harness: Harness) -> None:
    body = (await harness.command("/oncall", "at 2025-08-01 10:00", PR)).json
    assert "no rotation defined before Mon 25 Aug 2025, 09:00" in body["text"]


async def test_forged_signature_is_401(harness: Harness) -> None:
    body = command_body("/oncall", "now", PR, response_url=harness.slack.response_url())
    headers = signed_headers("not-the-secret", body)
    assert (await harness.post("/slack/events", body, headers)).status == 401


async def test_stale_timestamp_is_401(harness: Harness) -> None:
    body = command_body("/oncall", "now", PR, response_url=harness.slack.response_url())
    stale = int(time.time()) - 10 * 60
    assert (await harness.signed(body, timestamp=stale)).status == 401


async def test_healthz(harness: Harness) -> None:
    resp = await harness.get("/healthz")
    assert resp.status == 200 and resp.json["redis"] == "ok"
