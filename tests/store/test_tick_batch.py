"""The escalation tick's batched store calls (issue #14): claim with read, and many commits in
one round trip, each still atomic with its own version check. On fakeredis and real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from bot.domain.incident import Incident, Mode, Severity, Status
from bot.store import keys
from bot.store.incident_records import Commit
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox

NOW = datetime(2025, 10, 20, 4, 30, tzinfo=UTC)


def _incident(n: int, due: datetime) -> Incident:
    return Incident(
        id="pending",
        pipeline="growth-agg",
        severity=Severity.SEV2,
        summary=f"late {n}",
        dedupe_key=f"k{n}",
        mode=Mode.PAGE,
        opened_at=NOW,
        opened_by="alert",
        next_at=due,
    )


async def _open(store: IncidentStore, n: int, due: datetime) -> str:
    _, incident_id = await store.open_or_join(_incident(n, due), [], NOW)
    return incident_id


async def test_claim_read_leases_what_is_due_and_reads_it_with_the_next_due(
    store_redis: Redis,
) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    a = await _open(store, 1, NOW - timedelta(seconds=2))
    b = await _open(store, 2, NOW - timedelta(seconds=1))
    later = await _open(store, 3, NOW + timedelta(minutes=5))
    claimed, first = await store.claim_read(NOW, limit=10)
    assert [i for i, _ in claimed] == [a, b]
    for incident_id, stored in claimed:
        assert stored is not None and stored.incident.id == incident_id
        got = await store.get(incident_id)
        assert got is not None
        # The ack window's PTTL ticks on between the two reads; the rest is the same.
        assert (stored.incident, stored.version) == (got.incident, got.version)
    # Both are leased (their score is the lease's end), so the first left is the lease.
    assert first == (NOW + store.LEASE).timestamp()
    # Leased: a second claim (another replica) gets none of them.
    again, _ = await store.claim_read(NOW, limit=10)
    assert again == []
    # Once their lease lapsed (their claimer died), they are claimed again, before the
    # incident due later; the limit holds; an incident with no hash left reads as None.
    await store_redis.delete(keys.incident(later))
    lapsed, _ = await store.claim_read(NOW + timedelta(minutes=5), limit=2)
    assert [i for i, _ in lapsed] == [a, b]
    gone, first = await store.claim_read(NOW + timedelta(minutes=5), limit=2)
    assert gone == [(later, None)]
    assert first == (NOW + timedelta(minutes=5) + store.LEASE).timestamp()


async def test_commit_many_applies_each_with_its_own_version_check(store_redis: Redis) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    ids = [await _open(store, n, NOW) for n in range(3)]
    before = [await store.get(i) for i in ids]
    assert all(b is not None for b in before)
    # The second changes under the batch (an ACK on another replica).
    stale = before[1]
    assert stale is not None
    assert await store.commit(stale, stale.incident.model_copy(update={"summary": "x"}), [], NOW)
    acked = [
        Commit(b, b.incident.model_copy(update={"status": Status.ACKNOWLEDGED}), [])
        for b in before
        if b is not None
    ]
    assert await store.commit_many(acked, NOW) == [True, False, True]
    got = [await store.get(i) for i in ids]
    assert [g.incident.status if g else None for g in got] == [
        Status.ACKNOWLEDGED,
        Status.TRIGGERED,
        Status.ACKNOWLEDGED,
    ]
    assert await store.commit_many([], NOW) == []


async def test_commit_many_loads_its_script_again_after_a_flush(store_redis: Redis) -> None:
    if isinstance(store_redis, FakeAsyncRedis):
        pytest.skip("fakeredis keeps no script cache to flush")
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, 1, NOW)
    before = await store.get(incident_id)
    assert before is not None
    await store_redis.script_flush()  # a Redis restart or failover loses its scripts
    after = before.incident.model_copy(update={"summary": "after the flush"})
    assert await store.commit_many([Commit(before, after, [])], NOW) == [True]
    got = await store.get(incident_id)
    assert got is not None and got.incident.summary == "after the flush"
