"""Status updates in Redis: the latest update per incident, its history, and the promised
next updates as a due index whose entries are claimed exactly once.

- Posting is one WATCH/MULTI on the incident's status hash: the update, the due entry (moved
  to the new promise, or removed for "no further update") and the notices announcing it
  commit together. A form submitted twice (the same view id) posts once.
- Reminding is the same pattern as a suppression's end (bot/store/suppressions.py): WATCH
  the hash, check the due entry has come, then remove it, mark the hash and queue the
  reminder in one MULTI. Of two replicas racing, the second one's EXEC fails (the first
  wrote the hash) and on its retry the entry is gone; an update posted meanwhile also writes
  the hash, so a reminder never goes out for a promise that a newer update replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.notices import Notice
from bot.domain.rca import IncidentEvent
from bot.domain.status_updates import StatusUpdate, StatusUpdateError
from bot.store import incident_scripts, keys
from bot.store.incident_records import event_record
from bot.store.outbox import Outbox

MAX_RETRIES = 20
LOG_KEEP = 200  # updates kept per incident: days of 15-minute updates

# (the latest update, as the claim found it) → the reminder notices (none to just drop it).
ReminderNotices = Callable[[StatusUpdate], list[Notice]]


def _load(raw: Any) -> StatusUpdate | None:
    return None if raw is None else StatusUpdate.model_validate_json(str(raw))


class StatusUpdateStore:
    def __init__(self, redis: Redis, retention: timedelta, outbox: Outbox) -> None:
        self.redis = redis
        # Kept as long as a closed incident is; refreshed by every update.
        self.retention = retention
        self.outbox = outbox
        self._log_event = redis.register_script(incident_scripts.LOG_EVENT)

    async def save(
        self,
        update: StatusUpdate,
        notices: list[Notice],
        now: datetime,
        event: IncidentEvent | None = None,
    ) -> tuple[StatusUpdate, bool]:
        """Store `update` as the incident's latest, index its promise, append `event` to the
        incident's log and queue `notices`, in one transaction. Returns (the update stored,
        True), or (the one already stored, False) when this form was submitted before."""
        key = keys.status_update(update.incident_id)
        log = keys.status_log(update.incident_id)
        after = update.next_due - now if update.next_due else timedelta(0)
        ttl = max(1, int((self.retention + max(after, timedelta(0))).total_seconds()))
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    latest = _load(await pipe.hget(key, "data"))
                    if latest is not None and update.view_id and latest.view_id == update.view_id:
                        return latest, False
                    pipe.multi()  # type: ignore[no-untyped-call]
                    data = update.model_dump_json()
                    pipe.hset(key, "data", data)
                    pipe.hincrby(key, "count", 1)
                    pipe.expire(key, ttl)
                    pipe.rpush(log, data)
                    pipe.ltrim(log, -LOG_KEEP, -1)
                    pipe.expire(log, ttl)
                    if update.next_due is None:
                        pipe.zrem(keys.STATUS_DUE, update.incident_id)
                    else:
                        due = update.next_due.timestamp()
                        pipe.zadd(keys.STATUS_DUE, {update.incident_id: due})
                    if event is not None:
                        # Through the script: once the incident closed, its log may live in
                        # its hash, and a plain RPUSH would start a list nothing expires.
                        await self._log_event(
                            keys=[
                                keys.incident(update.incident_id),
                                keys.incident_events(update.incident_id),
                            ],
                            args=[event_record(event)],
                            client=pipe,
                        )
                    await self.outbox.enqueue(notices, now, pipe=pipe)
                    await pipe.execute()
                    return update, True
                except WatchError:
                    continue
        raise StatusUpdateError("Another update is being posted right now; submit again.")

    async def latest(self, incident_id: str) -> StatusUpdate | None:
        return _load(await self.redis.hget(keys.status_update(incident_id), "data"))

    async def history(self, incident_id: str) -> list[StatusUpdate]:
        rows = await self.redis.lrange(keys.status_log(incident_id), 0, -1)
        return [StatusUpdate.model_validate_json(str(r)) for r in rows]

    async def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Incidents whose promised next update is due (at or before `now`)."""
        ids = await self.redis.zrangebyscore(
            keys.STATUS_DUE, "-inf", now.timestamp(), start=0, num=limit
        )
        return [str(i) for i in ids]

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(keys.STATUS_DUE, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def claim_reminder(
        self, incident_id: str, now: datetime, notices: ReminderNotices
    ) -> tuple[StatusUpdate | None, list[Notice]]:
        """Claim the incident's due promise exactly once across replicas and queue
        `notices(latest)` with the claim. Returns (the update whose promise fell due, the
        notices queued), or (None, []) when there is nothing to claim: not due yet, already
        claimed, or replaced by a newer update."""
        key = keys.status_update(incident_id)
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    score = await pipe.zscore(keys.STATUS_DUE, incident_id)
                    if score is None or float(score) > now.timestamp():
                        return None, []
                    latest = _load(await pipe.hget(key, "data"))
                    out = notices(latest) if latest is not None else []
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.zrem(keys.STATUS_DUE, incident_id)
                    if latest is not None:
                        # Writing the hash is the claim: a racing claimer's EXEC fails.
                        pipe.hset(key, "reminded", repr(float(score)))
                    await self.outbox.enqueue(out, now, pipe=pipe)
                    await pipe.execute()
                    return latest, out
                except WatchError:
                    continue
        # Only updates posted faster than we can claim get here; the next tick tries again.
        return None, []
