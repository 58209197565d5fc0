"""Incidents in Redis: atomic open-or-join, compare-and-set transitions, a leased due index.

Every write that changes an incident also schedules its timer and queues its notices in the
same Lua script, so a crash between "state changed" and "someone must be told" is
impossible, and a version check makes each transition happen exactly once however many
bot processes race for it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.domain.incident import Incident, Notice
from bot.store import keys

# KEYS: incident, dedupe, open set, due zset, outbox, ack window, seq
# ARGV: data template (JSON with "__ID__"), due score or "", notices JSON array,
#       ack window ms or "", prefix for new incident keys
_OPEN_OR_JOIN = """
local PLACEHOLDER = '@@INCIDENT@@'
local existing = redis.call('GET', KEYS[2])
if existing then
  local ikey = ARGV[5] .. existing
  redis.call('HINCRBY', ikey, 'count', 1)
  if ARGV[6] ~= '' then redis.call('HSET', ikey, 'last_value', ARGV[6]) end
  redis.call('ZADD', KEYS[5], ARGV[7], (string.gsub(ARGV[8], PLACEHOLDER, existing)))
  return {0, existing}
end
local n = redis.call('INCR', KEYS[7])
local id = 'INC-' .. n
local ikey = ARGV[5] .. id
local data = string.gsub(ARGV[1], PLACEHOLDER, id)
redis.call('HSET', ikey, 'data', data, 'version', 1, 'count', 1)
if ARGV[6] ~= '' then redis.call('HSET', ikey, 'last_value', ARGV[6]) end
redis.call('SET', KEYS[2], id)
redis.call('SADD', KEYS[3], id)
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[4], ARGV[2], id) end
if ARGV[4] ~= '' then redis.call('SET', KEYS[6] .. id, '0', 'PX', ARGV[4]) end
for _, notice in ipairs(cjson.decode(ARGV[3])) do
  redis.call('ZADD', KEYS[5], ARGV[7], (string.gsub(notice, PLACEHOLDER, id)))
end
return {1, id}
"""

# KEYS: incident, due zset, open set, outbox, ack window, dedupe
# ARGV: expected version, new data, due score or "", notices JSON array, ack window ms or "",
#       "closed" or "", retention seconds, id, now score
_TRANSITION = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[8])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[8])
end
if ARGV[5] == '' then
  redis.call('DEL', KEYS[5])
else
  redis.call('SET', KEYS[5], '1', 'PX', ARGV[5])
end
for _, notice in ipairs(cjson.decode(ARGV[4])) do
  redis.call('ZADD', KEYS[4], ARGV[9], notice)
end
if ARGV[6] == 'closed' then
  redis.call('SREM', KEYS[3], ARGV[8])
  if redis.call('GET', KEYS[6]) == ARGV[8] then redis.call('DEL', KEYS[6]) end
  redis.call('EXPIRE', KEYS[1], ARGV[7])
end
return 1
"""

