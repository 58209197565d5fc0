"""The delivery-deadline watch through the real app (issue #10 item 4): `POST /runs`, the
`deadlines` background job on a fake clock, paging through normal rules, `/oncall runs`."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.fakeslack import FakeSlack
from bot.devtools.harness import Harness, Response
from bot.domain.incident import AUTO, Mode, Status
from tests.conftest import ROOT, ist
from tests.e2e.paging_helpers import IDS, dms, page_posts, thread

DAY = "2025-09-03"  # a Wednesday of rotation week 2: Primary PR, Backup CW


def _run(
    start: str,
    end: str | None,
    status: str = "success",
    pipeline: str = "growth-agg",
    run_id: str = "r-1",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pipeline": pipeline,
        "run_id": run_id,
        "status": status,
        "started_at": ist(start).isoformat(),
    }
    if end is not None:
        body["ended_at"] = ist(end).isoformat()
    if status == "success":
        body.update(records_out=1200, checksum="sha256:ab12")
    return {**body, **extra}


async def post_runs(harness: Harness, body: object, token: str | None = "alerts-token") -> Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, str) else json.dumps(body)
    return await harness.post("/runs", raw, headers)


def _at(harness: Harness, at: datetime) -> None:
    assert isinstance(harness.clock, FakeClock)
    harness.clock.set(at)


def _notices(slack: FakeSlack, channel: str = "#investor-kpis") -> list[str]:
    return [
        str(c.args["text"])
        for c in slack.of("chat.postMessage")
        if c.args.get("channel") == channel
        and str(c.args.get("text", "")).startswith(":hourglass_flowing_sand:")
    ]


async def _arm(harness: Harness) -> None:
    """Yesterday's on-time run: a pipeline is watched once it has reported a run."""
    _at(harness, ist("2025-09-02 07:00"))
    resp = await post_runs(harness, _run("2025-09-02 06:00", "2025-09-02 06:20", run_id="r-0"))
    assert resp.status == 200, resp.text


async def test_a_missing_delivery_notices_then_pages_and_a_late_run_closes_it(
    harness: Harness,
) -> None:
    await _arm(harness)
    for at in ("06:00", "06:30"):  # "by 06:30" includes 06:30
        _at(harness, ist(f"{DAY} {at}"))
        await harness.run_jobs()
    assert _notices(harness.slack) == []

    _at(harness, ist(f"{DAY} 06:31"))
    await harness.run_jobs()
    await harness.run_jobs()  # the same tick twice: still one notice
    assert _notices(harness.slack) == [
        ":hourglass_flowing_sand: Growth — Aggregate not delivered, due 06:30. "
        "An alert follows at Wed 3 Sep 2025, 06:45 IST unless it lands."
    ]
    assert page_posts(harness) == [] and dms(harness) == []

    _at(harness, ist(f"{DAY} 06:45"))  # 15 min late still meets "freshness ≤ 15 min"
    await harness.run_jobs()
    assert page_posts(harness) == []
    _at(harness, ist(f"{DAY} 06:46"))
    await harness.run_jobs()
    await harness.run_jobs()
    [post] = page_posts(harness)
    assert post.args["channel"] == "#investor-kpis"
    assert "Page INC-1 · SEV2 · Growth — Aggregate" in str(post.args["text"])
    assert [who for who, _ in dms(harness)] == ["PR"]  # the Primary, once
    assert len(_notices(harness.slack)) == 1
    metrics = (await harness.get("/metrics")).text
    assert 'oncall_deadline_misses_total{pipeline="growth-agg",stage="notice"} 1.0' in metrics
    assert 'oncall_deadline_misses_total{pipeline="growth-agg",stage="alert"} 1.0' in metrics
    assert harness.deps is not None
    stored = await harness.deps.paging.stored("INC-1")
    assert stored is not None and stored.incident.status is Status.TRIGGERED
    assert stored.incident.summary == (
        "Growth — Aggregate not delivered, due 06:30: 16 min late, beyond the 15 min freshness SLO"
    )

    _at(harness, ist(f"{DAY} 06:50"))
    resp = await post_runs(harness, _run(f"{DAY} 06:10", f"{DAY} 06:50", run_id="r-late"))
    assert resp.status == 200, resp.text
    [done] = resp.json["accepted"]
    assert (done["stored"], done["closed"], done["incident"]) == (True, ["INC-1"], None)
    assert done["deadline"] == (
        "Growth — Aggregate delivered 06:50 (run r-late), 20 min after its 06:30 deadline"
    )
    stored = await harness.deps.paging.stored("INC-1")
    assert stored is not None
    assert (stored.incident.status, stored.incident.resolved_by) == (Status.RESOLVED, AUTO)
    await harness.run_jobs()
    assert thread(harness)[-1] == (
        "Growth — Aggregate delivered 06:50 (run r-late), 20 min after its 06:30 deadline: "
        "closed automatically."
    )
    # Later ticks neither page again nor post again.
    _at(harness, ist(f"{DAY} 08:00"))
    await harness.run_jobs()
    assert len(page_posts(harness)) == 1 and len(_notices(harness.slack)) == 1
    assert [who for who, text in dms(harness) if "You are paged" in text] == ["PR"]


