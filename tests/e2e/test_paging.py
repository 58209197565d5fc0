"""Paging and escalation through the real app: signed requests, fake Slack, Redis."""

from __future__ import annotations

from bot.devtools.harness import Harness
from bot.slack import ids
from tests.e2e.paging_helpers import (
    IDS,
    advance,
    dms,
    ephemeral_replies,
    page_posts,
    press,
    thread,
)


async def _page(harness: Harness, text: str = "growth-agg sev1 DAU table is 2 h late") -> str:
    resp = await harness.command("/page", text, IDS["AM"])
    assert resp.status == 200
    assert "INC-1 opened" in resp.json["text"]
    await harness.run_jobs()
    return "INC-1"


async def test_unacked_page_walks_the_whole_ladder_and_repeats(harness: Harness) -> None:
    # 2025-09-03 12:00: week 2, PR primary, CW backup; growth-agg IC = SK, lead = AM.
    await _page(harness)
    [post] = page_posts(harness)
    assert post.args["channel"] == "#investor-kpis"
    assert "Paging Primary <@U0PRRAO002>" in str(post.args["text"])
    assert dms(harness) == [("PR", dms(harness)[0][1])]
    assert "You are paged as Primary" in dms(harness)[0][1]

    await advance(harness, 9.5)
    assert [who for who, _ in dms(harness)] == ["PR"]
    await advance(harness, 0.5)
    assert [who for who, _ in dms(harness)] == ["PR", "CW"]
    assert thread(harness) == ["No ACK in 10 min: escalated to Backup <@U0CHENWU03>."]
    update = harness.slack.of("chat.update")[-1].args
    assert "Paging Backup <@U0CHENWU03>" in str(update["text"])

    await advance(harness, 15)
    assert [who for who, _ in dms(harness)] == ["PR", "CW", "SK"]
    assert thread(harness)[-1] == (
        "No ACK in 15 min: escalated to Incident Commander <@U0SKAPOOR4>."
    )
    await advance(harness, 15)
    assert [who for who, _ in dms(harness)][-1] == "AM"
    assert thread(harness)[-1] == "No ACK in 15 min: escalated to Data Platform Lead <@U0AMEHTA01>."

    # Then the lead is paged again every 15 min, 4 times, the last one to everyone.
    await advance(harness, 15)
    assert thread(harness)[-1].startswith("No ACK in 15 min: paging Data Platform Lead")
    assert "(repeat 1 of 4)" in thread(harness)[-1]
    await advance(harness, 45)
    assert "final page (repeat 4 of 4)" in thread(harness)[-1]
    assert "stays open until someone ACKs or resolves it" in thread(harness)[-1]
    # The final page goes to all four at once (delivered concurrently, in any order).
    assert sorted(who for who, _ in dms(harness)[-4:]) == ["AM", "CW", "PR", "SK"]
    total = len(dms(harness))
    await advance(harness, 120)
    assert len(dms(harness)) == total  # bounded: nothing more after the final page
    final = harness.slack.of("chat.update")[-1].args
    assert "automatic escalation has run out" in str(final["text"])


async def test_ack_at_nine_minutes_stops_everything(harness: Harness) -> None:
    await _page(harness)
    await advance(harness, 9)
    resp = await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-1")
    assert resp.status == 200
    await harness.run_jobs()
    assert thread(harness) == ["Acknowledged by <@U0PRRAO002>, 9 min after the page."]
    update = str(harness.slack.of("chat.update")[-1].args["text"])
    assert (
        "Acknowledged by <@U0PRRAO002> at Wed 3 Sep 2025, 12:09 IST, 9 min after the page" in update
    )
    before = (len(harness.slack.of("chat.update")), thread(harness))
    await advance(harness, 24 * 60, step=5)
    # Nothing more for this incident, whatever the clock does: no DM, no reply, no update.
    assert [who for who, _ in dms(harness)] == ["PR"]
    assert (len(harness.slack.of("chat.update")), thread(harness)) == before


async def test_second_ack_and_retries_change_nothing(harness: Harness) -> None:
    await _page(harness)
    await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-1")
    await harness.run_jobs()
    calls = len(harness.slack.calls)
    await press(harness, "CW", ids.ACTION_PAGE_ACK, "INC-1")  # a second person
    await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-1")  # a double click / Slack retry
    await harness.run_jobs()
    replies = ephemeral_replies(harness)
    assert (
        replies
        == [
            ":warning: Nothing changed: INC-1 was already acknowledged by <@U0PRRAO002>.",
        ]
        * 2
    )
    assert len(harness.slack.calls) == calls + 2  # only the two ephemeral replies


