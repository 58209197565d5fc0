"""The outbox: notices waiting to be delivered to Slack, leased so each goes out once.

A notice is queued by the same Lua script that changed the incident, claimed with a lease
(its score moves to now + lease), and removed only after Slack accepted it. A failure moves
it to a later retry; nothing is ever dropped.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.store import keys
from bot.store.incidents import _CLAIM


class Outbox:
    LEASE = timedelta(seconds=30)

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)

    async def claim(self, now: datetime, limit: int = 100) -> list[tuple[str, dict[str, Any]]]:
        members = await self._claim(
            keys=[keys.OUTBOX],
            args=[repr(now.timestamp()), repr((now + self.LEASE).timestamp()), limit],
        )
        return [(str(m), json.loads(m)) for m in members]

    async def done(self, member: str) -> None:
        await self.redis.zrem(keys.OUTBOX, member)

    async def retry(self, member: str, at: datetime) -> None:
        await self.redis.zadd(keys.OUTBOX, {member: at.timestamp()})

    async def pending(self) -> int:
        return int(await self.redis.zcard(keys.OUTBOX))

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(keys.OUTBOX, 0, 0, withscores=True)
        return float(first[0][1]) if first else None
