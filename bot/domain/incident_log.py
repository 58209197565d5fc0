"""An incident's structured event log, derived from its transitions: what happened, to
whom, when. Pure: the events are computed from the incident before and after a
transition, so the log can never disagree with the state it is committed with."""

from __future__ import annotations

from datetime import datetime

from bot.domain.incident import Incident
from bot.domain.rca import EventKind, IncidentEvent
from bot.domain.schedule import LadderRole


def _who(initials: str | None) -> str | None:
    # "alert" opens incidents on behalf of monitoring: no person did it.
    return None if initials in (None, "", "alert") else initials


def opened(inc: Incident) -> list[IncidentEvent]:
    """The opening of an incident and the pages it sent at once."""
    out = [
        IncidentEvent(
            at=inc.opened_at,
            kind=EventKind.OPENED,
            who=_who(inc.opened_by),
            detail=f"{inc.severity.value.upper()} {inc.summary}",
        )
    ]
    return out + changes(
        inc.model_copy(update={"paged": [], "unreachable": {}}), inc, inc.opened_at
    )


def alert_joined(now: datetime) -> IncidentEvent:
    return IncidentEvent(at=now, kind=EventKind.ALERT_JOINED, detail="another alert joined")


def changes(
    before: Incident, after: Incident, now: datetime, forced_by: str | None = None
) -> list[IncidentEvent]:
    """What a transition from `before` to `after` did, in the order it happened."""
    out: list[IncidentEvent] = []
    if forced_by and after.position != before.position:
        out.append(IncidentEvent(at=now, kind=EventKind.ESCALATE_NOW, who=forced_by))
    # `paged` only grows: what a transition paged is what it appended.
    repeat = f" (repeat {after.repeats})" if after.repeats > before.repeats else ""
    for p in after.paged[len(before.paged) :]:
        role = LadderRole(after.rungs[p.level]).label if p.level < len(after.rungs) else "?"
        out.append(IncidentEvent(at=p.at, kind=EventKind.RUNG, who=p.member, detail=role + repeat))
    for member, why in after.unreachable.items():
        if member not in before.unreachable:
            out.append(IncidentEvent(at=now, kind=EventKind.UNREACHABLE, who=member, detail=why))
    if after.acked_at is not None and before.acked_at is None:
        out.append(IncidentEvent(at=after.acked_at, kind=EventKind.ACK, who=after.acked_by))
    if after.resolved_at is not None and before.resolved_at is None:
        out.append(
            IncidentEvent(
                at=after.resolved_at,
                kind=EventKind.RESOLVE,
                who=_who(after.resolved_by),
                detail="" if after.resolved_by else "closed automatically",
            )
        )
    return out
