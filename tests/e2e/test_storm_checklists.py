"""A pipeline's pages open its runbook checklist by themselves once per 30 minutes; the
others offer an "Open checklist" button (an alert storm's fifty checklists would hold the
channel behind Slack's one post per second)."""

from __future__ import annotations

import json

from bot.devtools.harness import Harness
from tests.e2e.paging_helpers import (
    advance,
    button_value,
    ephemeral_replies,
    page_message,
    press,
)

OPEN = "page_checklist"


def checklist_threads(harness: Harness) -> list[str]:
    """The thread (page ts) of each checklist posted, once per checklist."""
    return [
        str(c.args["thread_ts"])
        for c in harness.slack.of("chat.postMessage")
        if c.args.get("thread_ts") and "Diagnostics checklist" in str(c.args.get("text"))
    ]


def page_ts(harness: Harness, incident: str) -> str:
    return next(
        ts
        for (channel, ts), m in harness.slack.messages.items()
        if not channel.startswith("D")
        and not m.get("thread_ts")
        and f"Page {incident} " in str(m.get("text"))
    )


async def alert(harness: Harness, pipeline: str, key: str) -> None:
    body = {"pipeline": pipeline, "summary": f"{key} is late", "signal": "freshness"}
    resp = await harness.alert([{**body, "dedupe_key": key}])
    assert resp.status == 200, resp.text
    await harness.run_jobs()


async def test_a_pipelines_second_page_offers_its_checklist_instead(harness: Harness) -> None:
    await alert(harness, "growth-agg", "dau")
    await alert(harness, "growth-agg", "wau")
    assert checklist_threads(harness) == [page_ts(harness, "INC-1")]
    assert button_value(page_message(harness, "INC-1"), OPEN) is None
    second = page_message(harness, "INC-2")
    assert button_value(second, OPEN) == "INC-2"
    assert (
        "the growth-agg checklist is in INC-1's thread (opened once per 30 min per pipeline)"
        in json.dumps(second["blocks"])
    )

    await press(harness, "CW", OPEN, "INC-2")  # anyone in the channel may open it
    await harness.run_jobs()
    assert checklist_threads(harness) == [page_ts(harness, "INC-1"), page_ts(harness, "INC-2")]
    second = page_message(harness, "INC-2")
    assert button_value(second, OPEN) is None
    assert "*Diagnostics:* 0/8 done" in json.dumps(second["blocks"])

    await press(harness, "SK", OPEN, "INC-2")  # from a message drawn before the redraw
    await harness.run_jobs()
    assert ephemeral_replies(harness)[-1].endswith(
        "Nothing changed: INC-2's checklist is already in its thread."
    )
    assert len(checklist_threads(harness)) == 2

    # Another pipeline is another investigation; and after 30 min the pipeline's next page
    # opens its own again.
    await alert(harness, "profit-agg", "margins")
    await advance(harness, 31)
    await alert(harness, "growth-agg", "mau")
    assert checklist_threads(harness)[2:] == [page_ts(harness, "INC-3"), page_ts(harness, "INC-4")]
