"""`POST /alerts` through the real app: bearer token, fake Slack, Redis, paging rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.fakeslack import Call
from bot.devtools.harness import Harness
from tests.conftest import ROOT, ist
from tests.e2e.paging_helpers import advance, dms, page_posts, thread

# Five dedupe keys (the default key is pipeline:signal), all on investor pipelines.
KEYS = [
    ("growth-agg", "freshness"),
    ("growth-agg", "completeness"),
    ("profit-agg", "freshness"),
    ("engagement-agg", "accuracy"),
    ("engagement-agg", "latency"),
]
# A value outside the SLO for each signal, so every alert pages (latency has no SLO).
OUTSIDE = {"freshness": 45.0, "completeness": 97.0, "accuracy": 1.5, "latency": 900.0}
# The value of the last alert on each key (also outside the SLO): the page shows it.
LATEST = [61.0, 90.5, 62.0, 2.5, 1200.0]


def _alert(pipeline: str, signal: str, value: float | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"pipeline": pipeline, "signal": signal, "summary": f"{signal} bad"}
    if value is not None:
        body["value"] = value
    return {**body, **extra}


def channel_posts(harness: Harness, channel: str | None = None) -> list[Call]:
    """Top-level bot posts in channels (pages and notifications), not DMs or thread replies."""
    return [
        c
        for c in harness.slack.of("chat.postMessage")
        if not str(c.args.get("channel", "")).startswith("D")
        and not c.args.get("thread_ts")
        and " INC-" in str(c.args.get("text"))
        and (channel is None or c.args["channel"] == channel)
    ]


async def current_text(harness: Harness, incident_id: str) -> str:
    """The page message of an incident as it stands now, after every chat.update."""
    key = f"oncall:incident:{incident_id}"
    channel, ts = await harness.redis.hmget(key, ["msg_channel", "msg_ts"])
    msg = harness.slack.messages[(str(channel), str(ts))]
    return str(msg["text"]) + json.dumps(msg.get("blocks"), ensure_ascii=False)


async def test_thousand_alerts_on_five_keys_make_five_pages(harness: Harness) -> None:
    bodies = [_alert(p, s, OUTSIDE[s]) for i in range(995) for p, s in [KEYS[i % 5]]]
    # 600 in 12 arrays of 50, sent concurrently with the other 395 sent one by one.
    batches = [bodies[i : i + 50] for i in range(0, 600, 50)]
    singles = bodies[600:]
    responses = await asyncio.gather(
        *(harness.alert(b) for b in batches), *(harness.alert(b) for b in singles)
    )
    assert {r.status for r in responses} == {200}
    accepted = [a for r in responses for a in r.json["accepted"]]
    assert len(accepted) == 995
    assert sum(a["created"] for a in accepted) == 5
    # The last alert of each key, alone and in order, so its value is the latest one.
    for n, (p, s) in enumerate(KEYS):
        resp = await harness.alert(_alert(p, s, LATEST[n]))
        assert resp.status == 200
        assert resp.json["accepted"][0]["detail"] == "joined the open incident"
    await harness.run_jobs()

    posts = page_posts(harness)
    assert len(posts) == 5
    ids = sorted(str(i) for i in await harness.redis.smembers("oncall:incidents:open"))
    assert len(ids) == 5
    counts = [int(await harness.redis.hget(f"oncall:incident:{i}", "count") or 0) for i in ids]
    assert sum(counts) == 1000
    assert sorted(counts) == [200] * 5
    # Each page message was updated in place to show how many alerts joined and the latest.
    assert harness.slack.of("chat.update")
    for incident_id in ids:
        assert harness.deps is not None
        stored = await harness.deps.paging.stored(incident_id)
        assert stored is not None
        pipeline, signal = stored.incident.dedupe_key.split(":")
        n = KEYS.index((pipeline, signal))
        text = await current_text(harness, incident_id)
        p, s = KEYS[n]
        assert f"{_name(p)}: {s} bad" in text, text
        assert "*Alerts joined:* 200" in text, text
        assert f"latest value {LATEST[n]}" in text, text
    # Each page reaches the primary once, not once per alert; pages due together for one
    # person are folded into one DM, each incident with its own ACK button.
    paged = [t for _, t in dms(harness)]
    assert len(paged) <= 5
    for incident_id in ids:
        seen = sum(t.count(f"Page {incident_id} ") for t in paged)
        assert seen == 1, incident_id
    # Joins are folded: far fewer chat.update calls than alerts (Slack rate-limits updates).
    assert len(harness.slack.of("chat.update")) <= 5 * 11


def _name(slug: str) -> str:
    return {
        "growth-agg": "Growth — Aggregate",
        "profit-agg": "Profit — Aggregate",
        "engagement-agg": "Engagement — Aggregate",
    }[slug]


def _t(c: Call) -> str:
    return str(c.args["text"])


async def test_oncall_incidents_shows_the_alert_count(harness: Harness) -> None:
    await harness.alert([_alert("growth-agg", "freshness", 40)] * 3)
    text = (await harness.command("/oncall", "incidents", "U0AMEHTA01")).json["text"]
    assert "*INC-1* SEV2 Growth — Aggregate: freshness bad · 3 alerts" in text


@pytest.mark.parametrize(
    "at",
    [
        "2025-09-03 22:00",  # Wednesday night
        "2025-09-03 08:59",  # Wednesday, just before business hours
        "2025-09-06 12:00",  # Saturday noon
        "2025-10-02 12:00",  # Thursday noon, Gandhi Jayanti (a company holiday)
    ],
)
async def test_experiment_pipeline_out_of_hours_pages_nobody(
    harness: Harness, clock: FakeClock, at: str
) -> None:
    clock.set(ist(at))
    resp = await harness.alert(_alert("growth-daily", "freshness", 90))
    assert resp.status == 200
    assert resp.json["accepted"][0]["mode"] == "best_effort"
    await harness.run_jobs()
    [post] = channel_posts(harness)
    assert post.args["channel"] == "#data-platform"
    assert "Best-effort notification INC-1" in _t(post)
    assert "nobody is paged" in _t(post)
    assert page_posts(harness) == []
    assert dms(harness) == []
    await advance(harness, 60)
    assert dms(harness) == [] and thread(harness) == []
    # The only timer left is the notification's own auto-close, 12 h after it opened.
    assert await harness.redis.zcard("oncall:escalation:due") == 1


async def test_experiment_pipeline_in_business_hours_notifies_the_channel(
    harness: Harness,
) -> None:
    # 2025-09-03 12:00 IST, a Wednesday: business hours.
    resp = await harness.alert(_alert("profit-unit", "completeness", 90))
    assert resp.json["accepted"][0]["mode"] == "notify"
    await harness.run_jobs()
    [post] = channel_posts(harness)
    assert post.args["channel"] == "#data-platform"
    assert "Notification INC-1" in _t(post)
    assert "Channel notification (experiment pipeline in business hours)" in _t(post)
    buttons = [
        e["action_id"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["page_resolve"]  # no ACK, no Escalate now: nobody is paged
    await advance(harness, 60)
    assert dms(harness) == []
    assert thread(harness) == []
    assert harness.slack.of("chat.update") == []
    # The only timer left is the notification's own auto-close, 12 h after it opened.
    assert await harness.redis.zcard("oncall:escalation:due") == 1


@pytest.fixture
async def dependency_harness(
    redis: Redis, clock: FakeClock, config: TeamConfig
) -> AsyncIterator[Harness]:
    """The team config with profit-unit (experiment) a hard dependency of profit-agg."""
    data = config.model_dump()
    for p in data["pipelines"]:
        if p["slug"] == "profit-unit":
            p["hard_dependency_of"] = ["profit-agg"]
    cfg = TeamConfig.model_validate(data)
    h = await Harness(
        redis, clock, cfg, settings_overrides={"runbooks_dir": ROOT / "runbooks"}
    ).start()
    yield h
    await h.stop()


async def test_hard_dependency_of_an_investor_pipeline_pages_out_of_hours(
    dependency_harness: Harness, clock: FakeClock
) -> None:
    harness = dependency_harness
    clock.set(ist("2025-09-03 22:00"))
    resp = await harness.alert(_alert("profit-unit", "freshness", 90, severity="sev1"))
    assert resp.json["accepted"][0]["mode"] == "page"
    await harness.run_jobs()
    [post] = page_posts(harness)
    assert post.args["channel"] == "#data-platform"
    assert "Page INC-1 · SEV1 · Profit — Unit-level" in _t(post)
    # Week 2: PR is primary.
    [(who, text)] = dms(harness)
    assert who == "PR" and "You are paged as Primary" in text
    await advance(harness, 10)
    assert [w for w, _ in dms(harness)] == ["PR", "CW"]


@pytest.mark.parametrize(
    ("signal", "inside", "outside"),
    [
        ("freshness", 10, 20),
        ("freshness", 15, 15.5),  # the threshold itself is inside
        ("completeness", 99.7, 99.4),
        ("accuracy", 0.3, 0.6),
        ("accuracy", -0.3, -0.6),  # drift either way
    ],
)
async def test_value_inside_slo_is_recorded_and_pages_nobody(
    harness: Harness, signal: str, inside: float, outside: float
) -> None:
    resp = await harness.alert(_alert("growth-agg", signal, inside))
    assert resp.status == 200
    [entry] = resp.json["accepted"]
    assert entry["incident"] is None and "within SLO" in entry["detail"]
    await harness.run_jobs()
    assert channel_posts(harness) == [] and dms(harness) == []
    recorded = [json.loads(r) for r in await harness.redis.lrange("oncall:alerts:recorded", 0, -1)]
    assert [(r["pipeline"], r["signal"], r["value"]) for r in recorded] == [
        ("growth-agg", signal, inside)
    ]
    assert await harness.redis.scard("oncall:incidents:open") == 0

    resp = await harness.alert(_alert("growth-agg", signal, outside))
    assert resp.json["accepted"][0]["created"] is True
    await harness.run_jobs()
    assert len(page_posts(harness)) == 1
    assert [w for w, _ in dms(harness)] == ["PR"]
    assert await harness.redis.llen("oncall:alerts:recorded") == 1


async def test_wrong_or_missing_token_is_401(harness: Harness) -> None:
    body = _alert("growth-agg", "freshness")
    for token in ("nope", "", None, "alerts-token2", "ALERTS-TOKEN"):
        resp = await harness.alert(body, token=token)
        assert resp.status == 401, token
        assert "bearer token" in resp.json["error"]
    resp = await harness.post(
        "/alerts",
        json.dumps(body),
        {"Authorization": "alerts-token"},  # no "Bearer"
    )
    assert resp.status == 401
    assert await harness.redis.get("oncall:incident:seq") is None


async def test_non_json_is_400_with_a_message(harness: Harness) -> None:
    headers = {"Authorization": "Bearer alerts-token"}
    for raw in ("pipeline=growth-agg", "", "{"):
        resp = await harness.post("/alerts", raw, headers)
        assert resp.status == 400, raw
        assert "body is not JSON" in resp.json["error"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(harness.url + "/alerts", data=b'{"x": "\xff"}', headers=headers) as raw_resp,
    ):
        assert raw_resp.status == 400
        assert (await raw_resp.json())["error"] == "body is not UTF-8"
    resp = await harness.alert("just a string")
    assert resp.status == 400
    assert resp.json["rejected"][0]["error"] == "body must be a JSON object or array"


async def test_batch_with_one_bad_entry_takes_the_good_ones(harness: Harness) -> None:
    resp = await harness.alert(
        [
            _alert("growth-agg", "freshness", 40),
            _alert("growth-agg", "staleness"),
            _alert("profit-agg", "accuracy", 2.0, severity="SEV1"),
        ]
    )
    assert resp.status == 207
    body = resp.json
    assert body["ok"] is False
    assert [(a["pipeline"], a["incident"], a["created"]) for a in body["accepted"]] == [
        ("growth-agg", "INC-1", True),
        ("profit-agg", "INC-2", True),
    ]
    [bad] = body["rejected"]
    assert bad["index"] == 1
    assert bad["error"].startswith("signal:")
    assert "freshness, completeness, accuracy, latency, error_rate" in bad["error"]
    await harness.run_jobs()
    assert len(page_posts(harness)) == 2


async def test_every_kind_of_bad_entry_is_explained(harness: Harness) -> None:
    resp = await harness.alert(
        [
            {"signal": "freshness", "summary": "x"},
            _alert("growth-agg", "freshness", severity="sev9"),
            _alert("growth-agg", "freshness", summary=""),
            _alert("growth-agg", "freshness", value="lots"),  # type: ignore[arg-type]
            "growth-agg is late",
            _alert("growth-agr", "freshness"),
            _alert("growth dialy", "freshness"),
        ]
    )
    assert resp.status == 400
    assert resp.json["accepted"] == []
    errors = {r["index"]: r["error"] for r in resp.json["rejected"]}
    assert errors[0].startswith("pipeline: Field required")
    assert errors[1].startswith("severity:") and "sev1–sev4" in errors[1]
    assert errors[2].startswith("summary:")
    assert errors[3].startswith("value:")
    assert errors[4] == "each alert must be a JSON object"
    assert "Unknown pipeline `growth-agr`. Did you mean `growth-agg`?" in errors[5]
    assert "Valid pipelines: `profit-unit`" in errors[5]
    assert "Did you mean `growth-daily`?" in errors[6]
    assert await harness.redis.get("oncall:incident:seq") is None


async def test_pipeline_aliases_are_accepted(harness: Harness) -> None:
    resp = await harness.alert(_alert("Growth Aggregate", "freshness"))
    assert resp.status == 200
    assert resp.json["accepted"][0]["pipeline"] == "growth-agg"


ALERTMANAGER = {
    "version": "4",
    "status": "firing",
    "receiver": "oncall-bot",
    "alerts": [
        {
            "status": "resolved",
            "labels": {"pipeline": "profit-agg", "signal": "freshness", "severity": "sev2"},
            "annotations": {"summary": "Profit aggregate was late"},
        },
        {
            "status": "firing",
            "labels": {"pipeline": "growth-agg", "signal": "freshness", "severity": "sev1"},
            "annotations": {"summary": "DAU table is 2 h late"},
        },
    ],
}


async def test_alertmanager_webhook_opens_a_page_and_skips_resolved(harness: Harness) -> None:
    resp = await harness.alert(ALERTMANAGER)
    assert resp.status == 200
    [entry] = resp.json["accepted"]
    assert (entry["pipeline"], entry["signal"], entry["created"]) == (
        "growth-agg",
        "freshness",
        True,
    )
    await harness.run_jobs()
    [post] = page_posts(harness)
    assert "Page INC-1 · SEV1 · Growth — Aggregate: DAU table is 2 h late" in _t(post)
    assert [w for w, _ in dms(harness)] == ["PR"]
    # Alertmanager repeats firing alerts every group_interval: they join, never re-page.
    await harness.alert(ALERTMANAGER)
    await harness.run_jobs()
    assert len(page_posts(harness)) == 1
    assert await harness.redis.hget("oncall:incident:INC-1", "count") == "2"


async def test_alertmanager_rejections_point_at_the_right_entry(harness: Harness) -> None:
    body = {
        "alerts": [
            {"status": "resolved", "labels": {"pipeline": "growth-agg", "signal": "freshness"}},
            {
                "status": "firing",
                "labels": {"pipeline": "growth-agg", "signal": "lag", "alertname": "Lag"},
            },
        ]
    }
    resp = await harness.alert(body)
    assert resp.status == 400
    [bad] = resp.json["rejected"]
    assert bad["index"] == 1  # the position in the body's `alerts`, resolved ones included
    assert bad["error"].startswith("signal:")


async def test_alertmanager_all_resolved_is_fine(harness: Harness) -> None:
    body = {"alerts": [ALERTMANAGER["alerts"][0]]}
    resp = await harness.alert(body)
    assert resp.status == 200
    assert resp.json == {"ok": True, "accepted": [], "rejected": []}
    await harness.run_jobs()
    assert channel_posts(harness) == [] and dms(harness) == []


async def test_alert_before_the_rotation_starts_is_rejected_not_lost_silently(
    harness: Harness, clock: FakeClock
) -> None:
    # 2025-08-20 is before the rotation's first week: nobody can be paged, so say so.
    clock.set(ist("2025-08-20 12:00"))
    resp = await harness.alert(
        [_alert("growth-agg", "freshness"), _alert("growth-daily", "freshness")]
    )
    assert resp.status == 207
    [bad] = resp.json["rejected"]
    assert bad["index"] == 0
    assert bad["error"].startswith("cannot page: no rotation defined before Mon 25 Aug 2025, 09:00")
    [ok] = resp.json["accepted"]
    assert (ok["pipeline"], ok["mode"]) == ("growth-daily", "notify")


async def test_notifications_close_by_themselves_and_free_their_dedupe_key(
    harness: Harness, clock: FakeClock
) -> None:
    await harness.alert(_alert("profit-unit", "completeness", 90))
    await harness.run_jobs()
    again = await harness.alert(_alert("profit-unit", "completeness", 91))
    assert again.json["accepted"][0]["created"] is False  # joins while open
    await advance(harness, 12 * 60, step=5)
    # The joining alert's summary and value are told in the thread (issue #12 item 7).
    assert thread(harness) == [
        "Another alert joined: 'completeness bad' (value 91)",
        "Closed automatically after 12 h.",
    ]
    assert "Closed automatically" in _t(harness.slack.of("chat.update")[-1])
    assert dms(harness) == []
    later = await harness.alert(_alert("profit-unit", "completeness", 92))
    assert later.json["accepted"][0]["created"] is True  # a new notification


async def test_an_alert_joining_an_open_incident_costs_one_call_after_the_suppression_check(
    harness: Harness, clock: FakeClock
) -> None:
    # Issue #14: in a storm most alerts join; joining does no schedule work (no swaps
    # read, no ladder) and commits count, value, log and the page redraw in one script.
    from bot.domain.alerts import Alert
    from bot.domain.incident import Signal

    assert harness.deps is not None
    paging, redis = harness.deps.paging, harness.deps.redis
    alert = Alert(pipeline="growth-agg", signal=Signal.FRESHNESS, summary="DAU late", value=95.0)
    opened = await paging.ingest(alert, clock.now())
    assert opened.created
    commands: list[str] = []
    real: Any = redis.execute_command

    async def counting(*args: Any, **kw: Any) -> Any:
        commands.append(str(args[0]))
        return await real(*args, **kw)

    redis.execute_command = counting  # type: ignore[method-assign]
    try:
        joined = await paging.ingest(alert.model_copy(update={"value": 120.0}), clock.now())
    finally:
        redis.execute_command = real  # type: ignore[method-assign]
    assert (joined.incident_id, joined.created) == (opened.incident_id, False)
    # The suppression check (one script: count it if suppressed) and the join itself.
    assert commands == ["EVALSHA", "EVALSHA"], commands  # no GET: no swaps, no ladder
    stored = await paging.stored(str(opened.incident_id))
    assert stored is not None and stored.count == 2 and stored.last_value == "120.0"