async def test_only_rostered_members_may_ack(harness: Harness) -> None:
    await _page(harness)
    await press(harness, "U0STRANGER", ids.ACTION_PAGE_ACK, "INC-1")
    assert ephemeral_replies(harness) == [
        ":warning: Only members of the on-call roster (AM, PR, CW, SK) can ACK a page."
    ]
    await advance(harness, 10)
    assert [who for who, _ in dms(harness)] == ["PR", "CW"]


async def test_resolve_clears_timers_and_escalate_now_moves_on(harness: Harness) -> None:
    await _page(harness)
    await press(harness, "PR", ids.ACTION_PAGE_ESCALATE, "INC-1")
    await harness.run_jobs()
    assert [who for who, _ in dms(harness)] == ["PR", "CW"]
    assert thread(harness) == ["Escalated now by PR: escalated to Backup <@U0CHENWU03>."]
    await press(harness, "CW", ids.ACTION_PAGE_RESOLVE, "INC-1")
    await harness.run_jobs()
    assert thread(harness)[-1] == "Resolved by <@U0CHENWU03>."
    await advance(harness, 120)
    assert [who for who, _ in dms(harness)] == ["PR", "CW"]
    body = (await harness.command("/oncall", "incidents", IDS["AM"])).json
    assert body["text"] == "No open incidents."
    assert await harness.redis.zcard("oncall:escalation:due") == 0
    assert await harness.redis.ttl("oncall:incident:INC-1") > 89 * 86400


async def test_oncall_incidents_lists_status_and_next_step(harness: Harness) -> None:
    await _page(harness)
    await advance(harness, 4)
    text = (await harness.command("/oncall", "incidents", IDS["AM"])).json["text"]
    assert "*INC-1* SEV1 Growth — Aggregate: DAU table is 2 h late" in text
    assert "Paging Primary <@U0PRRAO002>" in text
    assert "next: Backup <@U0CHENWU03> at Wed 3 Sep 2025, 12:10 IST (in 6 min)" in text
    assert "checklist 0/8 done" in text


async def test_page_errors_are_specific(harness: Harness) -> None:
    cases = {
        "": "Which pipeline?",
        "growth-agr boom": "Did you mean `growth-agg`?",
        "growth-agg sev9 boom": "Unknown severity `sev9`",
        "growth-agg sev1": "Say what is wrong",
    }
    for text, expected in cases.items():
        body = (await harness.command("/page", text, IDS["AM"])).json
        assert expected in body["text"], (text, body["text"])
        assert body["response_type"] == "ephemeral"
    assert await harness.redis.get("oncall:incident:seq") is None


async def test_second_manual_page_joins_the_open_one(harness: Harness) -> None:
    await _page(harness)
    body = (await harness.command("/page", "growth agg still broken", IDS["SK"])).json
    assert "already has an open page, INC-1" in body["text"]
    await harness.run_jobs()
    assert len(page_posts(harness)) == 1


async def test_escalate_now_twice_or_replayed_moves_the_incident_once(
    harness: Harness,
) -> None:
    from bot.devtools.signing import block_actions_payload, interactive_body
    from tests.e2e.paging_helpers import button_value, ephemeral_replies, page_message

    await _page(harness)
    value = button_value(page_message(harness, "INC-1"), ids.ACTION_PAGE_ESCALATE)
    assert value == "INC-1@0.0"
    body = interactive_body(
        block_actions_payload(
            user_id=IDS["PR"],
            action={"type": "button", "action_id": ids.ACTION_PAGE_ESCALATE, "value": value},
            block_id="page_actions",
            response_url=harness.slack.response_url(),
            channel="#investor-kpis",
        )
    )
    for _ in range(5):  # a double click, then the same signed click replayed
        assert (await harness.signed(body)).status == 200
    assert [who for who, _ in dms(harness)] == ["PR", "CW"]
    refused = ephemeral_replies(harness)
    assert len(refused) == 4
    assert (
        "INC-1 was already escalated to Backup <@U0CHENWU03> at Wed 3 Sep 2025, 12:00" in refused[0]
    )
