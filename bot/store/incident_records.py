"""Incident records as Redis holds them: the packed incident in its hash, its log entries,
and what a read returns (Stored) or a transition commits (Commit). No I/O: the store
(bot/store/incidents.py) and the readers of its keys elsewhere share these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.incident import Incident
from bot.domain.notices import Notice
from bot.domain.rca import IncidentEvent
from bot.store import packing


def event_record(event: IncidentEvent) -> str:
    """One entry of an incident's log as stored."""
    return packing.pack(event.model_dump_json(exclude_defaults=True))


def log_record(events: Sequence[IncidentEvent]) -> str:
    """Entries of an incident's log as the scripts take them: a JSON list of records."""
    return json.dumps([event_record(e) for e in events])


def incident_record(inc: Incident) -> str:
    """An incident as stored: packed, without what can be derived (its id is its key's,
    the defaults come back on reading)."""
    return packing.pack(inc.model_dump_json(exclude={"id"}, exclude_defaults=True))


def incident_from(incident_id: str, fields: dict[str, str]) -> Incident | None:
    """The incident held in its hash's fields (as HGETALL returns them), None when none."""
    text = packing.record(fields)
    if text is None:
        return None
    if not text.startswith('{"id"'):  # records written before packing hold their id
        text = '{"id":' + json.dumps(incident_id) + "," + text[1:]
    return Incident.model_validate_json(text)


@dataclass
class Stored:
    incident: Incident
    version: str
    msg_channel: str | None
    msg_ts: str | None
    count: int
    last_value: str | None
    checklist: str | None
    # PTTL of the ack window key: ms until the next rung, or None when there is no window.
    window_ms: int | None = None


@dataclass(frozen=True)
class Commit:
    """A transition to commit: the incident as read, as it becomes, what it sends, and the
    entries of its log."""

    before: Stored
    after: Incident
    notices: list[Notice]
    events: Sequence[IncidentEvent] = ()


def stored_from(incident_id: str, raw: dict[str, str], pttl: int) -> Stored | None:
    """The incident and what its hash holds beside it, from HGETALL's fields and the ack
    window's PTTL; None when the hash holds no incident."""
    incident = incident_from(incident_id, raw)
    if incident is None:
        return None
    return Stored(
        incident=incident,
        version=raw["version"],
        msg_channel=raw.get("msg_channel"),
        msg_ts=raw.get("msg_ts"),
        count=int(raw.get("count", "1")),
        last_value=raw.get("last_value"),
        checklist=raw.get("checklist"),
        window_ms=pttl if pttl >= 0 else None,
    )