async def test_a_pipeline_that_never_reported_is_not_watched(harness: Harness) -> None:
    _at(harness, ist(f"{DAY} 08:00"))  # every daily deadline but growth-daily's has passed
    await harness.run_jobs()
    assert page_posts(harness) == [] and _notices(harness.slack) == []


async def test_a_run_below_the_completeness_slo_alerts(harness: Harness) -> None:
    _at(harness, ist(f"{DAY} 06:10"))
    bad = _run(f"{DAY} 05:40", f"{DAY} 06:05", completeness_pct=99.2, metric_version="v4")
    resp = await post_runs(harness, bad)
    assert resp.status == 200, resp.text
    [done] = resp.json["accepted"]
    assert done["incident"] == "INC-1"
    assert done["detail"] == "stored; completeness 99.2 % below 99.5 %: opened"
    assert done["deadline"] == "Growth — Aggregate delivered 06:05 (run r-1), due 06:30"
    await harness.run_jobs()
    [post] = page_posts(harness)
    assert "Growth — Aggregate" in str(post.args["text"])
    assert [who for who, _ in dms(harness)] == ["PR"]

    # The producer retries: stored again, nobody paged again.
    again = (await post_runs(harness, bad)).json["accepted"][0]
    assert again["detail"] == (
        "stored; completeness 99.2 % below 99.5 %: already alerted for this run"
    )
    assert again["incident"] is None
    # An experiment pipeline notifies in business hours, without paging.
    _at(harness, ist(f"{DAY} 10:30"))
    drift = _run(f"{DAY} 09:40", f"{DAY} 10:20", pipeline="growth-daily", accuracy_drift_pp=-0.8)
    [done] = (await post_runs(harness, drift)).json["accepted"]
    assert done["detail"] == "stored; accuracy drift -0.8 pp beyond ±0.5 pp: opened"
    assert harness.deps is not None
    stored = await harness.deps.paging.stored(str(done["incident"]))
    assert stored is not None and stored.incident.mode is Mode.NOTIFY
    # An on-time run within its SLOs is just stored.
    ok = _run(f"{DAY} 06:00", f"{DAY} 06:50", pipeline="profit-agg", completeness_pct=99.9)
    [done] = (await post_runs(harness, ok)).json["accepted"]
    assert (done["detail"], done["incident"]) == ("stored", None)


async def test_bad_bodies_get_400_with_what_is_wrong_in_each(harness: Harness) -> None:
    good = _run(f"{DAY} 06:00", f"{DAY} 06:20")
    entries = [
        {**good, "status": "done"},
        {k: v for k, v in good.items() if k != "ended_at"},
        {**good, "started_at": "2025-09-03T06:00:00"},
        {**good, "completness_pct": 99.9},
        {**good, "pipeline": "grwth-agg"},
        7,
        {**good, "records_out": "12"},
        _run("2025-07-01 06:00", "2025-07-01 06:20"),
        {**good, "ended_at": "9999-12-31T23:59:59-05:30"},
    ]
    resp = await post_runs(harness, entries)
    assert resp.status == 400, resp.text
    errors = {e["index"]: e["error"] for e in resp.json["rejected"]}
    assert resp.json["accepted"] == []
    assert errors[0] == "status: status must be one of success, failed, running; got 'done'"
    assert errors[1] == "run: a success run needs ended_at"
    assert errors[2].startswith("started_at: started_at 2025-09-03T06:00:00 has no UTC offset")
    assert errors[3].startswith("completness_pct: Extra inputs are not permitted (fields: ")
    assert "completeness_pct" in errors[3]
    assert errors[4].startswith("Unknown pipeline `grwth-agg`. Did you mean `growth-agg`?")
    assert errors[5] == "each run report must be a JSON object"
    assert errors[6] == "records_out: Input should be a valid integer"
    assert errors[7] == (
        "run r-1 is from 2025-07-01T06:20:00+05:30, older than the 30 days of runs kept"
    )
    assert errors[8].startswith("ended_at 9999-12-31T23:59:59-05:30 is more than 1 h ahead")
    assert errors[8].endswith(
        " is more than 1 h ahead of the bot's clock (Wed 3 Sep 2025, 12:00 IST); check the DAG host's clock"
    )

    mixed = await post_runs(harness, [good, {**good, "status": "done", "run_id": "r-2"}])
    assert mixed.status == 207, mixed.text
    assert [a["run_id"] for a in mixed.json["accepted"]] == ["r-1"]
    assert [r["index"] for r in mixed.json["rejected"]] == [1]

    for body, said in (
        ("{not json", "body is not JSON"),
        ([], "body holds no run reports"),
        ('"a run"', "body must be a run report (object) or an array"),
    ):
        resp = await post_runs(harness, body)
        assert resp.status == 400, resp.text
        text = resp.json.get("error") or resp.json["rejected"][0]["error"]
        assert text.startswith(said)


