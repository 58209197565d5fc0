"""Incidents in Redis: atomic open-or-join, compare-and-set transitions, a leased due index.

Every write that changes an incident also schedules its timer and queues its notices in the
same Lua script, so a crash between "state changed" and "someone must be told" is
impossible, and a version check makes each transition happen exactly once however many
bot processes race for it. The records themselves (packed incidents, log entries, what a
read returns) are bot/store/incident_records.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from bot.domain.incident import Incident
from bot.domain.notices import Notice, PageUpdate, ThreadReply, dump, with_id
from bot.domain.rca import IncidentEvent
from bot.store import incident_scripts, keys, packing
from bot.store.incident_records import (
    Commit,
    Stored,
    event_record,
    incident_from,
    incident_record,
    log_record,
    stored_from,
)
from bot.store.outbox import Outbox

PLACEHOLDER = "@@INCIDENT@@"
# Where a folded join reply's text takes its count (see JoinReply and JOIN_REPLY_FN).
JOIN_COUNT = "@@N@@"
# A join reply's state outlives any window; it only has to outlast the reply it waits on.
JOIN_REPLY_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class JoinReply:
    """What a joining alert says in its incident's thread. `now` is posted at once when the
    thread heard of no join for `every`; otherwise the join is counted into the next reply,
    due when that window ends: `one` when it tells of one join, else `many`, whose
    JOIN_COUNT is replaced with how many."""

    now: str
    one: str
    many: str
    every: timedelta

    def spec(self, now: datetime) -> str:
        template = with_id(ThreadReply(incident=PLACEHOLDER, text=""), now)
        return json.dumps(
            {
                "i": template.id,
                "p": dump(template),
                "l": int(template.lane),
                "g": template.fold_group,
                "now": self.now,
                "one": self.one,
                "many": self.many,
                "every": self.every.total_seconds(),
                "keep": int(JOIN_REPLY_KEEP.total_seconds()),
            }
        )


def _score(at: datetime) -> float:
    return at.timestamp()


class IncidentStore:
    # Short: a replica that dies holding due steps delays them by at most this. Firing
    # twice is impossible anyway (the transition's version check), so a lease that lapses
    # while its holder is merely slow costs nothing but a refused commit.
    LEASE = timedelta(seconds=3)

    def __init__(self, redis: Redis, retention: timedelta, outbox: Outbox) -> None:
        self.redis = redis
        self.retention = retention
        self.outbox = outbox
        self._open = redis.register_script(incident_scripts.OPEN_OR_JOIN)
        self._join = redis.register_script(incident_scripts.JOIN_OPEN)
        self._page = redis.register_script(incident_scripts.PAGE_OPEN)
        self._transition = redis.register_script(incident_scripts.TRANSITION)
        self._claim = redis.register_script(incident_scripts.CLAIM)
        self._claim_read = redis.register_script(incident_scripts.CLAIM_READ)

    async def open_or_join(
        self,
        inc: Incident,
        notices: list[Notice],
        now: datetime,
        value: float | None = None,
        events: Sequence[IncidentEvent] = (),
        join_event: IncidentEvent | None = None,
        join_reply: JoinReply | None = None,
    ) -> tuple[bool, str]:
        """Create `inc` (its id is assigned here) unless an open incident has its dedupe key,
        in which case the alert joins that one (telling its thread, `join_reply`). Returns
        (created, incident id)."""
        data = incident_record(inc)
        notices = [n.model_copy(update={"incident": PLACEHOLDER}) for n in notices]
        window = ""
        if inc.next_at is not None:
            window = str(max(1, int((inc.next_at - now).total_seconds() * 1000)))
        fresh, at, ttl = self.outbox.enqueue_args(notices, now)
        joined, _, _ = self.outbox.enqueue_args([PageUpdate(incident=PLACEHOLDER)], now)
        created, incident_id = await self._open(
            keys=[
                keys.dedupe(inc.dedupe_key),
                keys.INCIDENTS_OPEN,
                keys.ESCALATION_DUE,
                keys.INCIDENT_SEQ,
                keys.INCIDENTS_URGENCY,
            ],
            args=[
                data,
                "" if inc.due is None else repr(_score(inc.due)),
                fresh,
                window,
                keys.incident(""),
                "" if value is None else repr(value),
                at,
                joined,
                keys.OUTBOX_PREFIX,
                ttl,
                keys.ack_window(""),
                log_record(events),
                "" if join_event is None else event_record(join_event),
                repr(inc.urgency),
                "" if join_reply is None else join_reply.spec(now),
            ],
        )
        return bool(int(created)), str(incident_id)

    async def join(
        self,
        dedupe_key: str,
        now: datetime,
        value: float | None,
        event: IncidentEvent,
        reply: JoinReply | None = None,
    ) -> str | None:
        """Join the open incident with `dedupe_key` (count, last value, log, a redraw of its
        page, `reply` in its thread) in one call; its id, or None when none is open."""
        envs, at, ttl = self.outbox.enqueue_args([PageUpdate(incident=PLACEHOLDER)], now)
        joined = await self._join(
            keys=[keys.dedupe(dedupe_key)],
            args=[
                keys.incident(""),
                "" if value is None else repr(value),
                at,
                envs,
                keys.OUTBOX_PREFIX,
                ttl,
                event_record(event),
                "" if reply is None else reply.spec(now),
            ],
        )
        return None if joined is None else str(joined)

    async def get(self, incident_id: str) -> Stored | None:
        return (await self.get_many([incident_id]))[0]

    async def get_many(self, ids: Sequence[str]) -> list[Stored | None]:
        """Each incident as `get` reads it, all in one round trip: a tick reads every step
        it claimed at once (a round trip each was a fifth of a rung's CPU, issue #14)."""
        pipe = self.redis.pipeline(transaction=False)
        for incident_id in ids:
            pipe.hgetall(keys.incident(incident_id))
            pipe.pttl(keys.ack_window(incident_id))
        got = await pipe.execute()
        return [
            stored_from(i, {str(k): str(v) for k, v in fields.items()}, int(pttl))
            for i, fields, pttl in zip(ids, got[::2], got[1::2], strict=True)
        ]

    async def page_open(self, offset: int, count: int) -> tuple[int, list[tuple[Stored, Any]]]:
        """(how many are open, `count` of them from `offset`, most urgent first, each with
        its checklist record as stored or None), in one round trip (issue #14: the whole
        list at 10,000 open incidents took 1.4 s and 1.87 MB)."""
        if await self._urgency_behind():
            await self._backfill_urgency()
        got = await self._page(
            keys=[keys.INCIDENTS_URGENCY],
            args=[
                offset,
                count,
                keys.incident(""),
                keys.ack_window(""),
                keys.checklist(""),
            ],
        )
        total, rest = int(got[0]), got[1:]
        rows: list[tuple[Stored, Any]] = []
        for i in range(0, len(rest), 4):
            flat = [str(v) for v in rest[i + 1]]
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            stored = stored_from(str(rest[i]), fields, int(rest[i + 2]))
            if stored is not None:
                rows.append((stored, rest[i + 3] or None))
        return total, rows

    async def _urgency_behind(self) -> bool:
        # Incidents opened before the urgency index existed are not in it yet.
        pipe = self.redis.pipeline(transaction=False)
        pipe.scard(keys.INCIDENTS_OPEN)
        pipe.zcard(keys.INCIDENTS_URGENCY)
        opened, indexed = await pipe.execute()
        return int(opened) != int(indexed)

    async def _backfill_urgency(self) -> None:
        indexed = {str(i) for i in await self.redis.zrange(keys.INCIDENTS_URGENCY, 0, -1)}
        for incident_id in set(await self.open_ids()) - indexed:
            stored = await self.get(incident_id)
            if stored is not None and stored.incident.open:
                await self.redis.zadd(
                    keys.INCIDENTS_URGENCY, {incident_id: stored.incident.urgency}, nx=True
                )
        # Closed ones a replica of the older code left behind.
        stale = indexed - set(await self.open_ids())
        if stale:
            await self.redis.zrem(keys.INCIDENTS_URGENCY, *stale)

    async def commit(
        self,
        before: Stored,
        after: Incident,
        notices: list[Notice],
        now: datetime,
        events: Sequence[IncidentEvent] = (),
    ) -> bool:
        """Apply a transition computed from `before`; False if someone else changed it first."""
        return (await self.commit_many([Commit(before, after, notices, events)], now))[0]

    async def commit_many(self, commits: Sequence[Commit], now: datetime) -> list[bool]:
        """Each of `commits` as `commit` applies it (atomic, with its own version check), all
        in one round trip: a tick commits every rung it claimed at once. Round trips were
        what delayed rungs on a busy process: each socket write hands the interpreter lock
        to the delivery thread and waits to get it back (issue #14)."""
        if not commits:
            return []
        rows = [self._transition_args(c, now) for c in commits]
        sha = self._transition.sha
        for attempt in (1, 2):
            pipe = self.redis.pipeline(transaction=False)
            for keys_, args in rows:
                pipe.evalsha(sha, len(keys_), *keys_, *args)
            got = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in got) or attempt == 2:
                break
            # Redis restarted or flushed its scripts: nothing ran, load it and send again.
            sha = await self.redis.script_load(incident_scripts.TRANSITION)
        for r in got:
            if isinstance(r, Exception):
                raise r
        return [bool(int(r)) for r in got]

    def _transition_args(self, c: Commit, now: datetime) -> tuple[list[str], list[Any]]:
        after = c.after
        window = ""
        if after.next_at is not None and after.open:
            window = str(max(1, int((after.next_at - now).total_seconds() * 1000)))
        # The due index holds the sooner of the next rung and the next schedule change.
        due = "" if after.due is None or not after.open else repr(_score(after.due))
        envs, at, ttl = self.outbox.enqueue_args(c.notices, now)
        return (
            [
                keys.incident(after.id),
                keys.ESCALATION_DUE,
                keys.INCIDENTS_OPEN,
                keys.ack_window(after.id),
                keys.dedupe(after.dedupe_key),
                keys.incident_events(after.id),
                keys.INCIDENTS_URGENCY,
            ],
            [
                c.before.version,
                incident_record(after),
                due,
                envs,
                window,
                "" if after.open else "closed",
                int(self.retention.total_seconds()),
                after.id,
                at,
                keys.OUTBOX_PREFIX,
                ttl,
                log_record(c.events),
                repr(after.urgency),
            ],
        )

    async def events(self, incident_id: str) -> list[IncidentEvent]:
        """The incident's log, oldest first (empty once it expired): folded into its hash
        since it closed, in its list before that (and after, for an incident closed before
        logs were folded), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.incident(incident_id))
        pipe.lrange(keys.incident_events(incident_id), 0, -1)
        fields, listed = await pipe.execute()
        folded = packing.folded_log({str(k): str(v) for k, v in fields.items()})
        raw = folded + [str(r) for r in listed]
        return [IncidentEvent.model_validate_json(packing.unpack(r)) for r in raw]

    async def set_message(self, incident_id: str, channel: str, ts: str) -> None:
        await self.redis.hset(
            keys.incident(incident_id), mapping={"msg_channel": channel, "msg_ts": ts}
        )

    async def set_checklist(self, incident_id: str, run_id: str) -> str:
        key = keys.incident(incident_id)
        await self.redis.hsetnx(key, "checklist", run_id)
        return str(await self.redis.hget(key, "checklist") or run_id)

    async def claim_due(self, now: datetime, limit: int = 200) -> list[str]:
        members = await self._claim(
            keys=[keys.ESCALATION_DUE],
            args=[repr(_score(now)), repr(_score(now + self.LEASE)), limit],
        )
        return [str(m) for m in members]

    async def claim_read(
        self, now: datetime, limit: int
    ) -> tuple[list[tuple[str, Stored | None]], float | None]:
        """`claim_due` with each claimed incident as `get` reads it, and the due index's
        first score after the claim (what `next_due` would say), in one round trip."""
        first, rows = await self._claim_read(
            keys=[keys.ESCALATION_DUE],
            args=[
                repr(_score(now)),
                repr(_score(now + self.LEASE)),
                limit,
                keys.incident(""),
                keys.ack_window(""),
            ],
        )
        out: list[tuple[str, Stored | None]] = []
        for i in range(0, len(rows), 3):
            incident_id, flat = str(rows[i]), [str(v) for v in rows[i + 1]]
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            out.append((incident_id, stored_from(incident_id, fields, int(rows[i + 2]))))
        return out, None if first is None else float(first)

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(keys.ESCALATION_DUE, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def open_ids(self) -> list[str]:
        ids = [str(i) for i in await self.redis.smembers(keys.INCIDENTS_OPEN)]
        return sorted(ids, key=lambda i: int(i.split("-")[1]))

    async def open_incidents(self) -> list[Incident]:
        """Every open incident, read in one round trip (`get` takes one each): the Home tab
        reads them all while an alert storm may hold hundreds open."""
        ids = await self.open_ids()
        pipe = self.redis.pipeline(transaction=False)
        for incident_id in ids:
            pipe.hgetall(keys.incident(incident_id))
        rows = [incident_from(i, f) for i, f in zip(ids, await pipe.execute(), strict=True)]
        return [inc for inc in rows if inc is not None and inc.open]

    async def record_quiet_alert(self, alert: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(keys.ALERTS_RECORDED, json.dumps(alert))
        pipe.ltrim(keys.ALERTS_RECORDED, 0, 9999)
        await pipe.execute()

    async def reschedule(self, incident_id: str, at: datetime | None) -> None:
        if at is None:
            await self.redis.zrem(keys.ESCALATION_DUE, incident_id)
        else:
            await self.redis.zadd(keys.ESCALATION_DUE, {incident_id: _score(at)})
