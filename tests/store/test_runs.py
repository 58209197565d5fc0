"""Run reports in Redis, against fakeredis and, when REDIS_URL is set, a real Redis: which
report of a run is kept, a day's range read, the 30 days kept, and the watch's claims."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.domain.notices import ChannelPost, Notice
from bot.domain.runs import RunReport
from bot.store import keys
from bot.store.outbox import Outbox
from bot.store.runs import CLAIM_LEASE, KEEP, NOTHING, PENDING, RunStore, supersedes
from tests.conftest import ist

NOW = ist("2025-09-03 07:00")


def report(
    status: str = "success",
    end: str | None = "2025-09-03 06:20",
    run_id: str = "r-1",
    start: str = "2025-09-03 06:00",
    **extra: Any,
) -> RunReport:
    fields: dict[str, Any] = {
        "pipeline": "growth-agg",
        "run_id": run_id,
        "status": status,
        "started_at": ist(start),
        "ended_at": ist(end) if end else None,
    }
    if status == "success":
        fields.update(records_out=10, checksum="c")
    return RunReport.model_validate({**fields, **extra})


RUNNING = report("running", None)
SUCCESS = report()
FAILED_EARLIER = report("failed", "2025-09-03 06:10")
RETRIED = report(end="2025-09-03 06:40")


@pytest.mark.parametrize(
    ("new", "old", "kept"),
    [
        (SUCCESS, RUNNING, True),  # the run finished
        (FAILED_EARLIER, RUNNING, True),
        (RUNNING, SUCCESS, False),  # a running report that arrived late
        (RUNNING, RUNNING, True),
        (SUCCESS, FAILED_EARLIER, True),  # a task retried under the same run id
        (FAILED_EARLIER, SUCCESS, False),  # the failure before it, delivered late
        (RETRIED, SUCCESS, True),
        (SUCCESS, SUCCESS, True),  # a producer's retry: harmless either way
    ],
)
def test_which_report_of_a_run_is_kept(new: RunReport, old: RunReport, kept: bool) -> None:
    assert supersedes(new, old) is kept


async def test_put_keeps_the_right_report_and_files_it_by_its_end(store_redis: Redis) -> None:
    store = RunStore(store_redis, Outbox(store_redis))
    first = await store.put(RUNNING, NOW)
    assert (first.stored, first.previous) == (True, None)
    assert (
        await store_redis.zscore(keys.runs("growth-agg"), "r-1")
        == ist("2025-09-03 06:00").timestamp()
    )
    done = await store.put(SUCCESS, NOW)
    assert (done.stored, done.previous) == (True, RUNNING)
    late = await store.put(RUNNING, NOW)
    assert (late.stored, late.previous) == (False, SUCCESS)
    assert await store.get("growth-agg", "r-1") == SUCCESS
    # Filed by its end now, and kept 30 days.
    assert (
        await store_redis.zscore(keys.runs("growth-agg"), "r-1")
        == ist("2025-09-03 06:20").timestamp()
    )
    ttl = await store_redis.ttl(keys.run("growth-agg", "r-1"))
    assert abs(ttl - KEEP.total_seconds()) < 5


async def test_two_replicas_racing_keep_the_finished_report(
    shared_redis: tuple[Redis, Redis],
) -> None:
    one, two = (RunStore(r, Outbox(r)) for r in shared_redis)
    for i in range(20):
        running, success = (r.model_copy(update={"run_id": f"r-{i}"}) for r in (RUNNING, SUCCESS))
        # Either order of arrival: the finished report is the one kept.
        first, second = (one, two) if i % 2 else (two, one)
        await asyncio.gather(first.put(running, NOW), second.put(success, NOW))
        assert await one.get("growth-agg", f"r-{i}") == success


async def test_between_reads_one_day_in_order_and_old_runs_are_pruned(store_redis: Redis) -> None:
    store = RunStore(store_redis, Outbox(store_redis))
    old = report(run_id="old", start="2025-08-01 06:00", end="2025-08-01 06:20")
    await store.put(old, ist("2025-08-01 07:00"))
    for i, d in enumerate(["2025-09-01", "2025-09-02", "2025-09-03"]):
        await store.put(report(run_id=f"r{i}", start=f"{d} 06:00", end=f"{d} 06:20"), NOW)
    other = report(run_id="r0").model_copy(update={"pipeline": "profit-agg"})
    await store.put(other, NOW)

    day = await store.between("growth-agg", ist("2025-09-02 00:00"), ist("2025-09-03 00:00"))
    assert [r.run_id for r in day] == ["r1"]
    week = await store.between("growth-agg", ist("2025-08-28 00:00"), ist("2025-09-04 00:00"))
    assert [r.run_id for r in week] == ["r0", "r1", "r2"]
    # The August run fell out of the index when the September runs were stored.
    assert await store_redis.zscore(keys.runs("growth-agg"), "old") is None
    assert await store.reported_since("growth-agg", NOW - KEEP)
    assert not await store.reported_since("engagement-agg", NOW - KEEP)
    # A report whose key expired is skipped, not an error.
    await store_redis.delete(keys.run("growth-agg", "r1"))
    week = await store.between("growth-agg", ist("2025-08-28 00:00"), ist("2025-09-04 00:00"))
    assert [r.run_id for r in week] == ["r0", "r2"]


async def test_the_late_notice_is_queued_once(shared_redis: tuple[Redis, Redis]) -> None:
    one, two = (RunStore(r, Outbox(r)) for r in shared_redis)
    post: list[Notice] = [ChannelPost(channel="#investor-kpis", text="late", about="x")]
    won = await asyncio.gather(
        *(s.notice_once("growth-agg", "deadline-2025-09-03", post, NOW) for s in (one, two) * 3)
    )
    assert sorted(won) == [False] * 5 + [True]
    claimed = await Outbox(shared_redis[0]).claim(NOW, 10)
    assert [
        (c.notice.channel, c.notice.text) for c in claimed if isinstance(c.notice, ChannelPost)
    ] == [("#investor-kpis", "late")]
    assert len(claimed) == 1


async def test_an_alert_claim_holds_its_incident_and_a_crash_lets_it_go(
    store_redis: Redis,
) -> None:
    store = RunStore(store_redis, Outbox(store_redis))
    key = "deadline-2025-09-03"
    assert await store.alerted("growth-agg", key) is None
    assert await store.claim_alert("growth-agg", key)
    assert not await store.claim_alert("growth-agg", key)
    assert await store.alerted("growth-agg", key) == PENDING
    # A replica that dies before raising holds the claim only for a short lease.
    ttl = await store_redis.ttl(keys.run_claim("growth-agg", "alert", key))
    assert 0 < ttl <= CLAIM_LEASE.total_seconds()
    await store.release_alert("growth-agg", key)
    assert await store.claim_alert("growth-agg", key)
    await store.alert_raised("growth-agg", key, "INC-4")
    assert await store.alerted("growth-agg", key) == "INC-4"
    assert await store_redis.ttl(keys.run_claim("growth-agg", "alert", key)) > 86400
    await store.alert_closed("growth-agg", key)
    assert await store.alerted("growth-agg", key) == NOTHING
    # A suppressed alert opened nothing to close.
    assert await store.claim_alert("growth-agg", "gap-x")
    await store.alert_raised("growth-agg", "gap-x", None)
    assert await store.alerted("growth-agg", "gap-x") == NOTHING
