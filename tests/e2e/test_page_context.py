"""Pages carry context (issue #12 item 7): the page DM links to the page message, alerts
that join an open incident are told in its thread (at most one reply a minute, the rest
counted in), and someone paged who works the checklist without ACKing is offered the ACK."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload
from bot.slack import ids
from tests.e2e.paging_helpers import IDS, advance, dms, page_message, page_posts, thread

Msg = dict[str, Any]


async def _where(harness: Harness, incident: str) -> tuple[str, str]:
    channel, ts = await harness.redis.hmget(
        f"oncall:incident:{incident}", ["msg_channel", "msg_ts"]
    )
    assert channel and ts, "the page is not posted"
    return str(channel), str(ts)


async def alert(
    harness: Harness, summary: str, value: float, pipeline: str = "growth-agg"
) -> dict[str, Any]:
    body = {"pipeline": pipeline, "signal": "freshness", "summary": summary, "value": value}
    resp = await harness.alert([body])
    assert resp.status == 200, resp.text
    await harness.run_jobs()
    return dict(resp.json["accepted"][0])


async def later(harness: Harness, clock: FakeClock, seconds: float) -> None:
    clock.set(clock.now() + timedelta(seconds=seconds))
    await harness.run_jobs()


# --- a) the DM links to the page --------------------------------------------------------------


async def test_the_page_dm_links_to_the_page_message(harness: Harness) -> None:
    resp = await harness.command("/page", "growth-agg sev1 DAU table is 2 h late", IDS["AM"])
    assert resp.status == 200
    await harness.run_jobs()
    [post] = page_posts(harness)
    channel, ts = await _where(harness, "INC-1")
    link = f"https://oncall.slack.example/archives/{channel}/p{ts.replace('.', '')}"
    [(who, text)] = dms(harness)
    assert who == "PR"
    assert f"See <{link}|the page in #investor-kpis>." in text
    assert post.args["channel"] == "#investor-kpis"
    # Slack was asked for the link of the page message itself.
    [asked] = harness.slack.of("chat.getPermalink")
    assert (asked.args["channel"], asked.args["message_ts"]) == (channel, ts)

    # The next rung's DM links to the same message (asked once: a page's link never changes).
    await advance(harness, 10)
    assert [w for w, _ in dms(harness)] == ["PR", "CW"]
    assert f"See <{link}|the page in #investor-kpis>." in dms(harness)[-1][1]
    assert len(harness.slack.of("chat.getPermalink")) == 1


async def test_a_folded_dm_links_each_posted_page(harness: Harness) -> None:
    await harness.alert(
        [
            {"pipeline": "growth-agg", "signal": "freshness", "summary": "DAU late", "value": 45},
            {"pipeline": "profit-agg", "signal": "freshness", "summary": "P&L late", "value": 45},
        ]
    )
    await harness.run_jobs()
    [(who, text)] = dms(harness)
    assert who == "PR" and "You are paged for 2 incidents" in text
    # Ten minutes on, the Backup's DM folds both again, each linking to its page.
    await advance(harness, 10)
    [(who, text)] = dms(harness)[1:]
    assert who == "CW" and "You are paged for 2 incidents" in text
    for incident in ("INC-1", "INC-2"):
        channel, ts = await _where(harness, incident)
        link = f"https://oncall.slack.example/archives/{channel}/p{ts.replace('.', '')}"
        assert f"<{link}|the page>" in text
    # The first answer showed the workspace URL: the other links were built, not asked for.
    assert len(harness.slack.of("chat.getPermalink")) == 1


# --- b) joining alerts are told in the thread -------------------------------------------------


async def test_joining_alerts_are_told_in_the_thread_once_a_minute(
    harness: Harness, clock: FakeClock
) -> None:
    opened = await alert(harness, "DAU 1 h late", 45)
    assert opened["created"] is True
    _, page_ts = await _where(harness, "INC-1")
    assert thread(harness) == []

    # Three join within a minute: the first is told at once, the others wait for the minute.
    assert (await alert(harness, "DAU 90 min late", 100))["incident"] == "INC-1"
    await later(harness, clock, 20)
    await alert(harness, "DAU 105 min late", 115)
    await later(harness, clock, 20)
    await alert(harness, "DAU 2 h late", 130)
    assert thread(harness) == ["Another alert joined: 'DAU 90 min late' (value 100)"]
    await later(harness, clock, 19)
    assert len(thread(harness)) == 1

    # A minute after the first reply, one reply tells of the two since, with the latest.
    await later(harness, clock, 1)
    assert thread(harness)[1:] == ["2 more alerts joined: latest 'DAU 2 h late' (value 130)"]
    replies = [
        c
        for c in harness.slack.of("chat.postMessage")
        if "joined" in str(c.args.get("text")) and c.args.get("thread_ts")
    ]
    assert {c.args["thread_ts"] for c in replies} == {page_ts}
    # The page itself still counts every alert and shows the latest value.
    blocks = json.dumps(page_message(harness, "INC-1")["blocks"])
    assert "*Alerts joined:* 4" in blocks and "latest value 130" in blocks

    # One more within a minute of that reply waits for the minute, counted alone.
    await later(harness, clock, 10)
    await alert(harness, "DAU 2.5 h late", 150.5)
    assert len(thread(harness)) == 2
    await later(harness, clock, 50)
    assert thread(harness)[2:] == ["1 more alert joined: 'DAU 2.5 h late' (value 150.5)"]

    # After a quiet minute the next join is told at once again.
    await later(harness, clock, 90)
    await alert(harness, "DAU 3 h late", 180)
    assert thread(harness)[3:] == ["Another alert joined: 'DAU 3 h late' (value 180)"]
    state = await harness.redis.hgetall("oncall:incident:INC-1:joinreply")
    assert state and await harness.redis.ttl("oncall:incident:INC-1:joinreply") > 0


async def test_a_second_page_is_told_in_the_thread(harness: Harness) -> None:
    await harness.command("/page", "growth-agg sev1 DAU table is 2 h late", IDS["AM"])
    await harness.run_jobs()
    resp = await harness.command("/page", "growth-agg sev1 WAU is empty too", IDS["CW"])
    assert "your page joined it" in resp.json["text"]
    await harness.run_jobs()
    assert thread(harness) == ["Another page joined: 'WAU is empty too' from <@U0CHENWU03>"]


# --- c) ticking the checklist without ACKing --------------------------------------------------


def _checklist_message(harness: Harness) -> Msg:
    for message in harness.slack.messages.values():
        for block in message.get("blocks") or []:
            for el in block.get("elements") or []:
                if el.get("action_id") == ids.CHECKLIST_TICK:
                    return dict(message)
    raise AssertionError("no checklist was posted")


async def _tick(harness: Harness, user: str, step: int) -> None:
    """`user` toggles `step` in the incident's checklist as it reads now."""
    message = _checklist_message(harness)
    for block in message["blocks"]:
        for el in block.get("elements") or []:
            if el.get("action_id") != ids.CHECKLIST_TICK:
                continue
            if not any(o["value"] == str(step) for o in el["options"]):
                continue
            chosen = [o for o in el.get("initial_options", []) if o["value"] != str(step)]
            if len(chosen) == len(el.get("initial_options", [])):
                chosen.append(next(o for o in el["options"] if o["value"] == str(step)))
            payload = block_actions_payload(
                user_id=IDS[user],
                action={
                    "type": "checkboxes",
                    "action_id": ids.CHECKLIST_TICK,
                    "selected_options": chosen,
                },
                block_id=block["block_id"],
                response_url=harness.slack.response_url(),
                channel=str(message["channel"]),
                message=copy.deepcopy(message),
            )
            resp = await harness.interact(payload)
            assert resp.status == 200
            await harness.run_jobs()
            return
    raise AssertionError(f"step {step} is not in the checklist")


