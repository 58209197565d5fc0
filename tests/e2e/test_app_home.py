"""The App Home tab end to end: signed events and clicks through the real app, the fake
Slack's views.publish (which validates each view with slack_sdk's View model), Redis."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.devtools.harness import SECRET, Harness, Response
from bot.devtools.signing import signed_headers
from bot.domain.incident import Status
from bot.domain.swaps import SwapStatus
from bot.slack import ids
from tests.conftest import ist
from tests.e2e.swap_helpers import AM, CW, PR, dms_to, stored, swap_cmd

OUTSIDER = "U0OUTSIDER9"


@pytest.fixture(autouse=True)
def before_week_two(clock: FakeClock) -> None:
    # Week 2 (2025-09-01 → 09-08): PR Primary, CW Backup; week 1 (now): AM and PR.
    clock.set(ist("2025-08-28 10:00"))


def homes(h: Harness, user: str) -> list[dict[str, Any]]:
    """Every Home view published for `user`, oldest first."""
    return [dict(c.args["view"]) for c in h.slack.of("views.publish") if c.args["user_id"] == user]


def text_of(view: dict[str, Any]) -> str:
    out = []
    for b in view["blocks"]:
        if "text" in b:
            out.append(str(b["text"]["text"]))
        out += [str(e.get("text")) for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


def buttons(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(block id, action id, value) of every button on the view."""
    return [
        (str(b["block_id"]), str(e["action_id"]), str(e["value"]))
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def open_home(h: Harness, user: str, tab: str = "home") -> Response:
    return await h.event(
        {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": tab}
    )


async def press_on_home(
    h: Harness, user: str, action_id: str, value: str, view: dict[str, Any] | None = None
) -> Response:
    """`user` presses a button on the Home view last published for them (or on `view`, a
    screen not yet redrawn), as Slack sends it: the view as container, no response URL."""
    view = view if view is not None else homes(h, user)[-1]
    found = [b for b in buttons(view) if b[1] == action_id and b[2] == value]
    assert found, f"no {action_id} {value} button on {user}'s Home: {buttons(view)}"
    block_id = found[0][0]
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ONCALL", "domain": "oncall"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0ONCALL"},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.home",
        "container": {"type": "view", "view_id": "V0VIEW"},
        "view": {**view, "id": "V0VIEW"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return await h.interact(payload)


async def test_opening_the_home_tab_publishes_it_for_that_person(harness: Harness) -> None:
    resp = await open_home(harness, PR)
    assert resp.status == 200
    [view] = homes(harness, PR)
    assert view["type"] == "home"
    body = text_of(view)
    # Now, week 1: AM Primary, PR Backup until the Monday handover.
    assert "*Primary:* Alex Mehta" in body and "*Backup:* Priya Rao" in body
    assert "Until Mon 1 Sep 2025, 09:00 IST" in body and "Why: rotation week 1" in body
    assert "*Backup* now, until Mon 1 Sep 2025, 09:00 IST" in body
    assert "*Primary* Mon 1 Sep 2025, 09:00 → Mon 8 Sep 2025, 09:00 IST" in body
    assert "rotation week 2" in body
    assert "Nothing to answer." in body and "Open incidents" in body
    assert harness.slack.invalid == []


async def test_someone_off_the_roster_sees_who_is_on_call_and_why_not_more(
    harness: Harness,
) -> None:
    await open_home(harness, OUTSIDER)
    [view] = homes(harness, OUTSIDER)
    body = text_of(view)
    assert "*Primary:* Alex Mehta" in body
    assert "not on the on-call rotation" in body
    assert buttons(view) == [] and "Your shifts" not in body


async def test_other_tabs_publish_nothing(harness: Harness) -> None:
    await open_home(harness, PR, tab="messages")
    assert harness.slack.of("views.publish") == []


async def test_a_swap_request_republishes_the_home_of_the_person_asked(harness: Harness) -> None:
    """The acceptance test: a request for CW puts it on CW's Home, with its buttons."""
    assert "swap #1" in await swap_cmd(harness, PR, "@CW 2025-09-03")

    [asked] = homes(harness, CW)
    body = text_of(asked)
    assert "*Swap #1* — Priya Rao (<@U0PRRAO002>) asks you to take their on-call role" in body
    assert "Wed 3 Sep 2025, 00:00–24:00 IST" in body
    assert (f"{ids.BLOCK_SWAP_DECISION}:1", ids.ACTION_SWAP_APPROVE, "1") in buttons(asked)
    assert (f"{ids.BLOCK_SWAP_DECISION}:1", ids.ACTION_SWAP_DECLINE, "1") in buttons(asked)
    # The requester's Home lists it as waiting on CW, with no buttons.
    [mine] = homes(harness, PR)
    assert "*Swap #1* to Chen Wu" in text_of(mine) and buttons(mine) == []
    # Nobody else's tab was redrawn, and the DM with the same buttons still went out.
    assert homes(harness, AM) == []
    assert len(dms_to(harness, CW)) == 1
    assert harness.slack.invalid == []


async def test_approve_on_home_approves_and_redraws_without_it(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")

    resp = await press_on_home(harness, CW, ids.ACTION_SWAP_APPROVE, "1")

    assert resp.status == 200
    assert (await stored(harness, 1)).status is SwapStatus.APPROVED
    after = homes(harness, CW)[-1]
    assert buttons(after) == [] and "Nothing to answer." in text_of(after)
    # CW now holds Primary on the 3rd, and the Home says why.
    assert "swap #1 with PR" in text_of(after)
    # As from the DM: the request DM loses its buttons, the requester hears, and PR's
    # Home no longer lists it as waiting.
    [edited] = harness.slack.of("chat.update")
    assert "approved by CW" in edited.args["text"]
    assert "approved swap #1" in dms_to(harness, PR)[-1].args["text"]
    assert "*Swap #1* to Chen Wu" not in text_of(homes(harness, PR)[-1])
    assert harness.slack.of("response_url") == []


async def test_a_stale_button_on_home_is_answered_by_dm_and_redrawn(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await swap_cmd(harness, PR, "cancel 1")
    # CW's screen still shows the first drawing, with its buttons.
    stale = homes(harness, CW)[0]
    harness.slack.clear()
    await press_on_home(harness, CW, ids.ACTION_SWAP_DECLINE, "1", view=stale)

    assert (await stored(harness, 1)).status is SwapStatus.CANCELLED
    assert "already cancelled" in dms_to(harness, CW)[-1].args["text"]
    assert buttons(homes(harness, CW)[-1]) == []


async def test_a_page_shows_on_home_with_ack_and_ack_there_works(
    harness: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-09-03 12:00"))  # week 2: PR Primary
    resp = await harness.command("/page", "growth-agg sev1 DAU table is 2 h late", AM)
    assert "INC-1 opened" in resp.json["text"]
    await harness.run_jobs()

    paged = homes(harness, "U0PRRAO002")[-1]
    assert "*INC-1* · SEV1" in text_of(paged) and "*paging you*" in text_of(paged)
    assert (f"{ids.PAGE_ACTIONS_BLOCK}:INC-1", ids.ACTION_PAGE_ACK, "INC-1") in buttons(paged)

    await press_on_home(harness, PR, ids.ACTION_PAGE_ACK, "INC-1")

    assert harness.deps is not None
    inc = await harness.deps.paging.stored("INC-1")
    assert inc is not None and inc.incident.status is Status.ACKNOWLEDGED
    after = homes(harness, PR)[-1]
    assert buttons(after) == [] and "Acknowledged by <@U0PRRAO002>" in text_of(after)


async def test_the_events_url_answers_slacks_url_verification(harness: Harness) -> None:
    # Subscribing the manifest's request URL to app_home_opened makes Slack check it first.
    body = json.dumps({"token": "unused", "challenge": "c-42", "type": "url_verification"})
    headers = {**signed_headers(SECRET, body), "Content-Type": "application/json"}
    resp = await harness.post("/slack/events", body, headers)
    assert (resp.status, resp.json) == (200, {"challenge": "c-42"})
