"""Redis clients: a real server, or the embedded in-process fake for the console."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Short timeouts so a dead Redis turns into a clear error well inside Slack's 3 s.
SOCKET_TIMEOUT = 1.0


# A burst of requests waits for a free connection (up to POOL_TIMEOUT) instead of failing
# at once when the pool is exhausted, which redis-py's default pool does.
MAX_CONNECTIONS = 200
POOL_TIMEOUT = 5.0


def connect(
    url: str, max_connections: int = MAX_CONNECTIONS, pool_timeout: float = POOL_TIMEOUT
) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        decode_responses=True,
        socket_connect_timeout=SOCKET_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=15,
        # After a Redis restart the pool still holds dead connections: retry a command once
        # on a fresh one instead of failing the first request after Redis is back.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return Redis(connection_pool=pool)


def embedded() -> Redis:
    """In-process fakeredis (with Lua via lupa): state is lost when the process exits."""
    from fakeredis import FakeAsyncRedis, FakeServer

    client: Redis = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    return client
