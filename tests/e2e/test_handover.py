"""The Monday handover through the real app, on a fake clock: the digest in the team channel
and by DM at 09:00, exactly once with two replicas running their jobs side by side; the
two Primaries' "Handover done"; the 09:30 reminder; a digest owed through an outage, sent
late; `/oncall handover`'s preview; and the console."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.console import Console, run_console
from bot.devtools.fakeslack import Call, FakeSlack
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload
from bot.slack import ids
from tests.conftest import ROOT, ist
from tests.e2e.paging_helpers import IDS, INITIALS, ephemeral_replies, press

# Alex Mehta (Primary) and Chen Wu (Backup) hand over to Priya Rao and Samir Kapoor: four
# different people, so the digest goes by DM to four.
BOUNDARY = ist("2025-09-29 09:00")
TEAM = "#data-platform"


def _digests(slack: FakeSlack) -> list[Call]:
    """Every handover digest posted (channel and DMs), in order."""
    return [
        c
        for c in slack.of("chat.postMessage")
        if str(c.args.get("text", "")).startswith("Handover ")
    ]


def _in_channel(slack: FakeSlack) -> list[Call]:
    return [c for c in _digests(slack) if c.args.get("channel") == TEAM]


def _dm_to(slack: FakeSlack) -> list[str]:
    """Initials of whoever got the digest by DM, in order."""
    return [
        INITIALS[str(c.args["channel"])[1:]]
        for c in _digests(slack)
        if str(c.args["channel"]).startswith("D")
    ]


def _reminders(slack: FakeSlack) -> list[tuple[str, str]]:
    return [
        (INITIALS[str(c.args["channel"])[1:]], str(c.args["text"]))
        for c in slack.of("chat.postMessage")
        if str(c.args.get("channel", "")).startswith("D")
        and str(c.args.get("text", "")).startswith(":bell: The handover")
    ]


def _blocks_text(call: Call) -> str:
    out = []
    for block in call.args.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(str(text.get("text", "")))
        for el in block.get("elements") or []:
            if isinstance(el, dict) and isinstance(el.get("text"), str):
                out.append(el["text"])
    return "\n".join(out)


def _channel_message(h: Harness) -> dict[str, Any]:
    """The digest as it reads in the team channel."""
    return next(
        m
        for (channel, _), m in h.slack.messages.items()
        if channel == TEAM and str(m.get("text", "")).startswith("Handover ")
    )


async def _press_done(h: Harness, user: str) -> str:
    """`user` presses Handover done on the channel's digest; the ephemeral answer."""
    message = _channel_message(h)
    [value] = [
        el["value"]
        for b in message["blocks"]
        if b.get("block_id") == ids.HANDOVER_ACTIONS_BLOCK
        for el in b["elements"]
        if el.get("action_id") == ids.ACTION_HANDOVER_DONE
    ]
    payload = block_actions_payload(
        user_id=IDS.get(user, user),
        action={"type": "button", "action_id": ids.ACTION_HANDOVER_DONE, "value": value},
        block_id=ids.HANDOVER_ACTIONS_BLOCK,
        response_url=h.slack.response_url(),
        channel=TEAM,
        message=message,
    )
    before = len(ephemeral_replies(h))
    resp = await h.interact(payload)
    assert resp.status == 200, resp.text
    answers = ephemeral_replies(h)[before:]
    assert len(answers) == 1, answers
    return answers[0]


async def _both(one: Harness, two: Harness, clock: FakeClock, until: str) -> None:
    """Both replicas run their jobs concurrently every 30 s up to `until` (IST)."""
    target = ist(until)
    while clock.now() < target:
        clock.set(min(clock.now() + timedelta(seconds=30), target))
        await asyncio.gather(one.run_jobs(), two.run_jobs())


async def _replicas(
    shared_redis: tuple[Redis, Redis], clock: FakeClock, config: TeamConfig
) -> tuple[Harness, Harness, FakeSlack]:
    slack = FakeSlack()
    extra = {"runbooks_dir": ROOT / "runbooks"}
    one = await Harness(shared_redis[0], clock, config, extra, slack=slack).start()
    two = await Harness(shared_redis[1], clock, config, extra, slack=slack).start()
    return one, two, slack


async def _stop(one: Harness, two: Harness, slack: FakeSlack) -> None:
    await one.stop()
    await two.stop()
    await slack.stop()


