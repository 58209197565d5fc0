"""Maintenance-window suppressions as the app sees them: the pure rules, the Redis store and
the clock. This is where the notices are built: the start and the end of a suppression are
announced in the channel of each pipeline it silences (for `all`, each distinct channel),
and the end announcement carries the final count of alerts it kept from paging.

The paging integration asks `record_alert` before it pages: a non-None answer means the alert
was recorded and counted, and must page nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.notices import Notice, SuppressionEnded, SuppressionStarted
from bot.domain.suppressions import (
    ALL,
    Suppression,
    SuppressionError,
    SuppressRequest,
    check_request,
    covers,
    parse_id,
    parse_suppress,
)
from bot.store.suppressions import SuppressionStore


def channels(config: TeamConfig, pipeline: str) -> list[str]:
    """Where a suppression of `pipeline` (a slug or `all`) is announced, each channel once."""
    chosen = config.pipelines if pipeline == ALL else [config.pipeline(pipeline)]
    return list(dict.fromkeys(p.channel for p in chosen))


class SuppressionService:
    def __init__(self, config: TeamConfig, store: SuppressionStore, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock

    def started_notices(self, s: Suppression) -> list[Notice]:
        return [
            SuppressionStarted(channel=c, suppression=s) for c in channels(self.config, s.pipeline)
        ]

    def ended_notices(self, s: Suppression) -> list[Notice]:
        return [
            SuppressionEnded(channel=c, suppression=s) for c in channels(self.config, s.pipeline)
        ]

    async def create(self, request: SuppressRequest | str, actor: str) -> Suppression:
        """Store a suppression and queue its start announcements, in one transaction.
        `request` is the text after `/oncall suppress`, or a request built elsewhere (a
        form); either way the policy is applied at this instant. Raises SuppressionError."""
        now = self.clock.now()
        if isinstance(request, str):
            request = parse_suppress(request, self.config, now)
        else:
            check_request(self.config, request, now)
        s = Suppression(
            id=await self.store.next_id(),
            pipeline=request.pipeline,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            reason=request.reason.strip(),
            created_by=actor,
            created_at=now,
        )
        return await self.store.create(s, self.started_notices(s), now)

    async def cancel(self, suppression_id: str, actor: str) -> Suppression:
        """End a live suppression now (`/oncall unsuppress S-3`); its end is announced with
        the count so far, once, in the same transaction. Raises SuppressionError."""
        sid = parse_id(suppression_id)
        done = await self.store.end(sid, self.clock.now(), self.ended_notices, cancelled_by=actor)
        if done is not None:
            return done
        gone = await self.store.get(sid)
        if gone is None:
            raise SuppressionError(
                f"There is no suppression {sid} (it may have ended a while ago): "
                "`/oncall suppressions` lists the current ones."
            )
        how = f"was cancelled by {gone.cancelled_by}" if gone.cancelled_by else "has ended"
        raise SuppressionError(f"Suppression {sid} {how} already.")

    async def listing(self) -> tuple[list[Suppression], list[Suppression]]:
        """(active now, upcoming), each in start order, with live counts. One whose end has
        come but is not yet announced is in neither: it no longer suppresses anything."""
        now = self.clock.now()
        live = sorted(await self.store.live(), key=lambda s: (s.starts_at, s.ends_at, s.id))
        active = [s for s in live if s.starts_at <= now < s.ends_at]
        upcoming = [s for s in live if s.starts_at > now]
        return active, upcoming

    async def active_for(self, pipeline: str, at: datetime | None = None) -> Suppression | None:
        """The live suppression covering `pipeline` at `at` (default now) that ends last, for
        showing; deciding whether to page goes through `record_alert`, which also counts."""
        at = at or self.clock.now()
        covering = [s for s in await self.store.live() if covers(s, pipeline, at)]
        return max(covering, key=lambda s: s.ends_at, default=None)

    async def record_alert(
        self,
        pipeline: str,
        alert: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str | None:
        """If `pipeline` is suppressed now, count the alert against every suppression
        covering it and record `alert` (in keys.ALERTS_RECORDED, with `suppressed_by`), all
        in one atomic step, and return the id of the one that ends last; None: page as usual."""
        return await self.store.count_if_suppressed(pipeline, now or self.clock.now(), alert)

    async def announce_ended(self, now: datetime | None = None) -> list[Suppression]:
        """Claim every suppression whose end has come and queue its end announcement, each
        exactly once across replicas. Returns those this process ended."""
        now = now or self.clock.now()
        out = []
        for sid in await self.store.due(now):
            try:
                done = await self.store.end(sid, now, self.ended_notices)
            except SuppressionError:
                continue  # too busy to claim this tick; the next one will
            if done is not None:
                out.append(done)
        return out

    async def next_end(self) -> datetime | None:
        """When the earliest live suppression ends, for a loop that sleeps until then."""
        at = await self.store.next_end()
        return None if at is None else datetime.fromtimestamp(at, self.config.zone)

    async def handover(self, since: datetime) -> list[Suppression]:
        """For the Monday handover digest: every suppression that ended since `since` (with
        its final count) and every live one (with its count so far), in start order."""
        ended = await self.store.history(since)
        live = await self.store.live()
        return sorted([*ended, *live], key=lambda s: (s.starts_at, s.id))