async def test_runs_need_the_bearer_token_before_anything_is_parsed(harness: Harness) -> None:
    good = _run(f"{DAY} 06:00", f"{DAY} 06:20")
    for token in (None, "wrong"):
        for body in (good, "{not json"):
            resp = await post_runs(harness, body, token=token)
            assert resp.status == 401, resp.text
            assert resp.json["error"] == "missing or wrong bearer token (ALERTS_TOKEN)"
    assert harness.deps is not None
    assert await harness.deps.runs.store.get("growth-agg", "r-1") is None


async def test_a_late_running_report_never_hides_the_success_before_it(harness: Harness) -> None:
    _at(harness, ist(f"{DAY} 07:00"))
    await post_runs(harness, _run(f"{DAY} 06:00", f"{DAY} 06:20"))
    [done] = (await post_runs(harness, _run(f"{DAY} 06:00", None, "running"))).json["accepted"]
    assert done["stored"] is False
    assert done["detail"] == (
        "not stored: run r-1 was already reported success; "
        "a running report does not replace a finished one"
    )
    failed = _run(f"{DAY} 06:00", f"{DAY} 06:10", "failed")
    [done] = (await post_runs(harness, failed)).json["accepted"]
    assert done["detail"] == (
        "not stored: run r-1 was already reported success; "
        "that report ends later (Wed 3 Sep 2025, 06:20 IST)"
    )


