"""RCAs in Redis: a hash per RCA named by its incident, an index of the open ones by due
time, and an index of every RCA still kept (for action items).

- Opening is WATCH on the RCA's hash, then one MULTI that writes it, indexes it and queues
  its notices. An incident has one RCA: whoever opens second (a retried resolve, another
  replica) finds the first and changes nothing, so the owner is told once.
- Every later change (assign, post, an action item done, a reminder) is an optimistic
  WATCH/MULTI on the same hash that bumps `version`: of two racing changes the second's EXEC
  fails, it re-reads and re-checks, so a reassignment cannot undo a post, and the checks
  (posted already? whose item?) see the state the write lands on.
- Reminder bookkeeping lives in the hash too (`reminded`, `action:<n>:reminded`), written in
  the transaction that queues the reminder: two replicas ticking at once both read "not
  reminded today", the first commits, the second's EXEC fails and its retry sees the mark.
  The same field is the `last_sent` that reminders_due needs, so catching up after a
  missed day and "once a day" are one piece of state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from bot.domain.business_days import end_of_day
from bot.domain.notices import Notice
from bot.domain.rca import ActionItem, Rca, RcaStatus
from bot.domain.timefmt import stamp
from bot.store import keys, packing
from bot.store.outbox import Outbox

MAX_RETRIES = 20
_ACTION_FIELD = "action:{}:reminded"


class RcaError(ValueError):
    """A refused RCA request; the message says why, for the person who asked."""


@dataclass(frozen=True)
class StoredRca:
    rca: Rca
    version: int
    reminded: date | None  # the day the owner was last reminded (reminders_due's last_sent)
    action_reminded: dict[int, date] = field(default_factory=dict)  # action id → day
    # The hash as read, so a rewrite knows which of the record's chunks it leaves behind.
    fields: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Write:
    """What a change commits: the RCA after it (None: unchanged), its notices, and extra
    hash fields (reminder marks)."""

    rca: Rca | None
    notices: list[Notice]
    fields: dict[str, str] = field(default_factory=dict)


# A change sees the stored RCA inside the WATCH; it returns what to write, None for "nothing
# to do" (no write, no notices), or raises RcaError to refuse.
_Change = Callable[[StoredRca], _Write | None]


def _load(raw: Any) -> StoredRca | None:
    fields = {str(k): str(v) for k, v in (raw or {}).items()}
    text = packing.record(fields)
    if text is None:
        return None
    marks = {}
    for name, value in fields.items():
        parts = name.split(":")
        if len(parts) == 3 and parts[0] == "action" and parts[2] == "reminded":
            marks[int(parts[1])] = date.fromisoformat(value)
    reminded = fields.get("reminded")
    return StoredRca(
        rca=Rca.model_validate_json(text),
        fields=fields,
        version=int(fields.get("version", "0")),
        reminded=date.fromisoformat(reminded) if reminded else None,
        action_reminded=marks,
    )


def _record(rca: Rca) -> dict[str, str]:
    """The hash fields holding `rca` (bot/store/packing.py: packed, in listpack-sized
    chunks; defaults come back on reading)."""
    return packing.chunks(packing.pack(rca.model_dump_json(exclude_defaults=True)))


def _missing(incident_id: str) -> RcaError:
    return RcaError(f"There is no RCA for {incident_id}: `/rca` lists the open ones.")


def _refuse_posted(rca: Rca, zone: tzinfo) -> None:
    if rca.status is RcaStatus.POSTED:
        by = f" by {rca.posted_by}" if rca.posted_by else ""
        # In the team's zone: the stored instant is UTC, whose date is a day behind for a
        # post made before 05:30 IST.
        when = f" on {stamp(rca.posted_at, zone)}" if rca.posted_at else ""
        raise RcaError(f"The RCA for {rca.incident_id} was already posted{by}{when}.")


class RcaStore:
    def __init__(self, redis: Redis, outbox: Outbox, retention: timedelta, zone: tzinfo) -> None:
        self.redis = redis
        self.outbox = outbox
        self.retention = retention
        self.zone = zone

    # --- opening and reading ---------------------------------------------------------------

    async def open(self, rca: Rca, notices: list[Notice], now: datetime) -> tuple[Rca, bool]:
        """Store a new RCA and queue its notices in one transaction, unless its incident
        already has one: then that one is returned untouched and nothing is queued.
        Returns (the stored RCA, whether this call created it)."""
        key = keys.rca(rca.incident_id)
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    first = _load(await pipe.hgetall(key))
                    if first is not None:
                        return first.rca, False
                    pipe.multi()  # type: ignore[no-untyped-call]
                    fresh: dict[Any, Any] = {**_record(rca), "version": "1"}
                    pipe.hset(key, mapping=fresh)
                    pipe.zadd(keys.RCAS_ALL, {rca.incident_id: rca.resolved_at.timestamp()})
                    if rca.status is RcaStatus.OPEN:
                        pipe.zadd(keys.RCAS_OPEN, {rca.incident_id: rca.due_at.timestamp()})
                    await self.outbox.enqueue(notices, now, pipe=pipe)
                    await pipe.execute()
                    return rca, True
                except WatchError:
                    continue
        raise RcaError(f"The RCA for {rca.incident_id} is changing too fast; try again.")

    async def stored(self, incident_id: str) -> StoredRca | None:
        return _load(await self.redis.hgetall(keys.rca(incident_id)))

    async def get(self, incident_id: str) -> Rca | None:
        """An RCA that is open, or posted and not yet past its retention."""
        found = await self.stored(incident_id)
        return None if found is None else found.rca

    async def _many(self, ids: list[str]) -> list[StoredRca]:
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hgetall(keys.rca(i))
            rows = await pipe.execute()
        found = [s for s in (_load(r) for r in rows) if s is not None]
        gone = [i for i, r in zip(ids, rows, strict=True) if _load(r) is None]
        if gone:
            # Their hashes expired (posted, past retention): the indexes follow them here,
            # since Redis cannot expire a zset member by itself.
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(keys.RCAS_ALL, *gone)
                pipe.zrem(keys.RCAS_OPEN, *gone)
                await pipe.execute()
        return found

    async def list_open(self) -> list[Rca]:
        """Open RCAs, the soonest due first."""
        ids = [str(i) for i in await self.redis.zrange(keys.RCAS_OPEN, 0, -1)]
        return [s.rca for s in await self._many(ids)]

    async def open_stored(self) -> list[StoredRca]:
        """Open RCAs with their reminder marks, the soonest due first."""
        ids = [str(i) for i in await self.redis.zrange(keys.RCAS_OPEN, 0, -1)]
        return await self._many(ids)

    async def tracked(self) -> list[StoredRca]:
        """Every RCA still kept, open or posted, in order of resolution."""
        ids = [str(i) for i in await self.redis.zrange(keys.RCAS_ALL, 0, -1)]
        return await self._many(ids)

    # --- changes -----------------------------------------------------------------------------

    async def _update(
        self,
        incident_id: str,
        now: datetime,
        change: _Change,
        extra: Callable[[Pipeline, Rca], Awaitable[None]] | None = None,
    ) -> StoredRca | None:
        """Apply `change` to the stored RCA atomically (see the module docstring). Returns
        the RCA as stored afterwards, or None when the change had nothing to do."""
        key = keys.rca(incident_id)
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    before = _load(await pipe.hgetall(key))
                    if before is None:
                        raise _missing(incident_id)
                    write = change(before)
                    if write is None:
                        return None
                    after = before.rca if write.rca is None else write.rca
                    pipe.multi()  # type: ignore[no-untyped-call]
                    # Any: redis-py's stubs want a union-keyed Mapping, not a dict[str, str].
                    mapping: dict[Any, Any] = dict(write.fields)
                    if write.rca is not None:
                        record = _record(write.rca)
                        mapping.update(record)
                        gone = packing.stale(before.fields, record)
                        if gone:
                            pipe.hdel(key, *gone)
                    if mapping:
                        pipe.hset(key, mapping=mapping)
                    # Always written, so a racing change's EXEC fails even when this one
                    # only queued notices.
                    pipe.hincrby(key, "version", 1)
                    if extra is not None:
                        await extra(pipe, after)
                    await self.outbox.enqueue(write.notices, now, pipe=pipe)
                    await pipe.execute()
                    marks = dict(before.action_reminded)
                    reminded = before.reminded
                    for name, value in write.fields.items():
                        if name == "reminded":
                            reminded = date.fromisoformat(value)
                        elif name.startswith("action:"):
                            marks[int(name.split(":")[1])] = date.fromisoformat(value)
                    return StoredRca(after, before.version + 1, reminded, marks)
                except WatchError:
                    continue
        raise RcaError(f"The RCA for {incident_id} is changing too fast; try again.")

    async def assign(
        self,
        incident_id: str,
        owner: str,
        now: datetime,
        notices: Callable[[Rca, Rca], list[Notice]],
    ) -> Rca:
        """Hand an open RCA to `owner`, queuing `notices(before, after)` with the change.
        Handing it to its owner changes nothing and queues nothing. Raises RcaError when
        there is no such RCA or it was posted already."""

        def change(s: StoredRca) -> _Write | None:
            _refuse_posted(s.rca, self.zone)
            if s.rca.owner == owner:
                return None
            after = s.rca.model_copy(update={"owner": owner})
            return _Write(after, notices(s.rca, after))

        done = await self._update(incident_id, now, change)
        if done is not None:
            return done.rca
        current = await self.get(incident_id)
        if current is None:
            raise _missing(incident_id)
        return current

    async def post(
        self,
        incident_id: str,
        actor: str,
        now: datetime,
        write: Callable[[Rca], Rca],
        notices: Callable[[Rca], list[Notice]],
    ) -> Rca:
        """Close an open RCA: `write(rca)` fills in the template's sections (and may raise
        RcaError), then it is marked posted by `actor` now, leaves the open index, starts
        its retention and `notices(posted)` are queued, in one transaction."""

        def change(s: StoredRca) -> _Write:
            _refuse_posted(s.rca, self.zone)
            posted = write(s.rca).model_copy(
                update={"status": RcaStatus.POSTED, "posted_at": now, "posted_by": actor}
            )
            return _Write(posted, notices(posted))

        async def close(pipe: Pipeline, posted: Rca) -> None:
            pipe.zrem(keys.RCAS_OPEN, incident_id)
            pipe.expire(keys.rca(incident_id), self._keep(posted, now))

        done = await self._update(incident_id, now, change, close)
        assert done is not None  # `change` never answers "nothing to do"
        return done.rca

    def _keep(self, posted: Rca, now: datetime) -> int:
        """Seconds a posted RCA is kept: the policy's retention, counted from the later of
        its posting and its last action item's due day, so an item due in four months is
        still tracked when it falls due."""
        last = max((i.due for i in posted.action_items), default=None)
        start = now if last is None else max(now, end_of_day(last, posted.tz))
        return max(1, int((start - now + self.retention).total_seconds()))

    async def complete_action(
        self,
        incident_id: str,
        action_id: int,
        actor: str,
        now: datetime,
        notices: Callable[[Rca, ActionItem], list[Notice]],
    ) -> tuple[Rca, ActionItem]:
        """Mark action item `action_id` done by `actor`, who must be its owner, and queue
        `notices(rca, item)` with it. Raises RcaError (no such RCA or item, someone else's
        item, done already)."""

        def change(s: StoredRca) -> _Write:
            item = next((i for i in s.rca.action_items if i.id == action_id), None)
            if item is None:
                raise RcaError(f"The RCA for {incident_id} has no action item A{action_id}.")
            if item.done:
                raise RcaError(f"A{action_id} of {incident_id} was done already by {item.done_by}.")
            if item.owner != actor:
                raise RcaError(
                    f"A{action_id} of {incident_id} is {item.owner}'s: only its owner can "
                    "mark it done (hand it over in the RCA if someone else did it)."
                )
            done = item.model_copy(update={"done_at": now, "done_by": actor})
            items = [done if i.id == action_id else i for i in s.rca.action_items]
            after = s.rca.model_copy(update={"action_items": items})
            return _Write(after, notices(after, done))

        stored = await self._update(incident_id, now, change)
        assert stored is not None
        item = next(i for i in stored.rca.action_items if i.id == action_id)
        return stored.rca, item

    # --- reminder bookkeeping ----------------------------------------------------------------

    async def remind(
        self,
        incident_id: str,
        today: date,
        now: datetime,
        notices: Callable[[StoredRca], list[Notice]],
    ) -> bool:
        """The owner's RCA reminder: `notices(stored)` (empty: none owed) are queued and
        `today` recorded as the day reminded, in one transaction, so however many replicas
        ask on a day it goes once. True when this call queued it."""

        def change(s: StoredRca) -> _Write | None:
            owed = notices(s)
            return _Write(None, owed, {"reminded": today.isoformat()}) if owed else None

        try:
            return await self._update(incident_id, now, change) is not None
        except RcaError:
            return False  # posted and expired since it was listed, or too busy: next tick

    async def remind_action(
        self,
        incident_id: str,
        action_id: int,
        today: date,
        now: datetime,
        notices: Callable[[Rca, ActionItem, date | None], list[Notice]],
    ) -> bool:
        """An action item's reminder, as `remind`: `notices(rca, item, last reminded)` are
        queued with the mark `action:<n>:reminded = today`. True when this call queued it."""

        def change(s: StoredRca) -> _Write | None:
            item = next((i for i in s.rca.action_items if i.id == action_id), None)
            if item is None or item.done:
                return None
            owed = notices(s.rca, item, s.action_reminded.get(action_id))
            if not owed:
                return None
            return _Write(None, owed, {_ACTION_FIELD.format(action_id): today.isoformat()})

        try:
            return await self._update(incident_id, now, change) is not None
        except RcaError:
            return False
