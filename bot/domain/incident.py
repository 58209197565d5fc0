"""Incidents: the model, its states, and the transitions that do not walk the ladder
(ACK, resolve, a person found unreachable, a schedule change ahead). Walking the ladder is
bot/domain/escalation.py. Pure: each transition returns the incident after and the notices
to send; storage makes it atomic; delivery turns notices into Slack calls.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import FULL_LADDER, RungName
from bot.domain.durations import human_duration
from bot.domain.notices import (
    Notice,
    PageUpdate,
    ThreadReply,
)
from bot.domain.schedule import LadderRole, Rung


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


class Paged(BaseModel):
    """Someone reached for this incident: at which rung, and when."""

    model_config = ConfigDict(frozen=True)

    member: str
    level: int
    at: datetime


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
    # The rungs this severity walks, and whether the last one repeats (from policy.toml).
    rungs: list[RungName] = Field(default_factory=lambda: list(FULL_LADDER))
    repeat: bool = True
    # The ladder as last resolved from the schedule; refreshed at every rung and boundary.
    ladder: list[Rung] = Field(default_factory=list)
    level: int = 0  # index into `rungs` of the rung reached last
    paged: list[Paged] = Field(default_factory=list)
    unreachable: dict[str, str] = Field(default_factory=dict)  # member → why
    repeats: int = 0
    exhausted: bool = False
    next_at: datetime | None = None  # the next rung (or, for a notification, auto-close)
    check_at: datetime | None = None  # the next schedule change while unACKed
    stepped_at: datetime | None = None  # when the rung reached last was reached
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status is not Status.RESOLVED

    def editable(self) -> Incident:
        """A copy a transition may change in place. Its lists and dict are new; what they
        hold (Rung, Paged) is frozen and shared. A deep copy spent half of a rung's domain
        time copying those frozen models (issue #14)."""
        return self.model_copy(
            update={
                "rungs": list(self.rungs),
                "ladder": list(self.ladder),
                "paged": list(self.paged),
                "unreachable": dict(self.unreachable),
            }
        )

    @property
    def position(self) -> str:
        """Where the escalation stands (rung and repeat): carried by Escalate now buttons,
        so a double click or a replayed click moves the incident once, not twice."""
        return f"{self.level}.{self.repeats}"

    @property
    def urgency(self) -> float:
        """Sort key of `/oncall incidents`, lowest first: waiting for an ACK before ACKed,
        pages before notifications, then by severity, then the longest open. Exact in a
        float: the rank times 1e10 plus the opening in epoch seconds (< 1e10 until 2286).
        Incidents opened in the same second tie; Redis orders those by id as text."""
        waiting = 0 if self.status is Status.TRIGGERED else 1
        paging = 0 if self.mode is Mode.PAGE else 1
        severity = list(Severity).index(self.severity)
        rank = (waiting * 2 + paging) * 4 + severity
        return rank * 1e10 + int(self.opened_at.timestamp())

    @property
    def due(self) -> datetime | None:
        """When the escalation timer must run next: a rung or a schedule change."""
        times = [t for t in (self.next_at, self.check_at) if t is not None]
        return min(times) if times else None

    def rungs_at(self, level: int) -> list[Rung]:
        if not 0 <= level < len(self.rungs):
            return []
        role = LadderRole(self.rungs[level])
        return [r for r in self.ladder if r.role is role]

    @property
    def current(self) -> list[Rung]:
        return self.rungs_at(self.level) if self.mode is Mode.PAGE else []

    def next_level(self, level: int) -> int | None:
        """The first rung after `level` that has anyone on it."""
        for n in range(level + 1, len(self.rungs)):
            if self.rungs_at(n):
                return n
        return None

    def all_unreachable(self, level: int) -> bool:
        people = self.rungs_at(level)
        return bool(people) and all(r.member in self.unreachable for r in people)

    @property
    def upcoming(self) -> list[Rung]:
        """Who the next rung reaches if nobody ACKs (empty after the last rung)."""
        level = self.next_level(self.level)
        return [] if level is None else self.rungs_at(level)


class TransitionError(ValueError):
    """A transition that does not apply (already ACKed, resolved, …); the message says why."""


class AlreadyEscalated(TransitionError):
    """An Escalate now click from a message drawn before the incident moved on."""

    def __init__(self, inc: Incident) -> None:
        super().__init__(f"{inc.id} was already escalated")
        self.incident = inc


AUTO = "auto"  # resolved_by for a notification that closed by itself
RAN_OUT = "Automatic escalation has run out; {id} stays open until someone ACKs or resolves it."


def recheck_at(inc: Incident, at: datetime) -> tuple[Incident, list[Notice]]:
    """The schedule will change at `at` (a swap was approved or cancelled): look at the
    ladder again then, if that is before the next look already planned."""
    if inc.status is not Status.TRIGGERED or inc.mode is not Mode.PAGE:
        raise TransitionError(f"{inc.id}: not paging")
    if inc.check_at is not None and inc.check_at <= at:
        raise TransitionError(f"{inc.id}: already looks again by then")
    return inc.model_copy(update={"check_at": at}), []


def mark_unreachable(
    inc: Incident, member: str, reason: str, now: datetime
) -> tuple[Incident, list[Notice]]:
    """Slack refused a page DM (user_not_found, account_inactive, …): say so, and if nobody
    on the current rung can be reached, fire the next rung at once."""
    if inc.status is not Status.TRIGGERED or member in inc.unreachable:
        raise TransitionError(f"{inc.id}: nothing to do")
    new = inc.editable()
    new.unreachable[member] = reason
    out: list[Notice] = [
        ThreadReply(incident=inc.id, text=f"Could not reach {{{member}}}: {reason}.")
    ]
    on_current = member in {r.member for r in new.current}
    if on_current and new.all_unreachable(new.level) and not new.exhausted:
        new.next_at = now
    return new, out


def acknowledge(inc: Incident, who: str, now: datetime) -> tuple[Incident, list[Notice]]:
    if inc.status is Status.ACKNOWLEDGED:
        raise TransitionError(f"{inc.id} was already acknowledged by {{{inc.acked_by}}}")
    if inc.status is Status.RESOLVED:
        raise TransitionError(f"{inc.id} is already resolved")
    new = inc.model_copy(
        update={
            "status": Status.ACKNOWLEDGED,
            "acked_by": who,
            "acked_at": now,
            "next_at": None,
            "check_at": None,
        }
    )
    text = f"Acknowledged by {{{who}}}, {human_duration(now - inc.opened_at)} after the page."
    return new, [ThreadReply(incident=inc.id, text=text), PageUpdate(incident=inc.id)]


def resolve(inc: Incident, who: str, now: datetime) -> tuple[Incident, list[Notice]]:
    if inc.status is Status.RESOLVED:
        raise TransitionError(f"{inc.id} is already resolved")
    update = {
        "status": Status.RESOLVED,
        "resolved_by": who,
        "resolved_at": now,
        "next_at": None,
        "check_at": None,
    }
    new = inc.model_copy(update=update)
    return new, [
        ThreadReply(incident=inc.id, text=f"Resolved by {{{who}}}."),
        PageUpdate(incident=inc.id),
    ]
