"""Redis clients: a real server, or the embedded in-process fake for the console."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Short timeouts so a dead Redis turns into a clear error well inside Slack's 3 s.
SOCKET_TIMEOUT = 1.0


def connect(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=SOCKET_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=15,
        # After a Redis restart the pool still holds dead connections: retry a command once
        # on a fresh one instead of failing the first request after Redis is back.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )


def embedded() -> Redis:
    """In-process fakeredis (with Lua via lupa): state is lost when the process exits."""
    from fakeredis import FakeAsyncRedis, FakeServer

    client: Redis = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    return client