async def _week_to_review(h: Harness) -> None:
    """A resolved Sev-1 on an investor pipeline (its RCA pending), an open incident with
    its checklist, and a suppression running through the handover."""
    assert h.deps is not None
    resp = await h.command("/page", "profit-agg sev1 profit aggregate late", IDS["AM"])
    assert resp.status == 200, resp.text
    await press(h, "AM", ids.ACTION_PAGE_RESOLVE, "INC-1")
    stored = await h.deps.paging.stored("INC-1")
    assert stored is not None and not stored.incident.open
    # Resolving opens the RCA; asking again keeps that one, whoever opened it first.
    await h.deps.rcas.open_for(stored.incident, stored.incident.resolved_at or h.clock.now())
    assert [r.incident_id for r in await h.deps.rcas.open_rcas()] == ["INC-1"]
    await h.command("/page", "growth-agg sev2 DAU numbers late", IDS["CW"])
    await press(h, "CW", ids.ACTION_PAGE_ACK, "INC-2")
    resp = await h.command("/oncall", "suppress growth-daily 1d backfill running", IDS["AM"])
    assert "S-1" in resp.json["text"], resp.text


async def test_digest_once_across_replicas_then_done_and_the_reminder(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    clock = FakeClock(ist("2025-09-29 07:30"))
    one, two, slack = await _replicas(shared_redis, clock, config)
    try:
        await _week_to_review(one)
        await _both(one, two, clock, "2025-09-29 08:59")
        assert _digests(slack) == []
        await _both(one, two, clock, "2025-09-29 09:05")

        [post] = _in_channel(slack)
        text = str(post.args["text"])
        assert text.startswith("Handover Mon 29 Sep 2025, 09:00 IST: Primary Alex Mehta → ")
        assert "Priya Rao, Backup Samir Kapoor. 1 open incident, 1 suppression" in text
        assert "1 pending RCA" in text and "(sent late)" not in text
        body = _blocks_text(post)
        assert "*INC-2* SEV2 Growth — Aggregate: DAU numbers late" in body
        assert "ACKed by Chen Wu" in body and "checklist 0/" in body
        assert "*S-1* Growth — Daily" in body and "backfill running" in body
        assert "*Pending RCAs (1)*" in body and "*INC-1* SEV1 Profit — Aggregate" in body
        assert "Sent late" not in body
        # Last week's numbers count the resolved incident too, read from its stored record.
        assert "*Last week* (Mon 22 Sep 2025, 09:00 → Mon 29 Sep 2025, 09:00 IST)" in body
        assert "Profit — Aggregate 1, Growth — Aggregate 1" in body
        assert sorted(_dm_to(slack)) == ["AM", "CW", "PR", "SK"]
        # Every copy is drawn from the one snapshot queued with the claim.
        assert {_blocks_text(c) for c in _digests(slack)} == {body}

        clock.set(ist("2025-09-29 09:10"))
        answer = await _press_done(one, "AM")
        assert "you confirmed the handover of Mon 29 Sep 2025, 09:00 IST at 09:10 IST" in answer
        assert "Still to confirm: Priya Rao." in answer
        refused = "Only the outgoing and incoming Primary (Alex Mehta and Priya Rao) confirm"
        assert refused in await _press_done(two, "CW")
        assert refused in await _press_done(one, "U0NOTONROSTER")
        clock.set(ist("2025-09-29 09:15"))
        again = await _press_done(two, "AM")
        assert "You had already confirmed" in again and "at 09:10 IST; that time stands" in again

        await _both(one, two, clock, "2025-09-29 09:29")
        assert _reminders(slack) == []
        await _both(one, two, clock, "2025-09-29 09:45")
        [(who, reminder)] = _reminders(slack)
        assert who == "PR" and "not confirmed yet by <@U0PRRAO002>" in reminder

        answer = await _press_done(two, "PR")
        assert "at 09:45 IST" in answer and "Both Primaries have confirmed" in answer
        assert one.deps is not None
        done = await one.deps.handover.confirmations(BOUNDARY)
        assert [(c.member, c.at) for c in done.confirmed] == [
            ("AM", ist("2025-09-29 09:10")),
            ("PR", ist("2025-09-29 09:45")),
        ]
        await _both(one, two, clock, "2025-09-29 11:00")
        assert len(_digests(slack)) == 5 and len(_reminders(slack)) == 1
    finally:
        await _stop(one, two, slack)


async def test_an_outage_through_nine_still_sends_it_once_saying_late(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    clock = FakeClock(ist("2025-09-29 08:50"))
    one, two, slack = await _replicas(shared_redis, clock, config)
    try:
        # The bot runs before the handover, then every replica is down from 08:50 to 11:00.
        await asyncio.gather(one.run_jobs(), two.run_jobs())
        clock.set(ist("2025-09-29 11:00"))
        await asyncio.gather(one.run_jobs(), two.run_jobs())
        await _both(one, two, clock, "2025-09-29 11:05")

        [post] = _in_channel(slack)
        assert "Handover Mon 29 Sep 2025, 09:00 IST (sent late)" in str(post.args["text"])
        body = _blocks_text(post)
        assert ":warning: *Sent late.* This digest was due at Mon 29 Sep 2025, 09:00 IST" in body
        assert "it went out at Mon 29 Sep 2025, 11:00 IST, 2 h late" in body
        assert sorted(_dm_to(slack)) == ["AM", "CW", "PR", "SK"]
        # A late digest gets its own half hour before anyone is reminded.
        await _both(one, two, clock, "2025-09-29 11:29")
        assert _reminders(slack) == []
        await _both(one, two, clock, "2025-09-29 11:35")
        assert sorted(who for who, _ in _reminders(slack)) == ["AM", "PR"]
        assert len(_digests(slack)) == 5
    finally:
        await _stop(one, two, slack)


async def test_nothing_is_owed_for_a_handover_no_replica_saw_coming(
    harness: Harness, clock: FakeClock
) -> None:
    # First started on a Wednesday: Monday's handover was not missed, it was never due.
    await harness.run_jobs()
    assert _digests(harness.slack) == []
    clock.set(ist("2025-09-08 08:59"))
    await harness.run_jobs()
    clock.set(ist("2025-09-08 09:00"))
    await harness.run_jobs()
    [post] = _in_channel(harness.slack)
    assert str(post.args["text"]).startswith("Handover Mon 8 Sep 2025, 09:00 IST: Primary")


async def test_oncall_handover_previews_the_next_digest(harness: Harness, clock: FakeClock) -> None:
    clock.set(ist("2025-09-26 12:00"))
    reply = (await harness.command("/oncall", "handover", IDS["SK"])).json
    assert reply["text"].startswith("Preview (sent at Mon 29 Sep 2025, 09:00 IST). Handover")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    blocks = reply["blocks"]
    assert blocks[0]["text"]["text"] == "Handover preview · Mon 29 Sep 2025, 09:00 IST"
    assert "by DM to Alex Mehta, Chen Wu, Priya Rao, Samir Kapoor" in str(blocks)
    assert "This week so far" in str(blocks)
    # No button: confirming a handover that has not happened would silence the reminder.
    assert not [b for b in blocks if b["type"] == "actions"]
    wrong = (await harness.command("/oncall", "handover next", IDS["SK"])).json
    assert "takes no arguments" in wrong["text"]
    await harness.run_jobs()
    assert _digests(harness.slack) == []


async def test_console_shows_the_digest_at_nine(harness: Harness) -> None:
    out = io.StringIO()
    assert isinstance(harness.clock, FakeClock)
    cfg = harness.config or TeamConfig.model_validate({})
    # As `oncall-bot console` runs it: every clock step runs the background jobs.
    console = Console(harness, harness.clock, cfg, out, tickers=[harness.run_jobs])
    script = "at 2025-09-01 08:59\nadvance 2m\n"
    await run_console(console, io.StringIO(script), interactive=False)
    text = out.getvalue()
    assert "Clock advanced to 2025-09-01 09:01 IST (Monday)." in text
    assert "[#data-platform]\n== Handover · Mon 1 Sep 2025, 09:00 IST ==" in text
    assert "Outgoing (week 1 of 8): Primary Alex Mehta (@AM), Backup Priya Rao (@PR)" in text
    # Three people (PR was Backup and is now Primary) by DM, plus the channel: four buttons.
    assert text.count("== Handover · Mon 1 Sep 2025, 09:00 IST ==") == 4
    [n, *_] = [
        line.split(":")[0].strip(" [")
        for line in text.splitlines()
        if line.strip().endswith(": Handover done]")
    ]
    await run_console(console, io.StringIO(f"press {n}\n"), interactive=False)
    assert "Recorded: you confirmed the handover of Mon 1 Sep 2025, 09:00 IST at 09:01 IST. " in (
        out.getvalue()
    )
