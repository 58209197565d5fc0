"""Checklist runs in Redis: round trips, expiry, and clicks that race each other."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis as sync_redis
from fakeredis import FakeAsyncRedis, FakeRedis, FakeServer
from redis.asyncio import Redis

from bot.config.runbooks import load_runbooks
from bot.domain.checklist import Change, ChecklistRun, Tick, apply_change
from bot.store import keys
from bot.store.checklists import ChecklistStore
from bot.store.outbox import Outbox
from tests.conftest import BACKENDS, REDIS_URL

T0 = datetime(2025, 9, 3, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
GROWTH = load_runbooks(Path(__file__).parents[2] / "runbooks")["growth-agg"]
TTL = timedelta(days=90)


def _run(run_id: str = "cl1") -> ChecklistRun:
    return ChecklistRun(
        id=run_id, runbook=GROWTH, channel="C1", thread_ts="1.0", parent_ts="1.0", opened_at=T0
    )


def _tick(step: int) -> Change:
    return Change(tick=frozenset({step}))


async def test_save_and_get_round_trip(store_redis: Redis) -> None:
    store = ChecklistStore(store_redis, TTL, Outbox(store_redis))
    run = apply_change(_run(), Change(tick=frozenset({3})), "UA", T0)
    await store.save(run)
    assert await store.get("cl1") == run
    assert await store.get("nope") is None


async def test_records_name_their_runbook_by_hash_and_keep_one_copy_per_version(
    store_redis: Redis,
) -> None:
    store = ChecklistStore(store_redis, TTL, Outbox(store_redis))
    await store.save(_run("cl1"))
    await store.save(apply_change(_run("cl2"), _tick(1), "UA", T0))
    record = str(await store_redis.get(keys.checklist("cl1")))
    assert GROWTH.steps[0].text not in record and len(record) < 300
    copies = [k async for k in store_redis.scan_iter(keys.runbook_copy("*"))]
    assert len(copies) == 1  # two runs of one runbook version share its copy
    # The runbook is edited (and the bot restarted): new runs use the new version, while
    # the open run still renders the steps people were ticking.
    edited = GROWTH.model_copy(update={"steps": GROWTH.steps[:2]})
    await store.save(_run("cl3").model_copy(update={"runbook": edited}))
    fresh = ChecklistStore(store_redis, TTL, Outbox(store_redis))  # no in-process copies
    old, new = await fresh.get("cl2"), await fresh.get("cl3")
    assert old is not None and old.runbook == GROWTH and 1 in old.ticks
    assert new is not None and new.runbook == edited
    assert len([k async for k in store_redis.scan_iter(keys.runbook_copy("*"))]) == 2
    ttl = await store_redis.ttl(copies[0])
    assert TTL.total_seconds() - 60 < ttl <= TTL.total_seconds()


async def test_runs_expire_after_the_retention_period(store_redis: Redis) -> None:
    await ChecklistStore(store_redis, TTL, Outbox(store_redis)).save(_run())
    ttl = await store_redis.ttl(keys.checklist("cl1"))
    assert TTL.total_seconds() - 60 < ttl <= TTL.total_seconds()


async def test_ids_are_unique(store_redis: Redis) -> None:
    store = ChecklistStore(store_redis, TTL, Outbox(store_redis))
    ids = await asyncio.gather(*(store.new_id() for _ in range(20)))
    assert len(set(ids)) == 20


async def test_update_of_a_missing_run_is_none(store_redis: Redis) -> None:
    store = ChecklistStore(store_redis, TTL, Outbox(store_redis))
    assert await store.update("cl404", lambda r: r) is None
    assert await store.get("cl404") is None


async def test_concurrent_clicks_on_different_steps_all_count(store_redis: Redis) -> None:
    store = ChecklistStore(store_redis, TTL, Outbox(store_redis))
    await store.save(_run())
    users = [f"U{n}" for n in range(1, 9)]
    await asyncio.gather(
        *(
            store.update("cl1", functools.partial(_apply, n=n, u=u))
            for n, u in enumerate(users, start=1)
        )
    )
    run = await store.get("cl1")
    assert run is not None
    assert {n: t.by for n, t in run.ticks.items()} == {n: f"U{n}" for n in range(1, 9)}
    assert run.revision == 8


@pytest.fixture(params=BACKENDS)
def two_clients(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Redis, sync_redis.Redis]]:
    """An async client for the store and a second, independent client on the same server."""
    if request.param == "real":
        assert REDIS_URL
        other = sync_redis.Redis.from_url(REDIS_URL, decode_responses=True)
        other.flushdb()
        yield Redis.from_url(REDIS_URL, decode_responses=True), other
        other.close()
        return
    server = FakeServer()
    yield (
        FakeAsyncRedis(server=server, decode_responses=True),
        FakeRedis(server=server, decode_responses=True),
    )


@pytest.fixture
async def racing(
    two_clients: tuple[Redis, sync_redis.Redis],
) -> AsyncIterator[tuple[Redis, sync_redis.Redis]]:
    yield two_clients
    await two_clients[0].aclose()


async def test_a_write_between_read_and_commit_is_merged_not_lost(
    racing: tuple[Redis, sync_redis.Redis],
) -> None:
    client, other = racing
    store = ChecklistStore(client, TTL, Outbox(client))
    await store.save(_run())
    calls = 0

    def tick_two(run: ChecklistRun) -> ChecklistRun:
        nonlocal calls
        calls += 1
        if calls == 1:
            # Another bot process records a tick of step 5 after our read, before our write.
            theirs = apply_change(run, Change(tick=frozenset({5})), "UOTHER", T0)
            other.set(keys.checklist("cl1"), theirs.model_dump_json())
        return apply_change(run, Change(tick=frozenset({2})), "UA", T0)

    result = await store.update("cl1", tick_two)
    assert calls == 2, "the conflicting write must force a second merge"
    assert result is not None
    assert result.ticks == {5: Tick(by="UOTHER", at=T0), 2: Tick(by="UA", at=T0)}
    assert await store.get("cl1") == result


def _apply(r: ChecklistRun, n: int, u: str) -> ChecklistRun:
    return apply_change(r, _tick(n), u, T0)