def _ephemerals(harness: Harness) -> list[dict[str, Any]]:
    return [dict(c.args) for c in harness.slack.of("response_url")]


def _ack_button(reply: dict[str, Any]) -> dict[str, Any] | None:
    for block in reply.get("blocks") or []:
        for el in block.get("elements") or []:
            if el.get("action_id") == ids.ACTION_PAGE_ACK:
                return dict(el, block_id=block["block_id"])
    return None


async def test_a_paged_primary_ticking_before_ack_is_offered_the_ack(harness: Harness) -> None:
    await alert(harness, "DAU 1 h late", 45)  # pages PR, the Primary; opens its checklist
    assert [w for w, _ in dms(harness)] == ["PR"]

    # Nobody else is told: SK is not paged, CW's rung has not come.
    await _tick(harness, "SK", 1)
    await _tick(harness, "CW", 2)
    assert _ephemerals(harness) == []

    await _tick(harness, "PR", 3)
    [hint] = _ephemerals(harness)
    assert hint["text"] == "INC-1 is not ACKed yet: it keeps escalating."
    assert hint.get("replace_original") is False  # the checklist stays as it is
    button = _ack_button(hint)
    assert button is not None and button["value"] == "INC-1"

    # Its button is the page's ACK: pressing it ACKs the incident.
    payload = block_actions_payload(
        user_id=IDS["PR"],
        action={"type": "button", "action_id": button["action_id"], "value": button["value"]},
        block_id=button["block_id"],
        response_url=harness.slack.response_url(),
    )
    assert (await harness.interact(payload)).status == 200
    await harness.run_jobs()
    assert harness.deps is not None
    stored = await harness.deps.paging.stored("INC-1")
    assert stored is not None and stored.incident.acked_by == "PR"
    assert "Acknowledged by <@U0PRRAO002>" in json.dumps(page_message(harness, "INC-1")["blocks"])
    assert len(_ephemerals(harness)) == 1  # no error answer to the ACK

    # Once ACKed, ticking is just ticking.
    await _tick(harness, "PR", 4)
    assert len(_ephemerals(harness)) == 1
