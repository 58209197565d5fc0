"""Maintenance windows through the real app: `/oncall suppress`, alerts counted and never
paged, the start and end announced in the pipeline's channel."""

from __future__ import annotations

from bot.devtools.harness import Harness
from tests.e2e.paging_helpers import IDS, advance, dms, page_posts


def _channel_texts(harness: Harness, channel: str) -> list[str]:
    return [
        str(c.args["text"])
        for c in harness.slack.of("chat.postMessage")
        if c.args.get("channel") == channel and not c.args.get("thread_ts")
    ]


async def _alert(harness: Harness, key: str) -> dict[str, object]:
    body = {"pipeline": "growth-agg", "summary": "DAU late", "signal": "freshness"}
    resp = await harness.alert([{**body, "dedupe_key": key}])
    assert resp.status == 200, resp.text
    await harness.run_jobs()
    accepted = resp.json["accepted"]
    assert isinstance(accepted, list)
    return dict(accepted[0])


async def test_a_suppressed_investor_pipeline_pages_nobody_and_counts(harness: Harness) -> None:
    reply = await harness.command(
        "/oncall", "suppress growth-agg 2h warehouse maintenance", IDS["AM"]
    )
    assert "Alerts for Growth — Aggregate are suppressed until" in reply.json["text"]
    await harness.run_jobs()
    [start] = _channel_texts(harness, "#investor-kpis")
    assert start.startswith(":mute: Alerts for Growth — Aggregate are suppressed until")
    assert "(S-1, by <@U0AMEHTA01>). Reason: warehouse maintenance." in start

    for key in ("a", "b", "c"):
        outcome = await _alert(harness, key)
        assert outcome["incident"] is None
        assert outcome["detail"] == "suppressed by S-1: recorded, nobody paged"
    assert page_posts(harness) == [] and dms(harness) == []
    listing = (await harness.command("/oncall", "suppressions", IDS["PR"])).json["text"]
    assert "*S-1* Growth — Aggregate" in listing and "3 alerts suppressed" in listing

    await advance(harness, 121)
    end = _channel_texts(harness, "#investor-kpis")[-1]
    assert end.startswith(":loud_sound: Suppression S-1 of Growth — Aggregate ended at")
    assert "3 alerts suppressed while it lasted. Alerts page again." in end
    outcome = await _alert(harness, "d")
    assert outcome["incident"] == "INC-1"
    assert len(page_posts(harness)) == 1


async def test_suppression_rules_answer_what_is_wrong(harness: Harness) -> None:
    async def say(text: str, who: str = "AM") -> str:
        return str((await harness.command("/oncall", text, IDS.get(who, who))).json["text"])

    assert "investor pipeline: say why it is suppressed" in await say("suppress growth-agg 2h")
    assert "4 h" in await say("suppress growth-agg 6h long backfill")
    assert "growth-agg" in await say("suppress grwth 2h x")
    assert "Only members of the on-call roster" in await say("suppress growth-agg 1h x", "U999")
    assert "No suppressions" in await say("suppressions")
    await say("suppress growth-agg 1h backfill")
    ended = await say("unsuppress S-1", "PR")
    assert "ended early by <@U0PRRAO002>" in ended and "0 alerts suppressed" in ended
    assert "already" in await say("unsuppress S-1")
    assert "no suppression S-9" in await say("unsuppress S-9")
