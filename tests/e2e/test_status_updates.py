"""Post status on investor incidents, through the real app: the button, the modal, the posts
in #investor-kpis and the thread, and the owner's reminder when the next update is due."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.clock import FakeClock
from bot.devtools.harness import Harness, Response
from bot.slack import ids
from tests.conftest import ist
from tests.e2e.paging_helpers import (
    IDS,
    INITIALS,
    advance,
    button_value,
    ephemeral_replies,
    page_message,
    press,
)

OUTSIDER = "U0NOTONROSTER"


async def _page(harness: Harness, text: str) -> Response:
    resp = await harness.command("/page", text, IDS["AM"])
    assert resp.status == 200
    await harness.run_jobs()
    return resp


def _submission(
    user: str,
    values: dict[str, Any],
    incident_id: str = "INC-1",
    view_id: str = "V0STATUS1",
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0ONCALL", "domain": "oncall"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0ONCALL"},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.3",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": ids.CALLBACK_STATUS_MODAL,
            "private_metadata": incident_id,
            "state": {"values": values},
        },
    }


def _form(status: str | None, impact: str | None, next_update: str | None) -> dict[str, Any]:
    def select(value: str | None) -> dict[str, Any]:
        return {
            "type": "static_select",
            "selected_option": None if value is None else {"value": value},
        }

    return {
        ids.BLOCK_STATUS_STATE: {ids.ACTION_STATUS_STATE: select(status)},
        ids.BLOCK_STATUS_IMPACT: {
            ids.ACTION_STATUS_IMPACT: {"type": "plain_text_input", "value": impact}
        },
        ids.BLOCK_STATUS_NEXT: {ids.ACTION_STATUS_NEXT: select(next_update)},
    }


async def _post(
    harness: Harness,
    who: str,
    status: str = "monitoring",
    impact: str = "Investor growth dashboard shows yesterday's DAU since 10:00 IST.",
    next_update: str = "30m",
    view_id: str = "V0STATUS1",
) -> Response:
    resp = await harness.interact(
        _submission(IDS[who], _form(status, impact, next_update), view_id=view_id)
    )
    assert resp.status == 200 and resp.text == "", resp.text
    return resp


def _channel_posts(harness: Harness) -> list[dict[str, Any]]:
    return [
        c.args
        for c in harness.slack.of("chat.postMessage")
        if c.args.get("channel") == "#investor-kpis"
        and not c.args.get("thread_ts")
        and "Status update" in str(c.args.get("text"))
    ]


def _thread_posts(harness: Harness) -> list[dict[str, Any]]:
    return [
        c.args
        for c in harness.slack.of("chat.postMessage")
        if c.args.get("thread_ts") and "Status update" in str(c.args.get("text"))
    ]


def _reminders(harness: Harness) -> list[tuple[str, str]]:
    return [
        (INITIALS[str(c.args["channel"])[1:]], str(c.args["text"]))
        for c in harness.slack.of("chat.postMessage")
        if str(c.args.get("channel", "")).startswith("D") and ":alarm_clock:" in str(c.args["text"])
    ]


async def test_the_button_is_on_open_investor_pages_only(harness: Harness) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await _page(harness, "growth-daily sev2 experiment scorecard late")
    investor = page_message(harness, "INC-1")
    assert investor["channel"] == "#investor-kpis"
    assert button_value(investor, ids.ACTION_PAGE_STATUS) == "INC-1"
    experiment = page_message(harness, "INC-2")
    assert experiment["channel"] == "#data-platform"
    assert button_value(experiment, ids.ACTION_PAGE_STATUS) is None

    await press(harness, "PR", ids.ACTION_PAGE_RESOLVE, "INC-1")
    await harness.run_jobs()
    assert button_value(page_message(harness, "INC-1"), ids.ACTION_PAGE_STATUS) is None


async def test_press_opens_the_modal_and_submit_posts_to_channel_and_thread(
    harness: Harness,
) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    resp = await press(harness, "SK", ids.ACTION_PAGE_STATUS, "INC-1")
    assert resp.status == 200
    [opened] = harness.slack.of("views.open")
    assert opened.args["trigger_id"] == "trigger.2"
    view = opened.args["view"]
    assert view["callback_id"] == ids.CALLBACK_STATUS_MODAL
    assert view["private_metadata"] == "INC-1"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [ids.BLOCK_STATUS_STATE, ids.BLOCK_STATUS_IMPACT, ids.BLOCK_STATUS_NEXT]
    assert [o["value"] for o in inputs[ids.BLOCK_STATUS_NEXT]["options"]] == [
        "15m",
        "30m",
        "1h",
        "2h",
        "none",
    ]
    assert inputs[ids.BLOCK_STATUS_NEXT]["initial_option"]["value"] == "30m"
    assert not harness.slack.invalid  # the fake validated the view as Slack would

    await _post(harness, "SK", impact="Growth dashboard: DAU <stale> & WAU flat since 10:00.")
    [post] = _channel_posts(harness)
    [reply] = _thread_posts(harness)
    page = page_message(harness, "INC-1")
    assert reply["thread_ts"] == page["ts"]
    for text in (str(post["text"]), str(reply["text"])):
        assert "*INC-1* · SEV1 · Growth — Aggregate (DAU table is 2 h late)" in text
        assert "*Status:* :eyes: Monitoring" in text
        assert ">Growth dashboard: DAU &lt;stale&gt; &amp; WAU flat since 10:00." in text
        assert "*Next update:* by Wed 3 Sep 2025, 12:30 IST" in text
        assert "Posted by Samir Kapoor (<@U0SKAPOOR4>) at Wed 3 Sep 2025, 12:00 IST" in text

    # The incident's log (the RCA timeline) has the status post.
    assert harness.deps is not None
    logged = [e for e in await harness.deps.incidents.events("INC-1") if e.kind == "status_post"]
    assert [(e.who, e.detail[:30]) for e in logged] == [("SK", "Monitoring: Growth dashboard: ")]

    # The second form opens with the last status and impact filled in.
    await press(harness, "PR", ids.ACTION_PAGE_STATUS, "INC-1")
    again = harness.slack.of("views.open")[-1].args["view"]
    inputs = {b["block_id"]: b["element"] for b in again["blocks"] if b["type"] == "input"}
    assert inputs[ids.BLOCK_STATUS_STATE]["initial_option"]["value"] == "monitoring"
    assert inputs[ids.BLOCK_STATUS_IMPACT]["initial_value"].startswith("Growth dashboard")


async def test_form_errors_are_shown_beside_their_field(harness: Harness) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")

    async def errors(values: dict[str, Any]) -> dict[str, str]:
        resp = await harness.interact(_submission(IDS["PR"], values))
        assert resp.json["response_action"] == "errors"
        return dict(resp.json["errors"])

    missing = await errors(_form("monitoring", None, "30m"))
    assert "Say what investors see" in missing[ids.BLOCK_STATUS_IMPACT]
    blank = await errors(_form("monitoring", "   \n ", "30m"))
    assert list(blank) == [ids.BLOCK_STATUS_IMPACT]
    long = await errors(_form("monitoring", "x" * 1600, "30m"))
    assert "1,600 characters" in long[ids.BLOCK_STATUS_IMPACT]
    status = await errors(_form(None, "late", "30m"))
    assert "Pick a status: Investigating, Identified" in status[ids.BLOCK_STATUS_STATE]
    promise = await errors(_form("investigating", "late", "none"))
    assert "promise the next update" in promise[ids.BLOCK_STATUS_NEXT]
    outsider = await harness.interact(_submission(OUTSIDER, _form("monitoring", "late", "30m")))
    assert "on-call roster" in outsider.json["errors"][ids.BLOCK_STATUS_STATE]
    assert _channel_posts(harness) == [] and _thread_posts(harness) == []


async def test_a_non_roster_user_is_refused_privately(harness: Harness) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    resp = await press(harness, OUTSIDER, ids.ACTION_PAGE_STATUS, "INC-1")
    assert resp.status == 200
    assert harness.slack.of("views.open") == []
    [refusal] = ephemeral_replies(harness)
    assert "Only members of the on-call roster (AM, PR, CW, SK) can post a status" in refusal


async def test_a_double_submission_posts_once(harness: Harness) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await _post(harness, "PR")
    await _post(harness, "PR")
    assert len(_channel_posts(harness)) == 1 and len(_thread_posts(harness)) == 1


async def test_the_owner_is_reminded_once_when_the_update_is_due(
    harness: Harness, clock: FakeClock
) -> None:
    # Nobody ACKs: CW is paged as Backup at 12:10, but the owner is PR, the Primary paged
    # first. SK posts the update; the promise is 12:30.
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await _post(harness, "SK")
    await advance(harness, 29.5)
    assert _reminders(harness) == []
    clock.set(ist("2025-09-03 12:30"))
    await harness.run_jobs()
    await harness.run_jobs()
    [(who, text)] = _reminders(harness)
    assert who == "PR"
    assert "promised to #investor-kpis by Wed 3 Sep 2025, 12:30 IST" in text
    assert "since <@U0SKAPOOR4>'s at Wed 3 Sep 2025, 12:00 IST (Monitoring)" in text
    assert "you were paged first for INC-1, as Primary" in text
    await advance(harness, 60)
    assert len(_reminders(harness)) == 1


async def test_replicas_racing_remind_once_and_the_acker_is_the_owner(
    harness: Harness, clock: FakeClock
) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await press(harness, "CW", ids.ACTION_PAGE_ACK, "INC-1")
    await _post(harness, "PR", next_update="15m")
    assert harness.deps is not None
    service = harness.deps.status_updates
    at = clock.advance(timedelta(minutes=15))
    counts = await asyncio.gather(*(service.queue_status_reminders(at) for _ in range(4)))
    assert sum(counts) == 1
    await harness.deliver()
    [(who, text)] = _reminders(harness)
    assert who == "CW" and "because you ACKed INC-1" in text


async def test_no_reminder_when_a_newer_update_was_posted(
    harness: Harness, clock: FakeClock
) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-1")
    await _post(harness, "PR", next_update="30m", view_id="V1")
    await advance(harness, 20)
    await _post(harness, "PR", status="identified", next_update="1h", view_id="V2")
    await advance(harness, 59.5)  # 13:19:30: past the first promise, before the second
    assert _reminders(harness) == []
    await advance(harness, 0.5)
    [(_, text)] = _reminders(harness)
    assert "by Wed 3 Sep 2025, 13:20 IST" in text and "(Identified)" in text

    await _post(harness, "PR", status="resolved_pending_verification", next_update="none")
    await advance(harness, 180)
    assert len(_reminders(harness)) == 1


async def test_a_resolved_incident_drops_its_promise(harness: Harness, clock: FakeClock) -> None:
    await _page(harness, "growth-agg sev1 DAU table is 2 h late")
    await _post(harness, "PR", status="resolved_pending_verification", next_update="15m")
    await press(harness, "PR", ids.ACTION_PAGE_RESOLVE, "INC-1")
    await advance(harness, 30)
    assert _reminders(harness) == []
    refused = await press(harness, "PR", ids.ACTION_PAGE_STATUS, "INC-1")
    assert refused.status == 200 and harness.slack.of("views.open") == []
