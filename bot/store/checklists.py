"""Checklist runs in Redis: one JSON record per run, changed only by optimistic transactions.

A record holds the run's own state (where it is posted, the ticks) and names its runbook by
slug and content hash; the runbook itself is kept once per hash (`keys.runbook_copy`), with
the same TTL as the runs that use it. A run opened before a runbook was edited keeps
rendering the steps people were ticking, and a storm of incidents does not store the same
runbook thousands of times (issue #14: ~2.6 KB per incident before).

A click is read-merge-write: read the run, merge the click with the pure
`bot.domain.checklist.apply_change`, write it back. WATCH/MULTI makes that atomic: if another
click lands between our read and our write, the write is refused and we merge again on top
of the newer state, so concurrent clicks never overwrite each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.checklist import ChecklistRun
from bot.domain.notices import Notice
from bot.domain.runbook import Runbook
from bot.store import keys, packing, scripts
from bot.store.outbox import Outbox

# Each retry means another click committed meanwhile; a handful covers any human team.
MAX_ATTEMPTS = 20


class ChecklistBusy(RuntimeError):
    """Too many concurrent writers for one run; the click was not applied."""


class ChecklistStore:
    def __init__(self, redis: Redis, ttl: timedelta, outbox: Outbox) -> None:
        self.redis = redis
        self._claim_auto = redis.register_script(scripts.CLAIM_AUTO_CHECKLIST)
        self.outbox = outbox
        # Refreshed on every write, so a run lives for `ttl` after its last tick.
        self.ttl = ttl
        # Runbook copies by content hash: immutable, so a process may keep them.
        self._runbooks: dict[str, Runbook] = {}

    def _encode(self, run: ChecklistRun, pipe: Any) -> str:
        """The run's record; queues on `pipe` the write of its runbook's copy (refreshing
        its TTL, so the copy outlives every run that names it)."""
        body = run.runbook.model_dump_json()
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        self._runbooks.setdefault(digest, run.runbook)
        pipe.set(keys.runbook_copy(digest), body, ex=self.ttl)
        data = run.model_dump(mode="json", exclude={"runbook"}, exclude_defaults=True)
        data["rb"] = digest
        return packing.pack(json.dumps(data, separators=(",", ":")))

    async def decode(self, raw: str | bytes) -> ChecklistRun | None:
        """A run from its record as stored (read elsewhere, e.g. with its incident)."""
        return await self._decode(raw, self.redis)

    async def _decode(self, raw: str | bytes, redis: Any) -> ChecklistRun | None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        data = json.loads(packing.unpack(text))
        digest = data.pop("rb", None)
        if digest is None:  # a record written before runbooks were kept by hash
            return ChecklistRun.model_validate(data)
        runbook = self._runbooks.get(digest)
        if runbook is None:
            body = await redis.get(keys.runbook_copy(digest))
            if body is None:
                return None  # cannot happen while the run lives: both share one TTL
            runbook = self._runbooks.setdefault(digest, Runbook.model_validate_json(body))
        return ChecklistRun.model_validate({**data, "runbook": runbook})

    async def new_id(self) -> str:
        number = await self.redis.incr(keys.CHECKLIST_SEQ)
        return f"cl{number}"

    async def save(self, run: ChecklistRun, notices: list[Notice] | None = None) -> None:
        """Store a run, and queue the notices it causes in the same transaction."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.checklist(run.id), self._encode(run, pipe), ex=self.ttl)
            await self.outbox.enqueue(notices or [], run.opened_at, pipe=pipe)
            await pipe.execute()

    async def claim_auto(
        self, pipeline: str, incident_id: str, now: datetime, every: timedelta
    ) -> str:
        """Let `incident_id` open the pipeline's checklist by itself unless another incident
        did within `every`; returns the incident that holds the claim (a retry of the same
        incident finds its own claim)."""
        held = await self._claim_auto(
            keys=[keys.checklist_auto(pipeline)],
            args=[
                incident_id,
                repr(now.timestamp()),
                repr((now + every).timestamp()),
                max(1, int(every.total_seconds())) + 3600,  # slack for a fast fake clock
            ],
        )
        return str(held)

    async def auto_holder(self, pipeline: str, now: datetime) -> str | None:
        raw = await self.redis.get(keys.checklist_auto(pipeline))
        if raw is None:
            return None
        incident, _, until = str(raw).rpartition("|")
        return incident if float(until) > now.timestamp() else None

    async def get(self, run_id: str) -> ChecklistRun | None:
        raw = await self.redis.get(keys.checklist(run_id))
        return None if raw is None else await self._decode(raw, self.redis)

    async def update(
        self,
        run_id: str,
        change: Callable[[ChecklistRun], ChecklistRun],
        notices: Callable[[ChecklistRun], list[Notice]] | None = None,
        now: datetime | None = None,
    ) -> ChecklistRun | None:
        """Apply ``change`` (pure) atomically, queuing ``notices(new run)`` in the same
        transaction; None when the run does not exist."""
        key = keys.checklist(run_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        # Leaving the `async with` resets the pipeline, which also unwatches.
                        return None
                    before = await self._decode(raw, pipe)
                    if before is None:
                        return None
                    run = change(before)
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                    pipe.set(key, self._encode(run, pipe), ex=self.ttl)
                    if notices is not None and now is not None:
                        await self.outbox.enqueue(notices(run), now, pipe=pipe)
                    await pipe.execute()
                    return run
                except WatchError:
                    continue
        raise ChecklistBusy(f"checklist {run_id} changed {MAX_ATTEMPTS} times while saving")
