"""Suppressions in Redis: a hash per suppression that expires by itself, a live index by end
time, an atomic count of the alerts each one swallows, and an end claimed exactly once.

- Counting is one Lua step (COUNT_IF_SUPPRESSED): finding a covering suppression and adding
  the alert to its count cannot be split by its end being claimed, so no alert is lost
  between "it is suppressed" and "it was counted", and the end announcement's count is final.
- Ending (by time or by `cancel`) is an optimistic WATCH/MULTI on the suppression's hash: it
  leaves the live index, is written to the history and queues its notices in one
  transaction. Every change to a live suppression (a count, a cancel, another replica's
  claim) touches the hash, so of two replicas racing to end it the second one's EXEC fails
  and it sees the suppression gone: the end is announced once, with the final count.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.notices import Notice
from bot.domain.suppressions import Suppression, SuppressionError
from bot.store import keys, scripts
from bot.store.outbox import Outbox

MAX_RETRIES = 20
# A suppression's hash outlives its end by this much, so that a late end claim (every
# replica down for a while) still finds it; after that it expires on its own.
KEEP_AFTER_END = timedelta(days=1)
# Ended suppressions stay in the history this long: two handovers, so the Monday digest
# still has last week's even when a handover slipped.
HISTORY_KEEP = timedelta(days=14)
ALERTS_KEEP = 10_000  # as IncidentStore.record_quiet_alert caps the recorded alerts

# (the suppression as it ends) → the notices announcing its end.
EndNotices = Callable[[Suppression], list[Notice]]


def _epoch(at: datetime) -> str:
    return repr(at.timestamp())


def _dump(s: Suppression) -> dict[Any, Any]:
    # Any: redis-py's stubs want a union-keyed Mapping, which a dict[str, str] is not.
    return {
        "data": s.model_dump_json(exclude={"suppressed"}),
        "pipeline": s.pipeline,
        "starts": _epoch(s.starts_at),
        "ends": _epoch(s.ends_at),
        "count": str(s.suppressed),
    }


def _load(raw: Any) -> Suppression | None:
    """The stored suppression with its live count; None for a missing (expired) hash."""
    fields = {str(k): str(v) for k, v in (raw or {}).items()}
    if "data" not in fields:
        return None
    s = Suppression.model_validate_json(fields["data"])
    return s.model_copy(update={"suppressed": int(fields.get("count", "0"))})


class SuppressionStore:
    def __init__(self, redis: Redis, outbox: Outbox) -> None:
        self.redis = redis
        self.outbox = outbox
        self._count = redis.register_script(scripts.COUNT_IF_SUPPRESSED)

    async def next_id(self) -> str:
        return f"S-{int(await self.redis.incr(keys.SUPPRESSION_SEQ))}"

    async def create(self, s: Suppression, notices: list[Notice], now: datetime) -> Suppression:
        """Store a new suppression and queue the notices announcing it, in one transaction.
        The TTL is relative (judged on the bot's clock, which tests move), not EXPIREAT."""
        key = keys.suppression(s.id)
        ttl = max(1, int((s.ends_at - now + KEEP_AFTER_END).total_seconds()))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=_dump(s))
            pipe.expire(key, ttl)
            pipe.zadd(keys.SUPPRESSIONS_LIVE, {s.id: s.ends_at.timestamp()})
            await self.outbox.enqueue(notices, now, pipe=pipe)
            await pipe.execute()
        return s

    async def get(self, suppression_id: str) -> Suppression | None:
        """A suppression whose hash has not expired yet, live or ended."""
        return _load(await self.redis.hgetall(keys.suppression(suppression_id)))

    async def is_live(self, suppression_id: str) -> bool:
        return await self.redis.zscore(keys.SUPPRESSIONS_LIVE, suppression_id) is not None

    async def live(self) -> list[Suppression]:
        """Every suppression whose end has not been claimed yet (active, upcoming, and ended
        but not yet announced), with live counts, in end order."""
        ids = [str(i) for i in await self.redis.zrange(keys.SUPPRESSIONS_LIVE, 0, -1)]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hgetall(keys.suppression(i))
            rows = await pipe.execute()
        return [s for s in (_load(r) for r in rows) if s is not None]

    async def next_end(self) -> float | None:
        """The earliest live end (epoch s), for a loop that sleeps until the next one."""
        first = await self.redis.zrange(keys.SUPPRESSIONS_LIVE, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def count_if_suppressed(
        self, pipeline: str, now: datetime, alert: Mapping[str, Any] | None = None
    ) -> str | None:
        """Atomically: if a live suppression covers `pipeline` at `now`, add one to the count
        of every one that does (each reports the alerts it swallowed) and, given `alert`,
        record it in keys.ALERTS_RECORDED with `suppressed_by`. Returns the id of the covering
        suppression that ends last, or None when the alert must be handled as usual."""
        found = await self._count(
            keys=[keys.SUPPRESSIONS_LIVE, keys.ALERTS_RECORDED],
            args=[
                _epoch(now),
                pipeline,
                keys.suppression(""),
                "" if alert is None else json.dumps(dict(alert)),
                ALERTS_KEEP,
            ],
        )
        return str(found) if found else None

    async def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of live suppressions whose end has come (end exclusive, as `covers`)."""
        ids = await self.redis.zrangebyscore(
            keys.SUPPRESSIONS_LIVE, "-inf", now.timestamp(), start=0, num=limit
        )
        return [str(i) for i in ids]

    async def end(
        self,
        suppression_id: str,
        now: datetime,
        notices: EndNotices,
        cancelled_by: str | None = None,
    ) -> Suppression | None:
        """End one suppression exactly once, queuing `notices(final)` in the same
        transaction. Without `cancelled_by` only one whose end has come is ended (the
        expiry claim); with it, a live one is cancelled now (one already past its end is
        ended as due). None when it is not live (never was, already ended or cancelled,
        possibly by another replica just now)."""
        key = keys.suppression(suppression_id)
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    s = _load(await pipe.hgetall(key))
                    score = await pipe.zscore(keys.SUPPRESSIONS_LIVE, suppression_id)
                    if score is None:
                        return None
                    if s is None:
                        # Its hash expired before anyone claimed its end (every replica was
                        # down past KEEP_AFTER_END): nothing left to announce, just unindex.
                        await pipe.zrem(keys.SUPPRESSIONS_LIVE, suppression_id)
                        return None
                    over = float(score) <= now.timestamp()
                    if cancelled_by is None and not over:
                        return None
                    # Cancelling one whose end came before anyone claimed it ends it as due:
                    # it was not cut short, so it is not announced as cancelled.
                    if cancelled_by is not None and not over:
                        s = s.model_copy(update={"cancelled_by": cancelled_by, "cancelled_at": now})
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.zrem(keys.SUPPRESSIONS_LIVE, suppression_id)
                    # Writing the hash is what makes a racing claimer's EXEC fail.
                    pipe.hset(
                        key,
                        mapping={
                            "data": s.model_dump_json(exclude={"suppressed"}),
                            "closed": _epoch(now),
                        },
                    )
                    pipe.zadd(
                        keys.SUPPRESSIONS_HISTORY, {s.model_dump_json(): s.ended_at.timestamp()}
                    )
                    pipe.zremrangebyscore(
                        keys.SUPPRESSIONS_HISTORY, "-inf", (now - HISTORY_KEEP).timestamp()
                    )
                    await self.outbox.enqueue(notices(s), now, pipe=pipe)
                    await pipe.execute()
                    return s
                except WatchError:
                    continue
        # Only a flood of alerts counted against it between our read and our EXEC gets
        # here; the expiry loop simply tries again on its next tick.
        raise SuppressionError(f"{suppression_id} is changing too fast; try again.")

    async def history(self, since: datetime) -> list[Suppression]:
        """Suppressions that ended (or were cancelled) at or after `since`, final counts."""
        raw = await self.redis.zrangebyscore(keys.SUPPRESSIONS_HISTORY, since.timestamp(), "+inf")
        return [Suppression.model_validate_json(str(r)) for r in raw]
