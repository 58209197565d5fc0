"""Suppressions in Redis, against fakeredis and, when REDIS_URL is set, a real Redis: create,
count while active and not after the end, an end claimed once across replicas, cancel."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.domain.notices import Notice, SuppressionEnded, SuppressionStarted
from bot.domain.suppressions import SuppressionError, SuppressRequest
from bot.services.suppressions import SuppressionService
from bot.store import keys
from bot.store.outbox import Outbox
from bot.store.suppressions import KEEP_AFTER_END, SuppressionStore
from tests.conftest import ist

T0 = ist("2025-10-20 10:00")


def _service(redis: Redis, config: TeamConfig, clock: FakeClock) -> SuppressionService:
    return SuppressionService(config, SuppressionStore(redis, Outbox(redis)), clock)


async def _queued(redis: Redis, clock: FakeClock) -> list[Notice]:
    """Every notice due now, in order, marked delivered (so a later call sees only new ones)."""
    outbox = Outbox(redis)
    claimed = await outbox.claim(clock.now(), 100)
    for c in claimed:
        await outbox.done(c, clock.now())
    return [c.notice for c in claimed if c.notice is not None]


async def test_create_stores_it_and_announces_it_together(
    store_redis: Redis, config: TeamConfig
) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    s = await service.create("growth-agg 2h warehouse move", "CW")
    assert (s.id, s.pipeline, s.ends_at, s.reason, s.created_by) == (
        "S-1",
        "growth-agg",
        ist("2025-10-20 12:00"),
        "warehouse move",
        "CW",
    )
    assert await service.store.get("S-1") == s
    ttl = await store_redis.ttl(keys.suppression("S-1"))
    assert abs(ttl - (timedelta(hours=2) + KEEP_AFTER_END).total_seconds()) < 5
    assert await service.listing() == ([s], [])
    [notice] = await _queued(store_redis, clock)
    assert isinstance(notice, SuppressionStarted)
    assert (notice.channel, notice.suppression) == ("#investor-kpis", s)


async def test_all_is_announced_once_per_channel(store_redis: Redis, config: TeamConfig) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    s = await service.create("all 1h cluster upgrade", "AM")
    notices = await _queued(store_redis, clock)
    assert [(type(n), getattr(n, "channel", None)) for n in notices] == [
        (SuppressionStarted, "#data-platform"),
        (SuppressionStarted, "#investor-kpis"),
    ]
    assert all(isinstance(n, SuppressionStarted) and n.suppression == s for n in notices)


async def test_refused_requests_store_nothing(store_redis: Redis, config: TeamConfig) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    with pytest.raises(SuppressionError, match="at most 4 h"):
        await service.create("growth-agg 6h backfill", "CW")
    assert await service.store.live() == []
    assert await _queued(store_redis, clock) == []


async def test_alerts_are_counted_and_recorded_while_active_only(
    store_redis: Redis, config: TeamConfig
) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    s = await service.create("growth-agg 2h warehouse move", "CW")

    alert = {"pipeline": "growth-agg", "signal": "freshness", "value": 40.5}
    assert await service.record_alert("growth-agg", alert) == s.id
    assert await service.record_alert("growth-agg") == s.id
    assert await service.record_alert("profit-agg") is None  # another pipeline pages
    clock.advance(timedelta(hours=1, minutes=59))
    assert await service.record_alert("growth-agg") == s.id
    assert (await service.active_for("growth-agg")) is not None

    clock.set(s.ends_at)  # the end is exclusive
    assert await service.record_alert("growth-agg") is None
    assert await service.active_for("growth-agg") is None
    stored = await service.store.get(s.id)
    assert stored is not None and stored.suppressed == 3

    [recorded] = [json.loads(r) for r in await store_redis.lrange(keys.ALERTS_RECORDED, 0, -1)]
    assert recorded == {**alert, "suppressed_by": s.id}


async def test_all_and_a_specific_one_both_count(store_redis: Redis, config: TeamConfig) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    one = await service.create("profit-unit 3h", "PR")
    every = await service.create("all 1h deploy", "AM")
    # The one paging waits for is the one that ends last; each counts what it swallowed.
    assert await service.record_alert("profit-unit") == one.id
    assert await service.record_alert("engagement-agg") == every.id
    counts = {s.id: s.suppressed for s in await service.store.live()}
    assert counts == {one.id: 1, every.id: 2}
    assert (await service.active_for("engagement-agg")) == every.model_copy(
        update={"suppressed": 2}
    )


async def test_the_end_is_claimed_once_across_replicas(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    a, b = shared_redis
    clock = FakeClock(T0)
    first, second = _service(a, config, clock), _service(b, config, clock)
    s = await first.create("growth-agg 90m reindex", "CW")
    for _ in range(4):
        await second.record_alert("growth-agg")
    await _queued(a, clock)  # the start announcement

    assert await first.announce_ended() == []  # not yet
    clock.set(s.ends_at)
    await asyncio.gather(a.ping(), b.ping())
    results = await asyncio.gather(
        *(svc.announce_ended() for svc in (first, second, first, second))
    )
    ended = [x for r in results for x in r]
    assert [(x.id, x.suppressed) for x in ended] == [(s.id, 4)]

    notices = await _queued(a, clock)
    assert len(notices) == 1 and isinstance(notices[0], SuppressionEnded)
    assert (notices[0].channel, notices[0].suppression.suppressed) == ("#investor-kpis", 4)
    assert await second.announce_ended() == []
    assert await first.listing() == ([], [])
    assert [(x.id, x.suppressed) for x in await second.handover(T0)] == [(s.id, 4)]


async def test_cancel_announces_the_end_with_the_count_once(
    store_redis: Redis, config: TeamConfig
) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    s = await service.create("engagement-agg 3h backfill", "PR")
    await service.record_alert("engagement-agg")
    await _queued(store_redis, clock)
    clock.advance(timedelta(minutes=30))

    done = await service.cancel("s1", "AM")
    assert (done.id, done.cancelled_by, done.cancelled_at, done.suppressed) == (
        s.id,
        "AM",
        clock.now(),
        1,
    )
    assert done.ended_at == clock.now()
    [notice] = await _queued(store_redis, clock)
    assert isinstance(notice, SuppressionEnded) and notice.suppression == done

    assert await service.record_alert("engagement-agg") is None  # pages again
    with pytest.raises(SuppressionError, match="S-1 was cancelled by AM already"):
        await service.cancel("S-1", "PR")
    with pytest.raises(SuppressionError, match="There is no suppression S-9"):
        await service.cancel("S-9", "PR")
    clock.set(s.ends_at)
    assert await service.announce_ended() == []  # its end was announced by the cancel
    assert await _queued(store_redis, clock) == []
    assert await service.handover(T0) == [done]


async def test_a_cancel_racing_alerts_reports_every_alert_it_swallowed(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    a, b = shared_redis
    clock = FakeClock(T0)
    first, second = _service(a, config, clock), _service(b, config, clock)
    s = await first.create("growth-daily 1h", "SK")
    await _queued(a, clock)
    await asyncio.gather(*(client.ping() for client in (a, b)))
    results = await asyncio.gather(
        *(second.record_alert("growth-daily") for _ in range(20)),
        first.cancel(s.id, "SK"),
        *(second.record_alert("growth-daily") for _ in range(20)),
    )
    swallowed = sum(1 for r in results if r == s.id)
    [notice] = await _queued(a, clock)
    assert isinstance(notice, SuppressionEnded)
    assert notice.suppression.suppressed == swallowed


async def test_an_upcoming_one_is_listed_apart(store_redis: Redis, config: TeamConfig) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    later = SuppressRequest(
        pipeline="profit-unit",
        starts_at=T0 + timedelta(hours=1),
        ends_at=T0 + timedelta(hours=2),
    )
    s = await service.create(later, "PR")
    assert await service.listing() == ([], [s])
    assert await service.record_alert("profit-unit") is None  # not started yet
    assert await service.next_end() == s.ends_at


async def test_cancelling_one_already_past_its_end_ends_it_as_due(
    store_redis: Redis, config: TeamConfig
) -> None:
    clock = FakeClock(T0)
    service = _service(store_redis, config, clock)
    s = await service.create("profit-unit 1h", "PR")
    await _queued(store_redis, clock)
    clock.set(s.ends_at + timedelta(seconds=5))  # before the expiry loop claimed it
    done = await service.cancel(s.id, "PR")
    assert (done.cancelled_by, done.ended_at) == (None, s.ends_at)
    [notice] = await _queued(store_redis, clock)
    assert isinstance(notice, SuppressionEnded)
    assert await service.announce_ended() == []
