"""Shared fixtures.

`redis` is a real Redis when REDIS_URL is set (as CI sets it), else an in-process fakeredis;
`store_redis` runs a test against both where a real server is available. Each test gets a
flushed database, so REDIS_URL must point at a database you can spare (CI uses db 15).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig, load_config
from bot.devtools.harness import Harness

ROOT = Path(__file__).resolve().parents[1]
IST = ZoneInfo("Asia/Kolkata")
REDIS_URL = os.environ.get("REDIS_URL")
BACKENDS = ["fake", "real"] if REDIS_URL else ["fake"]


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


@pytest.fixture(scope="session")
def config() -> TeamConfig:
    return load_config(ROOT / "schedules")


async def _make_redis(kind: str) -> Redis:
    if kind == "real":
        assert REDIS_URL
        client: Redis = Redis.from_url(REDIS_URL, decode_responses=True)
        await client.flushdb()
        return client
    fake: Redis = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    return fake


@pytest.fixture(params=BACKENDS)
async def store_redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """Runs the test on fakeredis and, when REDIS_URL is set, on the real server too."""
    client = await _make_redis(request.param)
    yield client
    await client.aclose()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """The real server when REDIS_URL is set, else fakeredis."""
    client = await _make_redis("real" if REDIS_URL else "fake")
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(ist("2025-09-03 12:00"))


@pytest.fixture
async def harness(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[Harness]:
    """The real app over HTTP with a fake Slack Web API; see bot/devtools/harness.py."""
    h = await Harness(
        redis, clock, config, settings_overrides={"runbooks_dir": ROOT / "runbooks"}
    ).start()
    yield h
    await h.stop()


@pytest.fixture(params=BACKENDS)
async def shared_redis(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two clients of one server, as two bot replicas have: fakeredis, and real Redis too."""
    if request.param == "real":
        assert REDIS_URL
        a: Redis = Redis.from_url(REDIS_URL, decode_responses=True)
        b: Redis = Redis.from_url(REDIS_URL, decode_responses=True)
        await a.flushdb()
    else:
        server = FakeServer()
        a = FakeAsyncRedis(server=server, decode_responses=True)
        b = FakeAsyncRedis(server=server, decode_responses=True)
    yield a, b
    await a.aclose()
    await b.aclose()
