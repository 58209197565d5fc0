"""`/oncall incidents` a page at a time, most urgent first (issue #14), through the real app."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload
from bot.domain.alerts import Alert
from bot.domain.incident import Severity, Signal
from bot.slack import ids
from tests.e2e.paging_helpers import IDS, ephemeral_replies, press


async def _open(harness: Harness, n: int, severity: Severity, pipeline: str = "growth-agg") -> None:
    assert harness.deps is not None
    for i in range(n):
        alert = Alert(
            pipeline=pipeline,
            signal=Signal.FRESHNESS,
            summary=f"{severity.value} number {i}",
            severity=severity,
            dedupe_key=f"{severity.value}-{i}",
        )
        await harness.deps.paging.ingest(alert, harness.clock.now())
        # A second apart: incidents opened in the same second tie, and Redis orders ties
        # by id as text (INC-10 before INC-2).
        assert isinstance(harness.clock, FakeClock)
        harness.clock.set(harness.clock.now() + timedelta(seconds=1))


async def test_a_page_at_a_time_most_urgent_first_with_a_next_button(
    harness: Harness, clock: FakeClock
) -> None:
    await _open(harness, 30, Severity.SEV2)
    await _open(harness, 15, Severity.SEV1)
    # One Sev-1 ACKed: it waits on nobody, so it sorts after every unACKed page.
    await harness.deliver()
    await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-31")

    body = (await harness.command("/oncall", "incidents", IDS["AM"])).json
    blocks = body["blocks"]
    assert blocks[0]["text"]["text"] == "*Open incidents: 1–20 of 45, most urgent first*"
    listed = [b["text"]["text"].split("*")[1] for b in blocks[1:21]]
    # The 14 unACKed Sev-1 first (oldest first), then Sev-2; INC-31 (ACKed) is not here.
    assert listed == [f"INC-{i}" for i in range(32, 46)] + [f"INC-{i}" for i in range(1, 7)]
    assert blocks[21]["elements"][0]["text"] == "… and 25 more: `/oncall incidents page 2`"
    [button] = blocks[22]["elements"]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        ids.ACTION_INCIDENTS_PAGE,
        "2",
        "Next 20",
    )
    # 20 incidents of ~300 characters: all 45 would be twice that.
    assert len(body["text"]) < 7000  # the answer no longer grows with every incident

    payload = block_actions_payload(
        user_id=IDS["AM"],
        action={"type": "button", "action_id": ids.ACTION_INCIDENTS_PAGE, "value": "3"},
        block_id="incidents_page:3",
        response_url=harness.slack.response_url(),
        channel="C1",
    )
    await harness.interact(payload)
    third = ephemeral_replies(harness)[-1]
    assert third.startswith("Open incidents: 41–45 of 45, most urgent first:")
    assert "INC-31" in third and "… and" not in third  # the ACKed one comes last

    beyond = (await harness.command("/oncall", "incidents page 4", IDS["AM"])).json["text"]
    assert beyond == (
        "There is no page 4 of open incidents: 45 open make 3 pages (`/oncall incidents page 3`)."
    )
    wrong = (await harness.command("/oncall", "incidents all", IDS["AM"])).json["text"]
    assert "`all` is not a page of incidents. Try `/oncall incidents` or" in wrong


async def test_closed_incidents_leave_the_list(harness: Harness, clock: FakeClock) -> None:
    await _open(harness, 2, Severity.SEV2)
    await harness.deliver()
    await press(harness, "PR", ids.ACTION_PAGE_RESOLVE, "INC-1")
    text = (await harness.command("/oncall", "incidents", IDS["AM"])).json["text"]
    assert text.startswith("Open incidents (1), most urgent first:") and "INC-1*" not in text
