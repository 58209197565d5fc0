"""The outbox: notices waiting to be delivered to Slack, leased so each goes out once.

A notice is queued by the same Lua script that changed the incident, claimed with a lease
(its score moves to the lease's end), renewed just before each Slack call so a slow batch
never lets another replica take a notice that is being sent, and removed only after Slack
accepted it. A failure moves it to a later retry with backoff; after MAX_ATTEMPTS it is
parked in a dead-letter set and logged, so one poisoned notice cannot block the rest.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.domain.incident import Notice
from bot.store import keys
from bot.store.incidents import _CLAIM, encode_notices

# Extend the lease only if it is still ours: the score is exactly the lease we were given.
_RENEW = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

MAX_ATTEMPTS = 50
BACKOFF_CAP = timedelta(minutes=5)


class Outbox:
    LEASE = timedelta(seconds=60)
    BATCH = 100

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)

    async def claim(self, now: datetime) -> tuple[float, list[tuple[str, dict[str, Any]]]]:
        """(the lease's end, the claimed notices)."""
        until = (now + self.LEASE).timestamp()
        members = await self._claim(
            keys=[keys.OUTBOX], args=[repr(now.timestamp()), repr(until), self.BATCH]
        )
        return until, [(str(m), json.loads(m)) for m in members]

    async def renew(self, member: str, held: float, now: datetime) -> float | None:
        """A fresh lease on `member`, or None if it is no longer ours."""
        until = (now + self.LEASE).timestamp()
        ok = await self._renew(keys=[keys.OUTBOX], args=[member, repr(held), repr(until)])
        return until if int(ok) else None

    async def enqueue(self, notices: list[Notice], now: datetime) -> None:
        members = {m: now.timestamp() for m in json.loads(encode_notices(notices))}
        await self.redis.zadd(keys.OUTBOX, members)

    async def done(self, member: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(keys.OUTBOX, member)
        pipe.hdel(keys.OUTBOX_ATTEMPTS, member)
        await pipe.execute()

    async def retry(self, member: str, at: datetime) -> None:
        await self.redis.zadd(keys.OUTBOX, {member: at.timestamp()})

    async def failed(self, member: str, now: datetime, base: timedelta) -> int | None:
        """Count a failure and schedule the retry with exponential backoff; returns the
        attempt count, or None when the notice was parked in the dead-letter set."""
        attempts = int(await self.redis.hincrby(keys.OUTBOX_ATTEMPTS, member, 1))
        if attempts >= MAX_ATTEMPTS:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(keys.OUTBOX, member)
            pipe.hdel(keys.OUTBOX_ATTEMPTS, member)
            pipe.zadd(keys.OUTBOX_DEAD, {member: now.timestamp()})
            await pipe.execute()
            return None
        delay = min(base * 2 ** min(attempts - 1, 16), BACKOFF_CAP)
        await self.retry(member, now + delay)
        return attempts

    async def pending(self) -> int:
        return int(await self.redis.zcard(keys.OUTBOX))

    async def dead(self) -> list[str]:
        return [str(m) for m in await self.redis.zrange(keys.OUTBOX_DEAD, 0, -1)]

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(keys.OUTBOX, 0, 0, withscores=True)
        return float(first[0][1]) if first else None