async def test_two_replicas_post_the_notice_once_and_page_once(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    clock = FakeClock(ist("2025-09-02 07:00"))
    slack = FakeSlack()
    extra = {"runbooks_dir": ROOT / "no-runbooks"}
    one = await Harness(shared_redis[0], clock, config, extra, slack=slack).start()
    two = await Harness(shared_redis[1], clock, config, extra, slack=slack).start()
    try:
        resp = await post_runs(one, _run("2025-09-02 06:00", "2025-09-02 06:20"))
        assert resp.status == 200, resp.text
        for at in ("06:31", "06:32", "06:46", "06:47"):
            clock.set(ist(f"{DAY} {at}"))
            await asyncio.gather(one.run_jobs(), two.run_jobs(), one.run_jobs())
        assert len(_notices(slack)) == 1
        pages = [
            c
            for c in slack.of("chat.postMessage")
            if "Page INC-" in str(c.args.get("text"))
            and not str(c.args.get("channel", "")).startswith("D")
        ]
        assert len(pages) == 1
        assert one.deps is not None
        stored = await one.deps.paging.stored("INC-1")
        assert stored is not None and stored.count == 1  # raised once, never joined again
    finally:
        await one.stop()
        await two.stop()
        await slack.stop()


async def test_oncall_runs_shows_the_week(harness: Harness) -> None:
    runs = [
        _run("2025-08-28 06:00", "2025-08-28 06:20", run_id="a"),  # Thu: met
        _run("2025-08-29 06:00", "2025-08-29 06:50", run_id="b"),  # Fri: late
        _run("2025-08-30 06:00", "2025-08-30 06:12", "failed", run_id="c"),  # Sat: missed
        # Sun 31 Aug: nothing reported
        _run("2025-09-01 06:00", "2025-09-01 06:25", run_id="d", completeness_pct=99.2),
        _run("2025-09-02 06:00", "2025-09-02 06:10", run_id="e"),
        _run("2025-09-02 06:15", "2025-09-02 06:16", "failed", run_id="e2"),
    ]
    _at(harness, ist(f"{DAY} 06:00"))
    resp = await post_runs(harness, runs)
    assert resp.status == 200, resp.text

    reply = (await harness.command("/oncall", "runs growth agg", IDS["SK"])).json
    assert reply["response_type"] == "ephemeral"
    lines = str(reply["text"]).splitlines()
    assert lines[0] == (
        "*Growth — Aggregate* deliveries, Thu 28 Aug 2025 to Wed 3 Sep 2025 "
        "(due daily; today by Wed 3 Sep 2025, 06:30 IST): met 3 of 6 days; late 1; "
        "missed 1; no run 1."
    )
    assert lines[1:] == [
        ":white_check_mark: *Thu 28 Aug 2025*: met — delivered 06:20 (run a)",
        ":warning: *Fri 29 Aug 2025*: late — delivered 06:50 (run b), 20 min late",
        ":x: *Sat 30 Aug 2025*: missed — 1 run, nothing delivered (run c failed at 06:12)",
        ":grey_question: *Sun 31 Aug 2025*: no run reported",
        ":white_check_mark: *Mon 1 Sep 2025*: met — delivered 06:25 (run d); "
        "completeness 99.2 % below 99.5 %",
        ":white_check_mark: *Tue 2 Sep 2025*: met — delivered 06:10 (run e) · 2 runs, 1 failed",
        ":hourglass_flowing_sand: *Wed 3 Sep 2025*: not due yet — due 06:30",
    ]
    context = reply["blocks"][-1]["elements"][0]["text"]
    assert context.startswith("Times are IST (Asia/Kolkata).")


async def test_oncall_runs_errors_say_what_to_type(harness: Harness) -> None:
    async def say(text: str) -> str:
        return str((await harness.command("/oncall", text, IDS["AM"])).json["text"])

    assert "Say which pipeline: `/oncall runs &lt;pipeline&gt; [days]`" in await say("runs")
    assert "Unknown pipeline `grwth`. Did you mean `growth-agg`?" in await say("runs grwth")
    assert "Show 1 to 30 days" in await say("runs growth-agg 90")
    assert "`/oncall runs &lt;pipeline&gt; [days]`" in await say("help")
    two = (await harness.command("/oncall", "runs profit-unit 2", IDS["AM"])).json["text"]
    assert "*Profit — Unit-level* deliveries, Tue 2 Sep 2025 to Wed 3 Sep 2025" in two
    assert "a delivery within 15 min of the last" in two


async def test_a_rolling_gap_notifies_an_experiment_pipeline_and_the_next_run_closes_it(
    harness: Harness,
) -> None:
    _at(harness, ist(f"{DAY} 08:00"))  # before the window: a run reported, nothing due yet
    arm = _run("2025-09-01 10:00", "2025-09-01 10:05", pipeline="profit-unit", run_id="u-0")
    assert (await post_runs(harness, arm)).status == 200
    _at(harness, ist(f"{DAY} 09:15"))  # the window opened at 09:00: 15 min is still in time
    await harness.run_jobs()
    assert page_posts(harness) == []
    _at(harness, ist(f"{DAY} 09:16"))
    await harness.run_jobs()
    assert harness.deps is not None
    stored = await harness.deps.paging.stored("INC-1")
    assert stored is not None
    # Business hours on a weekday: a channel notification, nobody paged, no late notice.
    assert (stored.incident.pipeline, stored.incident.mode) == ("profit-unit", Mode.NOTIFY)
    assert stored.incident.summary.startswith(
        "Profit — Unit-level: nothing delivered for orders closed since 09:00: 16 min"
    )
    assert [text for _, text in dms(harness) if "You are paged" in text] == []
    assert _notices(harness.slack, "#data-platform") == []

    _at(harness, ist(f"{DAY} 09:20"))
    run = _run(f"{DAY} 09:05", f"{DAY} 09:19", pipeline="profit-unit", run_id="u-1")
    [done] = (await post_runs(harness, run)).json["accepted"]
    assert done["closed"] == ["INC-1"]
    stored = await harness.deps.paging.stored("INC-1")
    assert stored is not None and stored.incident.status is Status.RESOLVED
