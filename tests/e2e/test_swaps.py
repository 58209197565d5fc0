"""`/swap` end to end: signed requests through the real app, fake Slack, Redis."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.domain.swaps import SwapStatus
from bot.slack import ids
from tests.conftest import ist
from tests.e2e.swap_helpers import (
    AM,
    CW,
    PR,
    SK,
    channel_posts,
    dms_to,
    oncall,
    press,
    refusals,
    stored,
    swap_cmd,
)


@pytest.fixture(autouse=True)
def before_week_two(clock: FakeClock) -> None:
    # Week 2 (2025-09-01 → 09-08): PR Primary, CW Backup.
    clock.set(ist("2025-08-28 10:00"))


async def test_request_approve_changes_the_schedule_everywhere(harness: Harness) -> None:
    said = await swap_cmd(harness, PR, "<@U0CHENWU03|chen> 2025-09-03")
    assert "swap #1" in said and "Chen Wu" in said
    [ask] = dms_to(harness, CW)
    assert "Priya Rao" in ask.args["text"]
    assert "Wed 3 Sep 2025, 00:00–24:00 IST" in ask.args["text"]

    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)

    assert (await stored(harness, 1)).status is SwapStatus.APPROVED
    [told] = dms_to(harness, PR)
    assert "approved swap #1" in told.args["text"]
    [announced] = channel_posts(harness)
    assert "2025-09-03: CW⇄PR (swap #1)" in announced.args["text"]
    [edited] = harness.slack.of("chat.update")
    assert "approved by CW" in edited.args["text"]
    assert not any(b["type"] == "actions" for b in edited.args["blocks"])

    at = await oncall(harness, PR, "at 2025-09-03 12:00")
    assert "Primary Chen Wu" in at and "Backup Priya Rao" in at
    assert "swap #1: PR and CW exchange roles (CW⇄PR)" in at
    assert "Primary Priya Rao" in await oncall(harness, PR, "at 2025-09-04 12:00")
    ladder = (await harness.command("/oncall", "at 2025-09-03 12:00 growth-agg", PR)).json
    assert "1. *Primary:* Chen Wu" in ladder["blocks"][1]["text"]["text"]
    schedule = await oncall(harness, PR, "schedule 2")
    assert "2025-09-03: CW⇄PR (swap #1)" in schedule

    assert harness.deps is not None
    audit = await harness.deps.swaps.store.audit()
    assert [(e["event"], e["actor"]) for e in audit] == [("request", "PR"), ("approved", "CW")]
    assert audit[1]["at"] == "2025-08-28T10:00:00+05:30"


async def test_plain_initials_and_at_mentions_work(harness: Harness) -> None:
    assert "swap #1" in await swap_cmd(harness, PR, "@CW 2025-09-03")
    assert "swap #2" in await swap_cmd(harness, PR, "sk 2025-09-04 09:00..18:00")
    assert "swap #3" in await swap_cmd(harness, PR, "<@U0AMEHTA01> 2025-09-05")


async def test_decline_leaves_the_schedule_alone(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await press(harness, CW, CW, ids.ACTION_SWAP_DECLINE)
    assert (await stored(harness, 1)).status is SwapStatus.DECLINED
    [told] = dms_to(harness, PR)
    assert "declined swap #1" in told.args["text"]
    assert channel_posts(harness) == []
    assert "Primary Priya Rao" in await oncall(harness, PR, "at 2025-09-03 12:00")


async def test_requester_cancels_and_counterpart_can_no_longer_approve(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    assert "Cancelled swap #1" in await swap_cmd(harness, PR, "cancel 1")
    assert (await stored(harness, 1)).status is SwapStatus.CANCELLED
    assert "cancelled swap #1" in dms_to(harness, CW)[-1].args["text"]

    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    assert any("already cancelled" in r for r in refusals(harness))
    assert "Primary Priya Rao" in await oncall(harness, PR, "at 2025-09-03 12:00")


async def test_cancelling_an_approved_swap_restores_the_schedule(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    await swap_cmd(harness, PR, "cancel 1")
    assert "Primary Priya Rao" in await oncall(harness, PR, "at 2025-09-03 12:00")
    assert "was cancelled" in channel_posts(harness)[-1].args["text"]


async def test_only_the_counterpart_may_answer(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    for who in (SK, PR):
        resp = await press(harness, who, CW, ids.ACTION_SWAP_APPROVE)
        assert resp.status == 200
    await press(harness, SK, CW, ids.ACTION_SWAP_DECLINE)
    said = refusals(harness)
    assert len(said) == 3 and all("Only CW can" in r for r in said)
    assert harness.slack.of("response_url")[0].args["response_type"] == "ephemeral"
    assert (await stored(harness, 1)).status is SwapStatus.PENDING


async def test_only_the_requester_may_cancel(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    said = await swap_cmd(harness, CW, "cancel 1")
    assert "Only PR, who asked for swap #1, can cancel it" in said
    assert (await stored(harness, 1)).status is SwapStatus.PENDING


async def test_unanswered_request_expires_when_its_window_starts(
    harness: Harness, clock: FakeClock
) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    assert harness.deps is not None and harness.app is not None
    clock.set(ist("2025-09-02 23:59"))
    await harness.deps.swaps.expire_due()
    await harness.deliver()
    assert (await stored(harness, 1)).status is SwapStatus.PENDING

    clock.set(ist("2025-09-03 00:00"))
    await harness.deps.swaps.expire_due()
    await harness.deliver()
    await harness.deps.swaps.expire_due()
    await harness.deliver()
    assert (await stored(harness, 1)).status is SwapStatus.EXPIRED
    expired = [c for c in dms_to(harness, PR) if "expired" in c.args["text"]]
    assert len(expired) == 1
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    assert any("already expired" in r for r in refusals(harness))


async def test_overlap_with_an_approved_swap_is_refused_by_name(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    said = await swap_cmd(harness, PR, "@SK 2025-09-03 09:00..18:00")
    assert "overlaps approved swap #1 (PR→CW, 2025-09-03)" in said
    # Another day is fine.
    assert "swap #2" in await swap_cmd(harness, PR, "@SK 2025-09-04")


async def test_racing_approvals_of_overlapping_swaps_have_one_winner(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await swap_cmd(harness, PR, "@SK 2025-09-03 12:00..18:00")
    # Warm connections so neither approval waits on a connect while the other finishes.
    await asyncio.gather(harness.redis.ping(), harness.redis.ping())
    await asyncio.gather(
        press(harness, CW, CW, ids.ACTION_SWAP_APPROVE),
        press(harness, SK, SK, ids.ACTION_SWAP_APPROVE),
    )
    statuses = sorted([(await stored(harness, i)).status.value for i in (1, 2)])
    assert statuses == ["approved", "pending"]
    [lost] = refusals(harness)
    assert "which was approved first" in lost
    assert len(channel_posts(harness)) == 1


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        (PR, "@PR 2025-09-04", "cannot swap with yourself"),
        (PR, "@XY 2025-09-04", "`@XY` is not on the roster"),
        (PR, "@CW 2025-08-27", "has already started"),
        (PR, "@CW 2025-09-04 18:00..09:00", "must end after it starts"),
        (PR, "@CW someday", "A window is one of"),
        (PR, "@CW", "Say when"),
        (AM, "@CW 2025-09-03", "You (AM) are not Primary or Backup"),
        (PR, "@CW 2025-09-07..2025-09-09", "You (PR) are not Primary or Backup"),
        (PR, "@SK 2025-09-03 for 2025-09-24", "SK is not Primary or Backup"),
        (PR, "cancel x", "/swap cancel 12"),
    ],
)
async def test_bad_requests_say_what_is_valid(
    harness: Harness, user: str, text: str, expected: str
) -> None:
    resp = await harness.command("/swap", text, user)
    assert resp.json["response_type"] == "ephemeral"
    assert expected in resp.json["text"]
    assert dms_to(harness, CW) == [] and dms_to(harness, SK) == []


async def test_exchange_of_shifts_is_two_overrides(harness: Harness) -> None:
    # Week 4 (09-15 → 09-22): SK Primary, AM Backup.
    await swap_cmd(harness, PR, "@SK 2025-09-03 for 2025-09-16")
    await press(harness, SK, SK, ids.ACTION_SWAP_APPROVE)
    first = await oncall(harness, PR, "at 2025-09-03 12:00")
    assert "Primary Samir Kapoor" in first and "Backup Chen Wu" in first
    assert "SK takes PR's Primary role" in first
    second = await oncall(harness, PR, "at 2025-09-16 12:00")
    assert "Primary Priya Rao" in second and "Backup Alex Mehta" in second


async def test_week_window_runs_handoff_to_handoff(harness: Harness) -> None:
    await swap_cmd(harness, CW, "@SK week 2025-09-03")
    swap = await stored(harness, 1)
    assert (swap.start, swap.end) == (ist("2025-09-01 09:00"), ist("2025-09-08 09:00"))


async def test_list_shows_pending_and_upcoming(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await swap_cmd(harness, PR, "@SK 2025-09-04")
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    listed = await swap_cmd(harness, AM, "list")
    pending, approved = listed.split("*Approved, not yet over*")
    assert "#2 PR→SK 2025-09-04" in pending
    assert "#1 PR→CW 2025-09-03" in approved


async def test_a_page_during_an_approved_swap_pages_the_swapped_in_person(
    harness: Harness, clock: FakeClock
) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    clock.set(ist("2025-09-03 12:00"))
    await harness.command("/page", "growth-agg sev1 DAU late", AM)
    await harness.run_jobs()
    page_dms = [c for c in harness.slack.of("chat.postMessage") if " INC-1 " in str(c.args["text"])]
    # CW holds Primary through the swap, so CW is paged first; PR is now Backup.
    assert [c.args["channel"] for c in page_dms if str(c.args["channel"]).startswith("D")] == [
        "D" + CW
    ]
    clock.set(ist("2025-09-03 12:10"))
    await harness.run_jobs()
    dm_channels = [
        c.args["channel"]
        for c in harness.slack.of("chat.postMessage")
        if " INC-1 " in str(c.args["text"]) and str(c.args["channel"]).startswith("D")
    ]
    assert dm_channels == ["D" + CW, "D" + PR]
