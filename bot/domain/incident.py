"""The escalation state machine: pure transitions over an Incident, each returning the
notices to send. Storage makes a transition atomic; delivery turns notices into Slack calls.

Steps follow the ladder (primary → backup → incident commander → lead). Step n+1 fires
`delays[n]` after step n (backup_after, commander_after, lead_after); after the last step
the last person is re-notified every `repeat_every`, `repeat_count` times, and then the
incident says plainly that escalation has run out. An ACK or a resolve stops everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.config.models import EscalationPolicy
from bot.domain.notices import (
    IncidentChecklist,
    Notice,
    PageDM,
    PagePost,
    PageUpdate,
    ThreadReply,
)
from bot.domain.schedule import Rung


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class Signal(StrEnum):
    FRESHNESS = "freshness"
    COMPLETENESS = "completeness"
    ACCURACY = "accuracy"
    LATENCY = "latency"
    ERROR_RATE = "error_rate"


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Mode(StrEnum):
    PAGE = "page"  # walks the ladder until ACK
    NOTIFY = "notify"  # a channel notification, no escalation
    BEST_EFFORT = "best_effort"  # experiment pipeline out of hours: noted, nobody paged


class Incident(BaseModel):
    id: str
    pipeline: str
    severity: Severity
    summary: str
    signal: Signal | None = None
    dedupe_key: str
    mode: Mode
    opened_at: datetime
    opened_by: str  # initials, or "alert"
    status: Status = Status.TRIGGERED
    ladder: list[Rung] = Field(default_factory=list)
    step: int = 0  # index into ladder of the person paged last
    repeats: int = 0
    exhausted: bool = False
    next_at: datetime | None = None
    stepped_at: datetime | None = None  # when the person paged last was paged
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status is not Status.RESOLVED

    @property
    def paged(self) -> Rung | None:
        return self.ladder[self.step] if self.ladder else None

    @property
    def next_rung(self) -> Rung | None:
        return self.ladder[self.step + 1] if self.step + 1 < len(self.ladder) else None


class TransitionError(ValueError):
    """A transition that does not apply (already ACKed, resolved, …); the message says why."""


def _delay(policy: EscalationPolicy, step: int) -> timedelta:
    delays = [policy.backup_after, policy.commander_after, policy.lead_after]
    return delays[min(step, len(delays) - 1)]


AUTO = "auto"  # resolved_by for a notification that closed by itself
RAN_OUT = "Automatic escalation has run out; {id} stays open until someone ACKs or resolves it."


def _schedule_next(inc: Incident, now: datetime, policy: EscalationPolicy) -> str:
    """Set when `inc` (just paged at its current step) escalates next; returns a sentence to
    add to the thread when there is no next time, so escalation never stops silently."""
    if inc.next_rung is not None:
        inc.next_at = now + _delay(policy, inc.step)
        return ""
    if policy.repeat_count:
        inc.next_at = now + policy.repeat_every
        return ""
    inc.next_at = None
    inc.exhausted = True
    return " " + RAN_OUT.format(id=inc.id)


def _minutes(delta: timedelta) -> str:
    secs = int(delta.total_seconds())
    if secs % 60:
        return f"{secs} s"
    if secs >= 3600 and not secs % 3600:
        return f"{secs // 3600} h"
    return f"{secs // 60} min"


def open_incident(
    *,
    id: str,
    pipeline: str,
    severity: Severity,
    summary: str,
    signal: Signal | None,
    dedupe_key: str,
    mode: Mode,
    ladder: list[Rung],
    now: datetime,
    opened_by: str,
    policy: EscalationPolicy,
    checklist: bool,
) -> tuple[Incident, list[Notice]]:
    inc = Incident(
        id=id,
        pipeline=pipeline,
        severity=severity,
        summary=summary,
        signal=signal,
        dedupe_key=dedupe_key,
        mode=mode,
        opened_at=now,
        opened_by=opened_by,
        ladder=ladder if mode is Mode.PAGE else [],
        stepped_at=now,
    )
    notices: list[Notice] = [PagePost(incident=id)]
    if mode is not Mode.PAGE:
        # Notifications page nobody, so nobody may come to resolve them: they close by
        # themselves, which also frees their dedupe key for the next alert.
        inc.next_at = now + policy.notify_autoclose
    if mode is Mode.PAGE and inc.ladder:
        first = inc.ladder[0]
        _schedule_next(inc, now, policy)
        notices.append(
            PageDM(
                incident=id,
                member=first.member,
                text=f"You are paged as {first.role.label}.",
            )
        )
    if checklist:
        notices.append(IncidentChecklist(incident=id))
    return inc, notices


def fire_due(
    inc: Incident, now: datetime, policy: EscalationPolicy, forced_by: str | None = None
) -> tuple[Incident, list[Notice]]:
    """Move to the next step (or the next repeat) if it is due, or at once if `forced_by`."""
    if inc.status is not Status.TRIGGERED:
        raise TransitionError(f"{inc.id} is {inc.status.value}: nothing to escalate")
    if forced_by is None and (inc.next_at is None or inc.next_at > now):
        raise TransitionError(f"{inc.id} has no step due")
    if inc.mode is not Mode.PAGE:
        if forced_by is not None:
            raise TransitionError(f"{inc.id} is a notification: it has no ladder to escalate")
        closed, notices = resolve(inc, AUTO, now)
        return closed, [
            ThreadReply(
                incident=inc.id,
                text=f"Closed automatically after {_minutes(policy.notify_autoclose)}.",
            ),
            *[n for n in notices if isinstance(n, PageUpdate)],
        ]
    new = inc.model_copy(deep=True)
    new.stepped_at = now
    waited = now - (inc.stepped_at or inc.opened_at)
    why = f"Escalated now by {forced_by}" if forced_by else f"No ACK in {_minutes(waited)}"
    nxt = inc.next_rung
    if nxt is not None:
        new.step += 1
        ran_out = _schedule_next(new, now, policy)
        text = f"{why}: escalated to {nxt.role.label} {{{nxt.member}}}.{ran_out}"
        return new, [
            PageDM(
                incident=inc.id,
                member=nxt.member,
                text=f"You are paged as {nxt.role.label}. {why}.",
            ),
            ThreadReply(incident=inc.id, text=text),
            PageUpdate(incident=inc.id),
        ]
    last = inc.paged
    if last is None or inc.repeats >= policy.repeat_count:
        raise TransitionError(f"{inc.id}: escalation has run out")
    new.repeats += 1
    if new.repeats < policy.repeat_count:
        new.next_at = now + policy.repeat_every
        text = (
            f"{why}: paging {last.role.label} {{{last.member}}} again "
            f"(repeat {new.repeats} of {policy.repeat_count})."
        )
        notices = [
            PageDM(
                incident=inc.id,
                member=last.member,
                text=(
                    f"Still no ACK: you are paged again "
                    f"(repeat {new.repeats} of {policy.repeat_count})."
                ),
            )
        ]
    else:
        new.next_at = None
        new.exhausted = True
        text = (
            f"{why}: final page (repeat {new.repeats} of {policy.repeat_count}) to everyone on "
            f"the ladder. {RAN_OUT.format(id=inc.id)}"
        )
        notices = [
            PageDM(
                incident=inc.id,
                member=r.member,
                text="Final page: still not acknowledged.",
            )
            for r in inc.ladder
        ]
    return new, [
        *notices,
        ThreadReply(incident=inc.id, text=text),
        PageUpdate(incident=inc.id),
    ]


def acknowledge(inc: Incident, who: str, now: datetime) -> tuple[Incident, list[Notice]]:
    if inc.status is Status.ACKNOWLEDGED:
        raise TransitionError(f"{inc.id} was already acknowledged by {{{inc.acked_by}}}")
    if inc.status is Status.RESOLVED:
        raise TransitionError(f"{inc.id} is already resolved")
    new = inc.model_copy(
        update={"status": Status.ACKNOWLEDGED, "acked_by": who, "acked_at": now, "next_at": None}
    )
    text = f"Acknowledged by {{{who}}}, {_minutes(now - inc.opened_at)} after the page."
    return new, [
        ThreadReply(incident=inc.id, text=text),
        PageUpdate(incident=inc.id),
    ]


def resolve(inc: Incident, who: str, now: datetime) -> tuple[Incident, list[Notice]]:
    if inc.status is Status.RESOLVED:
        raise TransitionError(f"{inc.id} is already resolved")
    update = {"status": Status.RESOLVED, "resolved_by": who, "resolved_at": now, "next_at": None}
    new = inc.model_copy(update=update)
    return new, [
        ThreadReply(incident=inc.id, text=f"Resolved by {{{who}}}."),
        PageUpdate(incident=inc.id),
    ]
