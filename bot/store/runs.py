"""Run reports in Redis, and the claims that let the deadline watch act once across replicas.

Each pipeline's runs are kept 30 days: one string per run (its latest report, with a TTL) and
an index by when the run ended (or started, while it runs), so a day's runs are one range
read. A run is reported more than once (running, then success or failed), and reports may
arrive out of order or twice (a producer's retry): `supersedes` decides which one is kept,
so a late "running" never hides the success that came before it.

The watch itself keeps no state (bot.domain.deadline_watch recomputes every verdict); what
it must remember is what it already *did*: a channel notice (claimed together with queuing
it, Outbox.enqueue_once) and an alert (claimed before it is raised, then holding the
incident it opened, so the late delivery can close exactly that one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.domain.notices import Notice
from bot.domain.runs import RunReport, RunStatus
from bot.store import keys
from bot.store.outbox import Outbox

KEEP = timedelta(days=30)
# A claim's key names its day (or gap), so it only has to outlive that day in every zone.
CLAIM_KEEP = timedelta(days=3)
# An alert's claim until the alert is raised: a replica that dies in between holds it no
# longer than this, and whoever raises it next joins the incident if it was opened.
CLAIM_LEASE = timedelta(seconds=60)
# Runs one read returns at most: a month of a run every 10 min around the clock.
MAX_READ = 5000
MAX_RETRIES = 20

PENDING = "?"  # an alert claimed and being raised (for CLAIM_LEASE at most)
NOTHING = "-"  # nothing to close: the alert opened no incident, or it was closed


def when(run: RunReport) -> datetime:
    """The instant a run is filed under: its end, or its start while it runs."""
    return run.ended_at or run.started_at


def supersedes(new: RunReport, old: RunReport) -> bool:
    """Whether `new` replaces `old`, the stored report of the same run.

    A finished report (success or failed) is never replaced by a running one: the running
    report was sent first and arrived late. Of two finished reports the later end wins (a
    task retried under the same run id), and an equal end the newer report (a correction).
    """
    if old.status is RunStatus.RUNNING:
        return True
    if new.status is RunStatus.RUNNING:
        return False
    assert new.ended_at is not None and old.ended_at is not None  # RunReport guarantees it
    return new.ended_at >= old.ended_at


@dataclass(frozen=True)
class Put:
    stored: bool  # False: the stored report was kept (see `supersedes`)
    previous: RunReport | None  # the report stored before this call, if any


class RunStore:
    def __init__(self, redis: Redis, outbox: Outbox) -> None:
        self.redis = redis
        self.outbox = outbox

    async def put(self, run: RunReport, now: datetime) -> Put:
        """Store a report unless the one stored for its run supersedes it. Optimistic on
        the run's key: two replicas taking two reports of one run keep the right one."""
        key, index = keys.run(run.pipeline, run.run_id), keys.runs(run.pipeline)
        ttl = int(KEEP.total_seconds())
        for _ in range(MAX_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    old = RunReport.model_validate_json(raw) if raw else None
                    if old is not None and not supersedes(run, old):
                        return Put(stored=False, previous=old)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, run.model_dump_json(), ex=ttl)
                    pipe.zadd(index, {run.run_id: when(run).timestamp()})
                    pipe.zremrangebyscore(index, "-inf", (now - KEEP).timestamp())
                    pipe.expire(index, ttl)
                    await pipe.execute()
                    return Put(stored=True, previous=old)
                except WatchError:
                    continue
        raise RuntimeError(f"run {run.run_id} of {run.pipeline} is changing too fast")

    async def get(self, pipeline: str, run_id: str) -> RunReport | None:
        raw = await self.redis.get(keys.run(pipeline, run_id))
        return RunReport.model_validate_json(raw) if raw else None

    async def between(self, pipeline: str, since: datetime, until: datetime) -> list[RunReport]:
        """The pipeline's runs filed in [since, until], in that order (at most MAX_READ)."""
        ids = await self.redis.zrangebyscore(
            keys.runs(pipeline), since.timestamp(), until.timestamp(), start=0, num=MAX_READ
        )
        if not ids:
            return []
        raws = await self.redis.mget([keys.run(pipeline, str(i)) for i in ids])
        # A report whose key expired before the index was pruned is simply gone.
        return [RunReport.model_validate_json(r) for r in raws if r]

    async def reported_since(self, pipeline: str, since: datetime) -> bool:
        """Whether any run of the pipeline is filed at or after `since`."""
        return bool(await self.redis.zcount(keys.runs(pipeline), since.timestamp(), "+inf"))

    # --- what the watch already did ---------------------------------------------------------

    async def notice_once(
        self, pipeline: str, key: str, notices: list[Notice], now: datetime
    ) -> bool:
        """Queue the late notice unless some replica already did; True if this call did."""
        claim = keys.run_claim(pipeline, "notice", key)
        return await self.outbox.enqueue_once(claim, CLAIM_KEEP, notices, now)

    async def claim_alert(self, pipeline: str, key: str) -> bool:
        """Claim raising the alert `key`; True if this call won the claim."""
        claim = keys.run_claim(pipeline, "alert", key)
        return bool(await self.redis.set(claim, PENDING, nx=True, ex=CLAIM_LEASE))

    async def release_alert(self, pipeline: str, key: str) -> None:
        """Raising it failed: let the next tick try again."""
        await self.redis.delete(keys.run_claim(pipeline, "alert", key))

    async def alert_raised(self, pipeline: str, key: str, incident_id: str | None) -> None:
        """Record the incident the alert opened or joined (none: suppressed, say)."""
        claim = keys.run_claim(pipeline, "alert", key)
        await self.redis.set(claim, incident_id or NOTHING, ex=CLAIM_KEEP)

    async def alerted(self, pipeline: str, key: str) -> str | None:
        """The claim's value: None (never raised), PENDING, NOTHING or an incident id."""
        raw = await self.redis.get(keys.run_claim(pipeline, "alert", key))
        return None if raw is None else str(raw)

    async def alert_closed(self, pipeline: str, key: str) -> None:
        claim = keys.run_claim(pipeline, "alert", key)
        await self.redis.set(claim, NOTHING, xx=True, ex=CLAIM_KEEP)
