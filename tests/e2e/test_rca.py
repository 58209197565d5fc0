"""The RCA tracker through the real app: resolving an investor Sev-1 opens an RCA due in 5
business days; `/rca` lists it; `/rca write` opens the template, pre-filled from the
incident's log; submitting posts it and closes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cli import rca_export
from bot.devtools.harness import Harness
from bot.slack import ids
from bot.slack.blocks.rca import action_id
from tests.e2e.paging_helpers import IDS, press

IST = "Asia/Kolkata"


def _submission(user: str, incident: str, fields: dict[str, str]) -> dict[str, Any]:
    values = {
        b: {action_id(b): {"type": "plain_text_input", "value": v}} for b, v in fields.items()
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0ONCALL", "domain": "oncall"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0ONCALL"},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.9",
        "view": {
            "id": "V0RCA",
            "type": "modal",
            "callback_id": ids.CALLBACK_RCA_MODAL,
            "private_metadata": incident,
            "state": {"values": values},
        },
    }


async def _resolved_sev1_on_friday(harness: Harness) -> None:
    from zoneinfo import ZoneInfo

    clock = harness.clock
    clock.set(datetime(2025, 10, 17, 14, 0, tzinfo=ZoneInfo(IST)))  # type: ignore[attr-defined]
    await harness.command("/page", "profit-agg sev1 profit aggregate late", IDS["AM"])
    await harness.run_jobs()
    clock.set(datetime(2025, 10, 17, 14, 5, tzinfo=ZoneInfo(IST)))  # type: ignore[attr-defined]
    await press(harness, "SK", "page_ack", "INC-1")
    clock.set(datetime(2025, 10, 17, 15, 30, tzinfo=ZoneInfo(IST)))  # type: ignore[attr-defined]
    await press(harness, "SK", "page_resolve", "INC-1")
    await harness.run_jobs()


async def test_resolving_an_investor_sev1_on_friday_opens_an_rca_due_after_diwali(
    harness: Harness,
) -> None:
    await _resolved_sev1_on_friday(harness)
    listing = (await harness.command("/rca", "", IDS["PR"])).json["text"]
    # Fri 17 Oct + 5 business days, skipping the weekend and Diwali (Mon 20 Oct).
    assert "*INC-1* profit aggregate late: due Mon 27 Oct 2025" in listing
    owner_dms = [
        str(c.args["text"])
        for c in harness.slack.of("chat.postMessage")
        if c.args["channel"] == "D" + IDS["SK"] and "You own the RCA" in str(c.args["text"])
    ]
    assert len(owner_dms) == 1 and "as the one who ACKed it" in owner_dms[0]

    # The template opens with the timeline drawn from the incident's log.
    await harness.command("/rca", "write INC-1", IDS["SK"])
    [opened] = harness.slack.of("views.open")
    view = opened.args["view"]
    timeline = next(b for b in view["blocks"] if b.get("block_id") == "rca_timeline")
    lines = timeline["element"]["initial_value"].splitlines()
    assert lines[0].startswith("Fri 17 Oct 2025, 14:00 IST — Incident opened by AM")
    assert any("Acknowledged by SK" in line for line in lines)
    assert any(line.startswith("Fri 17 Oct 2025, 15:30 IST — Resolved by SK") for line in lines)

    bad = await harness.interact(
        _submission(IDS["SK"], "INC-1", {"rca_summary": "x", "rca_actions": "no pipes here"})
    )
    assert bad.json["response_action"] == "errors"
    assert "needs three parts" in bad.json["errors"]["rca_actions"]

    ok = await harness.interact(
        _submission(
            IDS["SK"],
            "INC-1",
            {
                "rca_summary": "The FX rates table was late.",
                "rca_investor": "The 09:00 KPI refresh showed yesterday's profit.",
                "rca_actions": "Alert on FX table lag | PR | 2025-10-31",
            },
        )
    )
    assert ok.status == 200 and not ok.text
    await harness.run_jobs()
    posts = [c.args for c in harness.slack.of("chat.postMessage")]
    thread = [p["text"] for p in posts if p.get("thread_ts") and "RCA INC-1" in p["text"]]
    assert thread and "The FX rates table was late." in thread[0]
    summary = [p["text"] for p in posts if p["channel"] == "#investor-kpis" and "RCA" in p["text"]]
    assert summary and not any(p.get("thread_ts") for p in posts if p["text"] == summary[0])
    assert (await harness.command("/rca", "", IDS["PR"])).json["text"] == "No open RCAs."
    mine = (await harness.command("/rca", "actions", IDS["PR"])).json["text"]
    assert "*INC-1 A1* Alert on FX table lag: PR, due Fri 31 Oct 2025" in mine

    assert harness.deps is not None
    markdown = await rca_export(harness.deps.rcas, harness.deps.incidents, "INC-1")
    assert "The FX rates table was late." in markdown and "Acknowledged by SK" in markdown


async def test_rca_commands_say_what_is_wrong(harness: Harness) -> None:
    async def say(text: str, who: str = "AM") -> str:
        return str((await harness.command("/rca", text, IDS.get(who, who))).json["text"])

    assert "There is no RCA for INC-9" in await say("write INC-9")
    assert "Usage: `/rca write INC-7`" in await say("write")
    assert "is not an `/rca` subcommand" in await say("wrte INC-1")
    assert "Only members of the on-call roster" in await say("assign INC-1 @PR", "U999")
    assert "`/rca write &lt;incident&gt;`" in await say("help")
    await _resolved_sev1_on_friday(harness)
    assert "is not on the roster" in await say("assign INC-1 @ZZ")
    assert "now owned by PR" in await say(f"assign INC-1 <@{IDS['PR']}>")
