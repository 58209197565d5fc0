"""Compact records (issue #14): packed JSON, listpack-sized chunks, records written before
packing still readable, and the incident store keeping its hashes compact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from bot.domain.incident import Incident, Mode, Paged, Severity, Status
from bot.domain.rca import EventKind, IncidentEvent
from bot.domain.schedule import LadderRole, Rung
from bot.store import incident_scripts, keys, packing
from bot.store.incident_records import event_record
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox

NOW = datetime(2025, 10, 20, 4, 30, 12, 345678, tzinfo=UTC)


def _incident(summary: str = "DAU table late") -> Incident:
    return Incident(
        id="INC-0",
        pipeline="growth-agg",
        severity=Severity.SEV1,
        summary=summary,
        dedupe_key="growth-agg:freshness",
        mode=Mode.PAGE,
        opened_at=NOW,
        opened_by="alert",
        ladder=[
            Rung(role=LadderRole.PRIMARY, member="PR", reason="Primary on call"),
            Rung(role=LadderRole.BACKUP, member="CW", reason="Backup on call"),
        ],
        paged=[Paged(member="PR", level=0, at=NOW)],
        next_at=NOW + timedelta(minutes=5),
        stepped_at=NOW,
    )


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        '{"summary":"Ünïcode — ✓ and \\"quotes\\""}',
        json.dumps({"detail": "x" * 5000}),
        _incident().model_dump_json(),
    ],
)
def test_pack_round_trips(text: str) -> None:
    packed = packing.pack(text)
    assert packed.startswith(packing.PREFIX)
    assert packing.unpack(packed) == text


def test_records_written_before_packing_read_as_they_are() -> None:
    legacy = _incident().model_dump_json()
    assert packing.unpack(legacy) == legacy
    assert packing.record({"data": legacy, "version": "3"}) == legacy


def test_an_incident_packs_to_under_a_third_of_its_json() -> None:
    text = _incident().model_dump_json(exclude={"id"}, exclude_defaults=True)
    assert len(packing.pack(text)) < len(text) / 3


def test_chunks_fit_a_listpack_and_reassemble() -> None:
    words = " ".join(str(n * 7919 % 1009) for n in range(200))  # compresses poorly
    packed = packing.pack(json.dumps({"detail": words}))
    fields = packing.chunks(packed)
    parts = [v for k, v in fields.items() if k != packing.COUNT_FIELD]
    assert all(len(p) <= 64 for p in parts)
    assert int(fields[packing.COUNT_FIELD]) == len(parts) > 1
    assert packing.record(fields) == packing.unpack(packed)


def test_stale_names_the_tail_of_a_longer_old_record_and_the_legacy_field() -> None:
    old = packing.chunks("x" * 200) | {"data": "{}", "version": "1"}  # 4 chunks
    new = packing.chunks("y" * 70)  # 2 chunks
    assert packing.stale(old, new) == ["d2", "d3", "data"]
    assert packing.stale(new, packing.chunks("z" * 200)) == []


async def _open(store: IncidentStore, inc: Incident) -> str:
    events = [IncidentEvent(at=NOW, kind=EventKind.OPENED, detail="SEV1 DAU table late")]
    _, incident_id = await store.open_or_join(inc, [], NOW, events=events)
    return incident_id


async def test_the_store_writes_compact_incidents_and_reads_them_back(
    store_redis: Redis,
) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident("short"))
    stored = await store.get(incident_id)
    assert stored is not None
    assert stored.incident == _incident("short").model_copy(update={"id": incident_id})
    assert [e.kind for e in await store.events(incident_id)] == [EventKind.OPENED]

    # A longer record takes more chunks, a shorter one leaves none of the old tail behind.
    for summary in ("long " * 60, "short again"):
        before = await store.get(incident_id)
        assert before is not None
        after = before.incident.model_copy(update={"summary": summary})
        assert await store.commit(before, after, [], NOW)
        fields = {
            str(k): str(v)
            for k, v in (await store_redis.hgetall(keys.incident(incident_id))).items()
        }
        chunks = sorted(k for k in fields if k.startswith("d") and k != "dn")
        assert chunks == sorted(f"d{n}" for n in range(int(fields["dn"])))
        assert all(len(v) <= 64 for v in fields.values())
        got = await store.get(incident_id)
        assert got is not None and got.incident.summary == summary
    if not isinstance(store_redis, FakeAsyncRedis):  # fakeredis reports no encodings
        assert await store_redis.object("encoding", keys.incident(incident_id)) == "listpack"


async def test_an_incident_stored_before_packing_is_read_and_rewritten_packed(
    store_redis: Redis,
) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    legacy = _incident().model_copy(update={"id": "INC-7"})
    await store_redis.hset(
        keys.incident("INC-7"),
        mapping={"data": legacy.model_dump_json(), "version": "1", "count": "2"},
    )
    before = await store.get("INC-7")
    assert before is not None and before.incident == legacy and before.count == 2
    acked = legacy.model_copy(
        update={"status": Status.ACKNOWLEDGED, "acked_by": "PR", "acked_at": NOW}
    )
    assert await store.commit(before, acked, [], NOW)
    fields = {str(k) for k in await store_redis.hgetall(keys.incident("INC-7"))}
    assert "data" not in fields
    after = await store.get("INC-7")
    assert after is not None and after.incident == acked


async def _close(store: IncidentStore, incident_id: str, events: list[IncidentEvent]) -> None:
    before = await store.get(incident_id)
    assert before is not None
    after = before.incident.model_copy(
        update={"status": Status.RESOLVED, "resolved_by": "PR", "resolved_at": NOW}
    )
    assert await store.commit(before, after, [], NOW, events=events)


async def _log_after_close(redis: Redis, incident_id: str, event: IncidentEvent) -> None:
    """An entry logged once the incident closed, as StatusUpdateStore.save logs one."""
    script = redis.register_script(incident_scripts.LOG_EVENT)
    keys_ = [keys.incident(incident_id), keys.incident_events(incident_id)]
    await script(keys=keys_, args=[event_record(event)])


def _events(n: int, kind: EventKind = EventKind.NOTE) -> list[IncidentEvent]:
    # Details that compress poorly, so entries pass a chunk's length.
    return [
        IncidentEvent(at=NOW + timedelta(minutes=i), kind=kind, detail=f"{i} {i * 7919 % 1009}")
        for i in range(n)
    ]


async def test_closing_folds_the_log_into_the_incident_hash(store_redis: Redis) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident())
    notes = _events(5)
    before = await store.get(incident_id)
    assert before is not None
    assert await store.commit(before, before.incident, [], NOW, events=notes[:2])
    resolve = IncidentEvent(at=NOW, kind=EventKind.RESOLVE, who="PR")
    await _close(store, incident_id, [*notes[2:], resolve])

    logged = await store.events(incident_id)
    assert [e.kind for e in logged] == [EventKind.OPENED, *[e.kind for e in notes], "resolve"]
    assert logged[1:6] == notes
    # The list is gone, the hash holds the log in listpack-sized chunks and expires.
    assert not await store_redis.exists(keys.incident_events(incident_id))
    fields = {
        str(k): str(v) for k, v in (await store_redis.hgetall(keys.incident(incident_id))).items()
    }
    assert int(fields[packing.LOG_COUNT_FIELD]) > 1
    assert all(len(v) <= 64 for v in fields.values())
    assert 0 < await store_redis.ttl(keys.incident(incident_id)) <= 90 * 86400
    if not isinstance(store_redis, FakeAsyncRedis):  # fakeredis reports no encodings
        assert await store_redis.object("encoding", keys.incident(incident_id)) == "listpack"

    # What is logged after the close (a status update submitted as it closed) joins the
    # folded log; no list appears that nothing would expire.
    late = IncidentEvent(at=NOW, kind=EventKind.STATUS_POST, who="PR", detail="Resolved: ok")
    await _log_after_close(store_redis, incident_id, late)
    assert (await store.events(incident_id))[-1] == late
    assert len(await store.events(incident_id)) == 8
    assert not await store_redis.exists(keys.incident_events(incident_id))


async def test_an_open_incidents_log_stays_a_list(store_redis: Redis) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident())
    note = _events(1)[0]
    await _log_after_close(store_redis, incident_id, note)  # the script, on an open incident
    assert await store_redis.llen(keys.incident_events(incident_id)) == 2
    assert [e.kind for e in await store.events(incident_id)] == [EventKind.OPENED, "note"]


async def test_a_log_closed_before_folding_existed_still_reads(store_redis: Redis) -> None:
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident())
    await _close(store, incident_id, [])
    # As such an incident was left: its log a list expiring with it, no folded log.
    fields = await store_redis.hgetall(keys.incident(incident_id))
    folded = packing.folded_log({str(k): str(v) for k, v in fields.items()})
    await store_redis.hdel(
        keys.incident(incident_id), packing.LOG_COUNT_FIELD, *(f"l{n}" for n in range(9))
    )
    await store_redis.rpush(keys.incident_events(incident_id), *folded)
    await store_redis.expire(keys.incident_events(incident_id), 3600)
    late = _events(1)[0]
    await _log_after_close(store_redis, incident_id, late)
    assert [e.kind for e in await store.events(incident_id)] == [EventKind.OPENED, "note"]
    assert 0 < await store_redis.ttl(keys.incident_events(incident_id)) <= 3600


def test_folded_log_splits_what_the_fold_joined() -> None:
    entries = [event_record(e) for e in _events(4)]
    text = packing.LOG_SEPARATOR.join(entries)
    fields = {f"l{n}": text[i : i + 60] for n, i in enumerate(range(0, len(text), 60))}
    fields[packing.LOG_COUNT_FIELD] = str(len(fields))
    assert packing.folded_log(fields) == entries
    assert packing.folded_log({}) == []


async def test_a_log_too_long_to_fold_stays_a_list_expiring_with_the_incident(
    store_redis: Redis,
) -> None:
    """A storm's hundreds of joins: folded, they would push the hash past a listpack's 128
    entries and double its size, so the log stays a list, as before folding existed."""
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident())
    joins = _events(150, EventKind.ALERT_JOINED)
    await store_redis.rpush(keys.incident_events(incident_id), *map(event_record, joins))
    await _close(store, incident_id, [])
    fields = await store_redis.hgetall(keys.incident(incident_id))
    assert packing.LOG_COUNT_FIELD not in fields
    assert 0 < await store_redis.ttl(keys.incident_events(incident_id)) <= 90 * 86400
    late = _events(1)[0]
    await _log_after_close(store_redis, incident_id, late)
    logged = await store.events(incident_id)
    assert len(logged) == 152 and logged[-1] == late
    if not isinstance(store_redis, FakeAsyncRedis):  # fakeredis reports no encodings
        assert await store_redis.object("encoding", keys.incident(incident_id)) == "listpack"


async def test_a_log_with_plain_json_text_beyond_ascii_stays_a_list(store_redis: Redis) -> None:
    """An entry written as plain JSON before packing, holding "é": a 60-byte chunk could end
    inside the character, and no client decoding replies as text could read the hash."""
    store = IncidentStore(store_redis, timedelta(days=90), Outbox(store_redis))
    incident_id = await _open(store, _incident())
    legacy = IncidentEvent(at=NOW, kind=EventKind.NOTE, detail="é" * 60)
    await store_redis.rpush(keys.incident_events(incident_id), legacy.model_dump_json())
    await _close(store, incident_id, [])
    assert packing.LOG_COUNT_FIELD not in await store_redis.hgetall(keys.incident(incident_id))
    assert (await store.events(incident_id))[-1] == legacy
    assert await store_redis.ttl(keys.incident_events(incident_id)) > 0


async def test_nothing_is_logged_onto_an_incident_that_is_not_there(store_redis: Redis) -> None:
    await _log_after_close(store_redis, "INC-404", _events(1)[0])
    assert not await store_redis.exists(keys.incident_events("INC-404"))
