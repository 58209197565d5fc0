"""The Monday handover in Redis: the digest as queued, the Primaries' confirmations, the
"armed" marks, and a read of last week's incidents from the incident keys.

Per boundary (keyed by its epoch seconds, see bot/store/keys.py): the digest's JSON, written
only while the boundary's digest is unclaimed so that the channel post and every DM, drawn
at send time, read one and the same snapshot; a hash of confirmations (HSETNX: the first
press is the one kept); and the claim keys of the digest and of the reminder, which
Outbox.enqueue_once sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.domain.handover import HandoverDigest
from bot.domain.handover_confirm import Confirmation, HandoverConfirmations
from bot.domain.incident import Incident
from bot.store import keys, scripts
from bot.store.incident_records import incident_from
from bot.store.outbox import Outbox

# Incidents are read this many at a time, newest first, in one pipelined round trip each.
BATCH = 100


def epoch(at: datetime) -> int:
    """A boundary's name in keys and in the Handover done button's value."""
    return int(at.timestamp())


async def read_digest(redis: Redis, boundary_epoch: float) -> HandoverDigest | None:
    """The digest queued for the boundary, as every one of its messages draws it; None
    when it was never queued or has expired."""
    raw = await redis.get(keys.handover_digest(int(boundary_epoch)))
    return None if raw is None else HandoverDigest.model_validate_json(raw)


class HandoverStore:
    def __init__(self, redis: Redis, outbox: Outbox) -> None:
        self.redis = redis
        self.outbox = outbox
        self._save = redis.register_script(scripts.SAVE_IF_UNCLAIMED)

    # --- arming and claims -------------------------------------------------------------------

    async def arm(self, boundary_epoch: int, ttl: timedelta) -> None:
        """A replica was running before this boundary, so its digest is owed: sent late if
        every replica is down at its time. Nothing is owed for a handover no replica saw
        coming (a first deployment on a Wednesday does not post Monday's digest)."""
        await self.redis.set(
            keys.handover_armed(boundary_epoch), "1", nx=True, ex=max(1, int(ttl.total_seconds()))
        )

    async def armed(self, boundary_epoch: int) -> bool:
        return bool(await self.redis.exists(keys.handover_armed(boundary_epoch)))

    async def queued(self, boundary_epoch: int) -> bool:
        return bool(await self.redis.exists(keys.handover_sent(boundary_epoch)))

    async def reminded(self, boundary_epoch: int) -> bool:
        return bool(await self.redis.exists(keys.handover_reminded(boundary_epoch)))

    # --- the digest --------------------------------------------------------------------------

    async def save_digest(self, digest: HandoverDigest, ttl: timedelta) -> bool:
        """Store the snapshot the boundary's messages will draw; False when the digest was
        claimed meanwhile (by another replica), and then nothing is written."""
        ep = epoch(digest.boundary)
        done = await self._save(
            keys=[keys.handover_sent(ep), keys.handover_digest(ep)],
            args=[digest.model_dump_json(), max(1, int(ttl.total_seconds()))],
        )
        return bool(int(done))

    async def digest(self, boundary_epoch: int) -> HandoverDigest | None:
        return await read_digest(self.redis, boundary_epoch)

    # --- confirmations -----------------------------------------------------------------------

    async def confirmations(self, boundary: datetime) -> HandoverConfirmations:
        raw = await self.redis.hgetall(keys.handover_confirmed(epoch(boundary)))
        return _confirmations(boundary, raw)

    async def confirm(
        self, boundary: datetime, member: str, at: datetime, ttl: timedelta
    ) -> tuple[bool, HandoverConfirmations]:
        """Record `member`'s press unless one is recorded (a second press, or a replayed
        click, keeps the first time); (whether this press was recorded, all of them).
        One transaction, so two presses at once cannot both be "the first"."""
        key = keys.handover_confirmed(epoch(boundary))
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(key, member, repr(at.timestamp()))
        pipe.expire(key, max(1, int(ttl.total_seconds())))
        pipe.hgetall(key)
        fresh, _, raw = await pipe.execute()
        return bool(fresh), _confirmations(boundary, raw)

    # --- incidents ---------------------------------------------------------------------------

    async def incidents_since(self, since: datetime) -> list[Incident]:
        """Incidents opened at or after `since`, open or closed, newest first: last week's
        numbers need the closed ones, which leave the open set. Walks the id sequence down
        (ids are handed out in opening order) and stops at a batch opened wholly before
        `since`, or already expired (closed incidents are kept for the retention only)."""
        top = int(await self.redis.get(keys.INCIDENT_SEQ) or 0)
        out: list[Incident] = []
        for high in range(top, 0, -BATCH):
            ids = [f"INC-{n}" for n in range(high, max(0, high - BATCH), -1)]
            pipe = self.redis.pipeline(transaction=False)
            for incident_id in ids:
                pipe.hgetall(keys.incident(incident_id))
            rows = zip(ids, await pipe.execute(), strict=True)
            found = [inc for i, f in rows if (inc := incident_from(i, f)) is not None]
            recent = [inc for inc in found if inc.opened_at >= since]
            out += recent
            if not recent:
                break
        return out


def _confirmations(boundary: datetime, raw: Mapping[Any, Any]) -> HandoverConfirmations:
    pressed = [
        Confirmation(member=str(member), at=datetime.fromtimestamp(float(at), UTC))
        for member, at in raw.items()
    ]
    return HandoverConfirmations(
        boundary=boundary, confirmed=tuple(sorted(pressed, key=lambda c: (c.at, c.member)))
    )
