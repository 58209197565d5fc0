"""Swaps and PTO in Redis: hashes, indexes, an audit stream, and atomic transitions.

Every status change goes through `transition`, an optimistic WATCH/MULTI transaction on the
swap's hash and the approved index: of two approvals racing for overlapping windows, the
second one's EXEC fails, it re-reads, sees the first, and is refused. The overlap rule itself
stays in bot.domain.swaps, so the store and the validator cannot disagree.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.notices import Notice
from bot.domain.pto import Pto, PtoRefused, merge_pto
from bot.domain.swaps import Swap, SwapStatus, TransitionRefused, conflicting
from bot.store import keys
from bot.store.outbox import Outbox

MAX_RETRIES = 20
AUDIT_MAXLEN = 100_000


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _dump(swap: Swap) -> dict[Any, Any]:
    # Any: redis-py's stubs want a union-keyed Mapping, which a dict[str, str] is not.
    return {k: str(v) for k, v in swap.model_dump(mode="json", exclude_none=True).items()}


def _load(data: Any) -> Swap | None:
    return Swap.model_validate({str(k): str(v) for k, v in data.items()}) if data else None


def _strs(values: Any) -> list[str]:
    """Replies as str: clients are built with decode_responses=True (see connection.py)."""
    return [str(v) for v in values]


class SwapStore:
    def __init__(self, redis: Redis, outbox: Outbox) -> None:
        self.redis = redis
        self.outbox = outbox
        # Every approved swap as of a version of SWAPS_VERSION. Every answer about who is on
        # call reads them (`/oncall now`, each page), and they change a few times a week:
        # one GET of the version replaces reading every swap on every request (issue #14).
        self._approved: tuple[str, list[tuple[Swap, float, float]]] | None = None
        # When the version was last checked (monotonic seconds), for answers that accept a
        # copy that old (`max_age`); pages never do.
        self._checked_at = 0.0

    async def next_id(self) -> int:
        return int(await self.redis.incr(keys.SWAP_NEXT_ID))

    async def create(self, swap: Swap, notices: list[Notice]) -> Swap:
        """Store a new request and queue the messages it causes, in one transaction."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.swap(swap.id), mapping=_dump(swap))
            pipe.zadd(keys.SWAPS_PENDING, {str(swap.id): _epoch(swap.first_start)})
            pipe.zadd(keys.SWAPS_ALL, {str(swap.id): _epoch(swap.created_at)})
            self._audit(pipe, "request", swap, swap.requester, swap.created_at)
            await self.outbox.enqueue(notices, swap.created_at, pipe=pipe)
            await pipe.execute()
        return swap

    async def get(self, swap_id: int) -> Swap | None:
        return _load(await self.redis.hgetall(keys.swap(swap_id)))

    async def _many(self, ids: list[str]) -> list[Swap]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hgetall(keys.swap(int(i)))
            rows = await pipe.execute()
        return [s for s in (_load(r) for r in rows) if s is not None]

    async def pending(self) -> list[Swap]:
        return await self._many(_strs(await self.redis.zrange(keys.SWAPS_PENDING, 0, -1)))

    async def pending_started(self, now: datetime) -> list[Swap]:
        ids = await self.redis.zrangebyscore(keys.SWAPS_PENDING, "-inf", _epoch(now))
        return await self._many(_strs(ids))

    async def approved_after(self, start: datetime, max_age: float = 0.0) -> list[Swap]:
        """Approved swaps whose last window ends after `start`; with `max_age`, possibly as
        they were up to that many seconds ago (no Redis call at all then)."""
        after = start.timestamp()
        return [s for s, _, last_end in await self._all_approved(max_age) if last_end > after]

    async def _all_approved(self, max_age: float = 0.0) -> list[tuple[Swap, float, float]]:
        """Every approved swap with its first start and last end as POSIX seconds: compared
        on every `/oncall now`, where comparing zone-aware datetimes cost more than the
        rest of the lookup (issue #14)."""
        cached = self._approved
        # The one Redis GET below is a fifth of the CPU of `/oncall now` (bench/README.md).
        if cached is not None and max_age > 0 and time.monotonic() - self._checked_at < max_age:
            return cached[1]
        self._checked_at = time.monotonic()
        # The version is read before the swaps, so what is cached is never older than the
        # version it is filed under; a change in between only costs one more read later.
        version = str(await self.redis.get(keys.SWAPS_VERSION) or "0")
        if cached is not None and cached[0] == version:
            return cached[1]
        swaps = await self._many(_strs(await self.redis.zrange(keys.SWAPS_APPROVED, 0, -1)))
        swaps.sort(key=lambda s: s.id)
        timed = [(s, s.first_start.timestamp(), s.last_end.timestamp()) for s in swaps]
        self._approved = (version, timed)
        return timed

    async def approved_between(
        self, start: datetime, end: datetime, max_age: float = 0.0
    ) -> list[Swap]:
        approved = await self._all_approved(max_age)
        if not approved:
            return []  # most weeks: and an aware datetime's timestamp() is not free
        after, before = start.timestamp(), end.timestamp()
        return [
            s for s, first_start, last_end in approved if last_end > after and first_start < before
        ]

    async def everything(self) -> list[Swap]:
        return await self._many(_strs(await self.redis.zrange(keys.SWAPS_ALL, 0, -1)))

    async def set_dm(self, swap_id: int, channel: str, ts: str) -> None:
        await self.redis.hset(keys.swap(swap_id), mapping={"dm_channel": channel, "dm_ts": ts})

    async def transition(
        self,
        swap_id: int,
        to: SwapStatus,
        actor: str,
        now: datetime,
        check: Callable[[Swap], None],
        notices: Callable[[Swap, Swap], list[Notice]],
    ) -> Swap:
        """Move a swap to `to` atomically; `check(swap)` raises to refuse (it sees the state
        as it is inside the transaction). Approval also refuses an overlapping approved swap.
        `notices(before, after)` are queued in the same transaction."""
        key = keys.swap(swap_id)
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key, keys.SWAPS_APPROVED)
                    swap = _load(await pipe.hgetall(key))
                    if swap is None:
                        raise TransitionRefused(f"There is no swap #{swap_id}.", None)
                    check(swap)
                    if to is SwapStatus.APPROVED:
                        ids = await pipe.zrangebyscore(
                            keys.SWAPS_APPROVED, f"({_epoch(swap.first_start)}", "+inf"
                        )
                        rows = [await pipe.hgetall(keys.swap(int(i))) for i in _strs(ids)]
                        approved = [s for s in (_load(r) for r in rows) if s is not None]
                        clash = conflicting(swap, approved)
                        if clash is not None:
                            raise TransitionRefused(
                                f"Swap #{swap.id} overlaps swap #{clash.id} "
                                f"({clash.requester}→{clash.counterpart}), which was approved "
                                "first; it stays pending until that one is cancelled.",
                                swap,
                            )
                    done = swap.model_copy(
                        update={"status": to, "decided_at": now, "decided_by": actor}
                    )
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, mapping=_dump(done))
                    pipe.zrem(keys.SWAPS_PENDING, str(swap_id))
                    if to is SwapStatus.APPROVED:
                        pipe.zadd(keys.SWAPS_APPROVED, {str(swap_id): _epoch(swap.last_end)})
                    else:
                        pipe.zrem(keys.SWAPS_APPROVED, str(swap_id))
                    pipe.incr(keys.SWAPS_VERSION)
                    self._audit(pipe, to.value, done, actor, now)
                    await self.outbox.enqueue(notices(swap, done), now, pipe=pipe)
                    await pipe.execute()
                    self._approved = None  # this replica's own answers see it at once
                    return done
                except WatchError:
                    continue
        raise TransitionRefused(f"Swap #{swap_id} is changing too fast; try again.", None)

    def _audit(self, pipe: Any, event: str, swap: Swap, actor: str, at: datetime) -> None:
        pipe.xadd(
            keys.SWAPS_AUDIT,
            {
                "event": event,
                "swap": str(swap.id),
                "actor": actor,
                "at": at.isoformat(),
                "requester": swap.requester,
                "counterpart": swap.counterpart,
                "start": swap.start.isoformat(),
                "end": swap.end.isoformat(),
            },
            maxlen=AUDIT_MAXLEN,
            approximate=True,
        )

    async def audit(self) -> list[dict[str, str]]:
        entries: Any = await self.redis.xrange(keys.SWAPS_AUDIT)
        return [{str(k): str(v) for k, v in fields.items()} for _, fields in entries]

    async def prune(self, now: datetime, keep: timedelta) -> None:
        """Forget swaps and PTO that ended more than `keep` ago (the audit stream stays)."""
        cutoff = _epoch(now - keep)
        old = [s for s in await self.everything() if s.last_end.timestamp() < cutoff]
        if old:
            async with self.redis.pipeline(transaction=True) as pipe:
                for s in old:
                    pipe.delete(keys.swap(s.id))
                    pipe.zrem(keys.SWAPS_ALL, str(s.id))
                    pipe.zrem(keys.SWAPS_APPROVED, str(s.id))
                    pipe.zrem(keys.SWAPS_PENDING, str(s.id))
                pipe.incr(keys.SWAPS_VERSION)
                await pipe.execute()
        await self.redis.zremrangebyscore(keys.PTO, "-inf", cutoff)

    # ------------------------------------------------------------------------ PTO

    async def add_pto(
        self, member: str, start: datetime, end: datetime, now: datetime
    ) -> tuple[Pto, list[Pto]]:
        """Record leave, merged with the member's entries it overlaps or touches (one entry,
        so the schedule flags a conflict once): the entry stored, and those it replaced.
        Optimistic like `transition`: two requests racing to merge with the same entry
        cannot both keep it."""
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(keys.PTO)
                    # All of them, not just those reaching `start`: a widened window may
                    # reach further back (entries stored before merging existed overlap).
                    raw = _strs(await pipe.zrange(keys.PTO, 0, -1))
                    rows = {r: Pto.model_validate(json.loads(r)) for r in raw}
                    lo, hi, absorbed = merge_pto(list(rows.values()), member, start, end)
                    if absorbed:
                        # The oldest id stays, so what people were told (#N) still names it.
                        pto_id = absorbed[0].id
                    else:
                        pto_id = int(await self.redis.incr(keys.PTO_NEXT_ID))
                    pto = Pto(id=pto_id, member=member, start=lo, end=hi, created_at=now)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    gone = [r for r, p in rows.items() if p in absorbed]
                    if gone:
                        pipe.zrem(keys.PTO, *gone)
                    pipe.zadd(keys.PTO, {pto.model_dump_json(): _epoch(hi)})
                    await pipe.execute()
                    return pto, absorbed
                except WatchError:
                    continue
        raise PtoRefused("Your PTO is changing too fast; try again.")

    async def cancel_pto(self, pto_id: int, check: Callable[[Pto | None], Pto]) -> Pto:
        """Remove entry `pto_id` once `check` (which raises to refuse) accepts it as it is
        inside the transaction; a merge racing with it makes this one look again."""
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(keys.PTO)
                    found = None
                    for r in _strs(await pipe.zrange(keys.PTO, 0, -1)):
                        p = Pto.model_validate(json.loads(r))
                        if p.id == pto_id:
                            found = (r, p)
                            break
                    pto = check(found[1] if found else None)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if found is not None:
                        pipe.zrem(keys.PTO, found[0])
                    await pipe.execute()
                    return pto
                except WatchError:
                    continue
        raise PtoRefused(f"PTO #{pto_id} is changing too fast; try again.")

    async def ptos_after(self, start: datetime) -> list[Pto]:
        raw = await self.redis.zrangebyscore(keys.PTO, f"({_epoch(start)}", "+inf")
        return [Pto.model_validate(json.loads(r)) for r in _strs(raw)]

    async def ptos_between(self, start: datetime, end: datetime) -> list[Pto]:
        return [p for p in await self.ptos_after(start) if p.start < end]

    async def all_ptos(self) -> list[Pto]:
        raw = await self.redis.zrange(keys.PTO, 0, -1)
        return [Pto.model_validate(json.loads(r)) for r in _strs(raw)]

    async def claim(self, key: str, ttl: timedelta) -> bool:
        """True for exactly one caller across replicas."""
        return bool(
            await self.redis.set(key, "1", nx=True, px=max(int(ttl.total_seconds() * 1000), 1))
        )

    async def release(self, key: str) -> None:
        """Give a claim back, so that the work it guarded is tried again."""
        await self.redis.delete(key)