# Lease up to ARGV[3] members due by ARGV[1] by pushing their score to ARGV[2]: whoever's
# call returned a member owns it until the lease ends; a crashed owner's lease simply lapses.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
"""


PLACEHOLDER = "@@INCIDENT@@"


def encode_notices(notices: list[Notice]) -> str:
    """A JSON array of notice JSON strings. Each id starts with a time and a sequence
    number, so notices due together are claimed in the order they were emitted."""
    stamp = f"{time.time_ns():020d}"
    return json.dumps(
        [
            json.dumps({"id": f"{stamp}-{i:03d}-{uuid.uuid4().hex[:8]}", **n.model_dump()})
            for i, n in enumerate(notices)
        ]
    )


def _score(at: datetime) -> float:
    return at.timestamp()


@dataclass
class Stored:
    incident: Incident
    version: str
    msg_channel: str | None
    msg_ts: str | None
    count: int
    last_value: str | None
    checklist: str | None


class IncidentStore:
    LEASE = timedelta(seconds=30)

    def __init__(self, redis: Redis, retention: timedelta) -> None:
        self.redis = redis
        self.retention = retention
        self._open = redis.register_script(_OPEN_OR_JOIN)
        self._transition = redis.register_script(_TRANSITION)
        self._claim = redis.register_script(_CLAIM)

    async def open_or_join(
        self, inc: Incident, notices: list[Notice], now: datetime, value: float | None = None
    ) -> tuple[bool, str]:
        """Create `inc` (its id is assigned here) unless an open incident has its dedupe key,
        in which case the alert joins that one. Returns (created, incident id)."""
        data = inc.model_copy(update={"id": PLACEHOLDER}).model_dump_json()
        notices = [n.model_copy(update={"incident": PLACEHOLDER}) for n in notices]
        join_update = json.loads(encode_notices([Notice(kind="update_page", incident=PLACEHOLDER)]))
        window = ""
        if inc.next_at is not None:
            window = str(max(1, int((inc.next_at - now).total_seconds() * 1000)))
        created, incident_id = await self._open(
            keys=[
                keys.incident("__unused__"),
                keys.dedupe(inc.dedupe_key),
                keys.INCIDENTS_OPEN,
                keys.ESCALATION_DUE,
                keys.OUTBOX,
                keys.ack_window(""),
                keys.INCIDENT_SEQ,
            ],
            args=[
                data,
                "" if inc.next_at is None else repr(_score(inc.next_at)),
                encode_notices(notices),
                window,
                keys.incident(""),
                "" if value is None else repr(value),
                repr(_score(now)),
                join_update[0],
            ],
        )
        return bool(int(created)), str(incident_id)

    async def get(self, incident_id: str) -> Stored | None:
        raw = {
            str(k): str(v)
            for k, v in (await self.redis.hgetall(keys.incident(incident_id))).items()
        }
        if not raw or "data" not in raw:
            return None
        return Stored(
            incident=Incident.model_validate_json(raw["data"]),
            version=raw["version"],
            msg_channel=raw.get("msg_channel"),
            msg_ts=raw.get("msg_ts"),
            count=int(raw.get("count", "1")),
            last_value=raw.get("last_value"),
            checklist=raw.get("checklist"),
        )

    async def commit(
        self, before: Stored, after: Incident, notices: list[Notice], now: datetime
    ) -> bool:
        """Apply a transition computed from `before`; False if someone else changed it first."""
        window = ""
        if after.next_at is not None and after.open:
            window = str(max(1, int((after.next_at - now).total_seconds() * 1000)))
        due = "" if after.next_at is None or not after.open else repr(_score(after.next_at))
        done = await self._transition(
            keys=[
                keys.incident(after.id),
                keys.ESCALATION_DUE,
                keys.INCIDENTS_OPEN,
                keys.OUTBOX,
                keys.ack_window(after.id),
                keys.dedupe(after.dedupe_key),
            ],
            args=[
                before.version,
                after.model_dump_json(),
                due,
                encode_notices(notices),
                window,
                "" if after.open else "closed",
                int(self.retention.total_seconds()),
                after.id,
                repr(_score(now)),
            ],
        )
        return bool(int(done))

    async def set_message(self, incident_id: str, channel: str, ts: str) -> None:
        await self.redis.hset(
            keys.incident(incident_id), mapping={"msg_channel": channel, "msg_ts": ts}
        )

    async def set_checklist(self, incident_id: str, run_id: str) -> None:
        await self.redis.hset(keys.incident(incident_id), "checklist", run_id)

    async def claim_due(self, now: datetime, limit: int = 200) -> list[str]:
        members = await self._claim(
            keys=[keys.ESCALATION_DUE],
            args=[repr(_score(now)), repr(_score(now + self.LEASE)), limit],
        )
        return [str(m) for m in members]

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(keys.ESCALATION_DUE, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def open_ids(self) -> list[str]:
        ids = [str(i) for i in await self.redis.smembers(keys.INCIDENTS_OPEN)]
        return sorted(ids, key=lambda i: int(i.split("-")[1]))

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
