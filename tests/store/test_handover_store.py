"""The handover's Redis store, against fakeredis and, when REDIS_URL is set, a real Redis:
the snapshot written only while unclaimed, the first press kept, and last week's incidents
read from the incident keys."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from redis.asyncio import Redis

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.handover import build_digest
from bot.domain.incident import Incident, Mode, Severity
from bot.store import keys
from bot.store.handover import HandoverStore, epoch
from bot.store.outbox import Outbox
from tests.conftest import ist

BOUNDARY = ist("2025-09-29 09:00")
KEEP = timedelta(days=14)


def _store(redis: Redis) -> HandoverStore:
    return HandoverStore(redis, Outbox(redis))


async def test_the_snapshot_is_written_only_while_the_digest_is_unclaimed(
    store_redis: Redis, config: TeamConfig
) -> None:
    store = _store(store_redis)
    cal = HolidayCalendar(config.policy.holidays)
    first = build_digest(config, cal, BOUNDARY, BOUNDARY)
    later = build_digest(config, cal, BOUNDARY, BOUNDARY + timedelta(minutes=1))
    # Before the claim a fresher snapshot replaces an older one (its writer may have died).
    assert await store.save_digest(first, KEEP)
    assert await store.save_digest(later, KEEP)
    assert await store.digest(epoch(BOUNDARY)) == later
    claimed = await store.outbox.enqueue_once(
        keys.handover_sent(epoch(BOUNDARY)), KEEP, [], BOUNDARY
    )
    assert claimed and await store.queued(epoch(BOUNDARY))
    # After it, the messages already queued keep the snapshot they were queued with.
    assert not await store.save_digest(first, KEEP)
    assert await store.digest(epoch(BOUNDARY)) == later


async def test_two_presses_at_once_keep_one_first_time(store_redis: Redis) -> None:
    store = _store(store_redis)
    at = [BOUNDARY + timedelta(minutes=m) for m in (5, 6, 7)]
    results = await asyncio.gather(*(store.confirm(BOUNDARY, "AM", t, KEEP) for t in at))
    assert sorted(fresh for fresh, _ in results) == [False, False, True]
    done = await store.confirmations(BOUNDARY)
    [kept] = done.confirmed
    assert kept.member == "AM" and kept.at in at
    assert all(c.confirmed == done.confirmed for _, c in results)
    assert await store_redis.ttl(keys.handover_confirmed(epoch(BOUNDARY))) > 0


async def test_incidents_since_reads_closed_ones_and_stops_at_older_batches(
    store_redis: Redis,
) -> None:
    # 250 incidents an hour apart, the newest 100 hours before the boundary; 3 have expired.
    for n in range(1, 251):
        inc = Incident(
            id=f"INC-{n}",
            pipeline="growth-agg",
            severity=Severity.SEV2,
            summary="late",
            dedupe_key=f"k{n}",
            mode=Mode.PAGE,
            opened_at=BOUNDARY - timedelta(hours=350 - n),
            opened_by="alert",
        )
        if n not in (10, 200, 201):
            await store_redis.hset(keys.incident(inc.id), "data", inc.model_dump_json())
    await store_redis.set(keys.INCIDENT_SEQ, 250)
    since = BOUNDARY - timedelta(hours=200)  # INC-150 onwards
    found = await _store(store_redis).incidents_since(since)
    expected = [f"INC-{n}" for n in range(250, 149, -1) if n not in (200, 201)]
    assert [i.id for i in found] == expected
    assert await _store(store_redis).incidents_since(BOUNDARY) == []
