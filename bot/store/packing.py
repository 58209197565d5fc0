"""Compact records for what Redis keeps for weeks: incidents, their logs, checklists, RCAs.

A record is its JSON deflated against a preset dictionary of the JSON those records share
(field names, roles, statuses, timestamp shapes), then base85, since the clients decode
replies as text: an incident's 700 bytes of JSON become about 170 characters (issue #14:
≤ 1.5 KB per open incident, ≤ 1 KB per closed one). base64 would be 7 % longer; base85 costs
about 15 µs to encode and 20 µs to decode a record in Python, a few milliseconds for the
Home tab's hundred, which the closed-incident goal is worth. The prefix names the
dictionary and encoding, so a later one is a new prefix and records written with this one
stay readable; a value without a prefix is plain JSON written before packing existed.

A hash whose values are all short (≤ 64 bytes, Redis's `hash-max-listpack-value`) is kept
as one listpack, about half the memory of its hashtable form, so a packed record goes into
a hash as `d0`, `d1`, ... chunks of CHUNK characters with their count in `dn`.
incident_scripts.PUT_DATA_FN does the same inside Lua.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping

# One character that JSON never starts with, naming the dictionary and the encoding: a
# prefix per record, and an incident's log holds a record per entry.
PREFIX = "~"
CHUNK = 60
COUNT_FIELD = "dn"
LEGACY_FIELD = "data"  # the whole record as plain JSON, as stored before packing
# A closed incident's log, folded into its hash (incident_scripts.LOG_FN): l0..l<ln-1>.
LOG_COUNT_FIELD = "ln"
LOG_SEPARATOR = "\n"  # neither a packed record nor JSON holds a raw newline

# Never edit: every record written with prefix ~ needs exactly these bytes to be read.
_ZDICT_Z1 = (
    b'{"incident_id":"INC-","pipeline":"","severity":"sev2","title":"","zone":"Asia/Kolkata",'
    b'"incident_opened_at":"","due_at":"T23:59:59.999999+05:30","owner":"","status":"open",'
    b'"summary":"","customer_impact":"","investor_impact":"","timeline":[],'
    b'"contributing_factors":[],"went_well":[],"action_items":[],"posted_at":null,'
    b'"posted_by":null}'
    b'{"id":"cl","channel":"#","thread_ts":"","parent_ts":"","message_ts":[""],'
    b'"incident_id":"INC-","opened_by":"","opened_at":"","ticks":{"1":{"by":"","at":""}},'
    b'"revision":1,"rb":""}'
    b'{"at":"","kind":"opened","who":"","detail":"SEV1 "}{"kind":"rung","detail":"Primary"}'
    b'{"kind":"alert_joined"}{"kind":"unreachable"}{"kind":"ack"}{"kind":"escalate_now"}'
    b'{"kind":"resolve"}{"kind":"status_post"}{"kind":"checklist"}{"kind":"note"}'
    b'{"pipeline":"","severity":"sev1","summary":"","signal":"freshness","dedupe_key":":",'
    b'"mode":"page","opened_at":"","opened_by":"alert","status":"open",'
    b'"ladder":[{"role":"primary","member":"","reason":"Primary on call"},'
    b'{"role":"backup","member":"","reason":"Backup on call"},'
    b'{"role":"commander","member":"","reason":"secondary owner of "},'
    b'{"role":"lead","member":"","reason":"neither Primary nor Backup now (/)"}],'
    b'"paged":[{"member":"","level":0,"at":""},{"member":"","level":1,"at":""}],'
    b'"stepped_at":"","next_at":"","acked_by":"","acked_at":"","resolved_by":"",'
    b'"resolved_at":"2026-11-26T12:30:59.000000Z"}'
)

_DICTIONARIES = {PREFIX: _ZDICT_Z1}


def pack(text: str) -> str:
    """`text` (JSON) in its stored form."""
    # A 2 KB window holds the whole dictionary and any record worth packing; with it and a
    # small hash table a call costs a fifth of zlib's defaults (mostly setting up the state),
    # for the same output. Inflating needs no match: any window at least as large reads it.
    deflate = zlib.compressobj(6, zlib.DEFLATED, -11, 2, zlib.Z_DEFAULT_STRATEGY, _ZDICT_Z1)
    raw = deflate.compress(text.encode()) + deflate.flush()
    return PREFIX + base64.b85encode(raw).decode("ascii")


def unpack(stored: str) -> str:
    """The JSON of a stored record, packed or not."""
    zdict = _DICTIONARIES.get(stored[: len(PREFIX)])
    if zdict is None:
        return stored
    inflate = zlib.decompressobj(-15, zdict)
    raw = base64.b85decode(stored[len(PREFIX) :])
    return (inflate.decompress(raw) + inflate.flush()).decode()


def chunks(packed: str) -> dict[str, str]:
    """The hash fields holding `packed`, the count included."""
    parts = [packed[i : i + CHUNK] for i in range(0, len(packed), CHUNK)]
    fields = {f"d{n}": part for n, part in enumerate(parts)}
    fields[COUNT_FIELD] = str(len(parts))
    return fields


def stale(fields: Mapping[str, str], written: Mapping[str, str]) -> list[str]:
    """Fields of the stored hash `fields` that no longer belong once `written` replaces
    its record: a longer old record's tail chunks, and the pre-packing field."""
    old = int(fields.get(COUNT_FIELD, "0"))
    new = int(written[COUNT_FIELD])
    out = [f"d{n}" for n in range(new, old)]
    if LEGACY_FIELD in fields:
        out.append(LEGACY_FIELD)
    return out


def _joined(fields: Mapping[str, str], name: str) -> str | None:
    """The text a hash holds as chunks name0, name1, ... with their count in name + "n"
    (chunks, and incident_scripts.PUT_DATA_FN's put_chunks), or None when it holds none."""
    count = fields.get(f"{name}n")
    if count is None:
        return None
    return "".join(fields[f"{name}{n}"] for n in range(int(count)))


def record(fields: Mapping[str, str]) -> str | None:
    """The JSON of the record held in a hash's fields, or None when it holds none."""
    packed = _joined(fields, "d")
    if packed is not None:
        return unpack(packed)
    legacy = fields.get(LEGACY_FIELD)
    return None if legacy is None else unpack(legacy)


def folded_log(fields: Mapping[str, str]) -> list[str]:
    """The entries of a closed incident's log as its hash holds them (LOG_FN folds them in
    at the close), oldest first, each as stored; [] when the hash holds none."""
    text = _joined(fields, "l")
    return text.split(LOG_SEPARATOR) if text else []
