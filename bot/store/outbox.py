"""The outbox: notices waiting to be delivered to Slack, leased so each goes out once.

Layout (arq's): three lane queues hold ids scored by when each is due; each payload lives
under its own key with a TTL; attempts, generations and in-flight markers are keyed by id.
A notice is queued by the same atomic step that changed the state it reports (see
outbox_scripts.ENQUEUE_FN), claimed with a short lease (its score moves to the lease's end)
that the holder renews while it works, and removed only after Slack accepted it. A failure
moves it to a later retry with backoff; after MAX_ATTEMPTS it is parked as a dead letter,
which expires after DEAD_TTL and can be re-queued by an operator (`oncall-bot outbox`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bot.domain.notices import Lane, Notice, dump, load, with_id
from bot.store import keys, outbox_scripts

MAX_ATTEMPTS = 50
BACKOFF_CAP = timedelta(minutes=5)
# Long enough for any retry schedule and an operator's weekend; a dead letter keeps its
# payload this long, then only its count remains.
PAYLOAD_TTL = timedelta(days=7)
DEAD_TTL = timedelta(days=7)
LANES = [keys.outbox_queue(lane) for lane in Lane]


@dataclass(frozen=True)
class Claimed:
    lane: int
    id: str
    notice: Notice | None  # None when the payload no longer parses (a removed kind)
    raw: str
    generation: str  # "" unless coalesced
    held: float  # the lease's end, as scored; renewals replace it


def envelopes(notices: Iterable[Notice], now: datetime) -> str:
    out = []
    for n in notices:
        n = with_id(n, now)
        group = n.fold_group or ""
        out.append(
            {"i": n.id, "l": int(n.lane), "p": dump(n), "c": int(bool(n.coalesce_id)), "g": group}
        )
    return json.dumps(out)


def _s(at: datetime) -> str:
    return repr(at.timestamp())


class Outbox:
    LEASE = timedelta(seconds=10)

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # Names this replica in owner keys (see outbox_scripts.CLAIM_NOTICES).
        self.token = uuid.uuid4().hex
        # Due notices the last claim left for another replica that owns their group.
        self.passed_over = 0
        self._enqueue = redis.register_script(outbox_scripts.ENQUEUE)
        self._enqueue_once = redis.register_script(outbox_scripts.ENQUEUE_ONCE)
        self._enqueue_if_changed = redis.register_script(outbox_scripts.ENQUEUE_IF_CHANGED)
        self._claim = redis.register_script(outbox_scripts.CLAIM_NOTICES)
        self._claim_fold = redis.register_script(outbox_scripts.CLAIM_FOLD)
        self._gather_fold = redis.register_script(outbox_scripts.GATHER_FOLD)
        self._owner = redis.register_script(outbox_scripts.OWNER)
        self._move = redis.register_script(outbox_scripts.MOVE_IF_HELD)
        self._done = redis.register_script(outbox_scripts.DONE)
        self._failed = redis.register_script(outbox_scripts.FAILED)

    # --- queuing ---------------------------------------------------------------------------

    def enqueue_args(self, notices: Sequence[Notice], now: datetime) -> list[str]:
        """ARGV tail for scripts that embed ENQUEUE_FN: envelopes, now, payload TTL."""
        return [envelopes(notices, now), _s(now), str(int(PAYLOAD_TTL.total_seconds()))]

    async def enqueue(
        self, notices: Sequence[Notice], now: datetime, pipe: Pipeline | None = None
    ) -> None:
        """Queue notices now, or as part of `pipe`'s transaction when given."""
        if not notices:
            return
        await self._enqueue(
            keys=[],
            args=[keys.OUTBOX_PREFIX, *self.enqueue_args(notices, now)],
            client=pipe,
        )

    async def enqueue_once(
        self, claim_key: str, ttl: timedelta, notices: Sequence[Notice], now: datetime
    ) -> bool:
        """Queue notices unless `claim_key` was claimed before (by any replica)."""
        done = await self._enqueue_once(
            keys=[claim_key],
            args=[
                max(1, int(ttl.total_seconds())),
                keys.OUTBOX_PREFIX,
                *self.enqueue_args(notices, now),
            ],
        )
        return bool(int(done))

    async def enqueue_if_changed(
        self, state_key: str, state: str, notices: Sequence[Notice], now: datetime
    ) -> bool:
        """Queue notices unless `state_key` already holds `state`; then it does."""
        done = await self._enqueue_if_changed(
            keys=[state_key], args=[state, keys.OUTBOX_PREFIX, *self.enqueue_args(notices, now)]
        )
        return bool(int(done))

    # --- claiming and leases ---------------------------------------------------------------

    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        """Claim up to `limit` due notices. A person's page DMs are claimed only by the
        replica owning that person's DMs at the moment; `release` gives ownership up."""
        until = now + self.LEASE
        ms = int(self.LEASE.total_seconds() * 1000)
        rows, skipped = await self._claim(
            keys=LANES, args=[_s(now), _s(until), limit, keys.OUTBOX_PREFIX, self.token, ms]
        )
        self.passed_over = int(skipped)
        return [self._claimed(int(r[0]), str(r[1]), str(r[2]), str(r[3]), until) for r in rows]

    async def release(self, group: str) -> None:
        """Give up the ownership of a fold group taken by `claim`."""
        await self._owner(keys=[keys.outbox_owner(group)], args=[self.token, ""])

    async def keep(self, groups: Iterable[str]) -> None:
        """Extend the ownership of fold groups still being worked on (with the leases)."""
        ms = str(int(self.LEASE.total_seconds() * 1000))
        pipe = self.redis.pipeline(transaction=False)
        for g in groups:
            await self._owner(keys=[keys.outbox_owner(g)], args=[self.token, ms], client=pipe)
        await pipe.execute()

    async def claim_fold(
        self, group: str, now: datetime, limit: int, holding: str, horizon: timedelta
    ) -> list[Claimed]:
        """Claim the group's other notices due within `horizon` from now."""
        until = now + self.LEASE
        rows = await self._claim_fold(
            keys=[keys.outbox_fold(group), keys.outbox_queue(Lane.PAGE)],
            args=[_s(now + horizon), _s(until), limit, keys.OUTBOX_PREFIX, holding],
        )
        return [self._claimed(int(Lane.PAGE), str(r[0]), str(r[1]), "", until) for r in rows]

    async def gather_fold(
        self,
        group: str,
        at: datetime,
        every: timedelta = timedelta(seconds=1),
        per: int = 20,
        first: int | None = None,
    ) -> list[str]:
        """Move the group's queued notices due before `at` to the pace's turns: the oldest
        `first` (default `per`) to `at`, the next `per` to `at + every`, and so on (see
        GATHER_FOLD); returns the ids moved, oldest first. Only unclaimed ones move: a
        claimed notice's score is its lease's end, later."""
        moved = await self._gather_fold(
            keys=[keys.outbox_fold(group), keys.outbox_queue(Lane.PAGE)],
            args=[_s(at), repr(every.total_seconds()), per, per if first is None else first],
        )
        return [str(i) for i in moved]

    @staticmethod
    def _claimed(lane: int, nid: str, raw: str, gen: str, until: datetime) -> Claimed:
        try:
            notice: Notice | None = load(raw)
        except ValueError:
            notice = None
        return Claimed(lane, nid, notice, raw, gen, until.timestamp())

    async def move(self, held: Sequence[Claimed], to: datetime) -> set[str]:
        """Re-score notices we still hold; returns the ids that were still ours."""
        if not held:
            return set()
        args: list[Any] = []
        for c in held:
            args += [c.lane, c.id, repr(c.held)]
        moved = await self._move(keys=LANES, args=[*args, _s(to)])
        return {str(m) for m in moved}

    async def renew(self, held: Sequence[Claimed], now: datetime) -> set[str]:
        return await self.move(held, now + self.LEASE)

    # --- outcomes --------------------------------------------------------------------------

    async def done(self, c: Claimed, now: datetime) -> bool:
        """Forget a delivered notice; False when a coalesced one must be drawn again."""
        group = c.notice.fold_group if c.notice is not None else None
        ok = await self._done(
            keys=[keys.outbox_queue(c.lane)],
            args=[c.id, c.generation, _s(now), keys.OUTBOX_PREFIX, group or ""],
        )
        return bool(int(ok))

    async def failed(self, c: Claimed, now: datetime, base: timedelta) -> int | None:
        """Count a failure and schedule the retry with exponential backoff; the attempt
        count, or None when the notice was parked as a dead letter."""
        attempts = int(await self.redis.hget(keys.OUTBOX_ATTEMPTS, c.id) or 0) + 1
        delay = min(base * 2 ** min(attempts - 1, 16), BACKOFF_CAP)
        group = c.notice.fold_group if c.notice is not None else None
        n = int(
            await self._failed(
                keys=[keys.outbox_queue(c.lane), keys.OUTBOX_DEAD],
                args=[
                    c.id,
                    MAX_ATTEMPTS,
                    _s(now + delay),
                    _s(now),
                    keys.OUTBOX_PREFIX,
                    int(DEAD_TTL.total_seconds()),
                    group or "",
                ],
            )
        )
        return None if n < 0 else n

    # --- sent-once bookkeeping --------------------------------------------------------------

    async def mark_inflight(self, ids: Sequence[str], now: datetime) -> list[str]:
        """Record that a send starts; returns the ids marked now (others keep the mark of
        an earlier attempt, whose time the search starts from). Cleared when the notice is
        done; if the send never answers (timeout, crash), the retry finds the mark and
        looks for the message in Slack first."""
        pipe = self.redis.pipeline(transaction=False)
        for nid in ids:
            pipe.hsetnx(keys.OUTBOX_INFLIGHT, nid, repr(now.timestamp()))
        set_now = await pipe.execute()
        return [nid for nid, fresh in zip(ids, set_now, strict=True) if fresh]

    async def inflight_of(self, ids: Sequence[str]) -> dict[str, float]:
        """The in-flight marks of `ids` that exist: id → when the first attempt started."""
        if not ids:
            return {}
        raw = await self.redis.hmget(keys.OUTBOX_INFLIGHT, list(ids))
        return {nid: float(v) for nid, v in zip(ids, raw, strict=True) if v is not None}

    async def clear_inflight(self, ids: Sequence[str]) -> None:
        if ids:
            await self.redis.hdel(keys.OUTBOX_INFLIGHT, *ids)

    # --- inspection and operator tools ---------------------------------------------------

    async def pending(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for q in LANES:
            pipe.zcard(q)
        return sum(int(n) for n in await pipe.execute())

    async def next_due(self) -> float | None:
        pipe = self.redis.pipeline(transaction=False)
        for q in LANES:
            pipe.zrange(q, 0, 0, withscores=True)
        firsts = [float(r[0][1]) for r in await pipe.execute() if r]
        return min(firsts) if firsts else None

    async def dead(self) -> list[tuple[str, float, str | None]]:
        """(id, parked at, payload or None once expired), oldest first."""
        rows: list[Any] = await self.redis.zrange(keys.OUTBOX_DEAD, 0, -1, withscores=True)
        out: list[tuple[str, float, str | None]] = []
        for nid, at in rows:
            raw = await self.redis.get(keys.outbox_notice(str(nid)))
            out.append((str(nid), float(at), None if raw is None else str(raw)))
        return out

    async def dead_count(self) -> int:
        return int(await self.redis.zcard(keys.OUTBOX_DEAD))

    async def dead_total(self) -> int:
        return int(await self.redis.get(keys.OUTBOX_DEAD_TOTAL) or 0)

    async def requeue_dead(self, ids: Iterable[str] | None, now: datetime) -> list[str]:
        """Put dead letters back in their lane, due now; expired ones are forgotten.
        Returns the ids re-queued."""
        wanted = [i for i, _, _ in await self.dead()] if ids is None else list(ids)
        back = []
        for nid in wanted:
            raw = await self.redis.get(keys.outbox_notice(nid))
            if raw is None or await self.redis.zscore(keys.OUTBOX_DEAD, nid) is None:
                await self.redis.zrem(keys.OUTBOX_DEAD, nid)
                continue
            notice = load(str(raw))
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(keys.OUTBOX_DEAD, nid)
            pipe.hdel(keys.OUTBOX_ATTEMPTS, nid)
            pipe.expire(keys.outbox_notice(nid), PAYLOAD_TTL)
            pipe.zadd(keys.outbox_queue(notice.lane), {nid: now.timestamp()})
            if notice.fold_group:
                pipe.sadd(keys.outbox_fold(notice.fold_group), nid)
            await pipe.execute()
            back.append(nid)
        return back

    async def prune_dead(self, now: datetime) -> int:
        """Forget dead letters older than DEAD_TTL (their payload expired with them)."""
        return int(
            await self.redis.zremrangebyscore(
                keys.OUTBOX_DEAD, "-inf", (now - DEAD_TTL).timestamp()
            )
        )
