"""The Monday handover (issue #10, policy: "30-minute synchronous handoff on Mondays
09:00–09:30 IST with review of open incidents, suppressions, and pending RCAs").

At each rotation boundary a digest goes to the team channel and to the outgoing and
incoming Primary and Backup; the two Primaries confirm with a "Handover done" button and
whoever has not by 09:30 is reminded. This module holds the pure parts: when the boundaries
are, what the digest says, last week's numbers, and who still has to confirm. Every instant
is an argument; storage, delivery and the once-across-replicas claim live elsewhere.

Who hands over to whom: the week's holders are the rotation table's pair with the approved
swaps in force at the boundary applied, but *not* a critical-holiday exchange. The exchange
lasts one calendar day and is listed among the week's lines; letting it decide the handover
would, on a Monday holiday such as Diwali 2025-10-20 (PR is Primary both before and after
09:00), have PR hand over to PR. A critical holiday on Monday does not move the boundary
either: the digest still goes at 09:00, since the rotation, not the calendar, defines it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import TeamConfig, ZoneName
from bot.domain.calendar import HolidayCalendar

# Re-exported: the numbers live in their own module only to keep each file short.
from bot.domain.handover_stats import WeekStats as WeekStats
from bot.domain.handover_stats import last_week_stats as last_week_stats
from bot.domain.incident import Incident, Severity, Status
from bot.domain.pto import Conflict, conflict_note
from bot.domain.rca import Rca, RcaStatus, overdue_actions
from bot.domain.schedule import (
    Override,
    segments,
    swap_changes,
    week_bounds,
    week_start,
)
from bot.domain.suppressions import Suppression

# A digest sent later than this after its boundary says it is late (a replica restarting
# within a few minutes of 09:00 is on time; one that was down through 09:00 is not).
LATE_AFTER = timedelta(minutes=5)
# The policy's handoff lasts 30 minutes; at its end whoever has not confirmed is reminded.
REMIND_AFTER = timedelta(minutes=30)
_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}
_TICK = timedelta(microseconds=1)


class HandoverError(ValueError):
    """A confirmation the rules refuse; the message says why."""


# ------------------------------------------------------------------------------ boundaries


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is required (with a zone or an offset)")
    return at


def boundary_at_or_before(now: datetime, cfg: TeamConfig) -> datetime:
    """The handoff (Monday 09:00 in the rotation's zone) that began the week containing
    `now`; exactly 09:00 is its own boundary. Raises BeforeRotation before the first week."""
    return week_start(cfg, _aware(now))[1]


def next_boundary(now: datetime, cfg: TeamConfig) -> datetime:
    """The first handoff strictly after `now` (the rotation's start, before it begins)."""
    if _aware(now) < cfg.rotation.start_at:
        return cfg.rotation.start_at
    week, _ = week_start(cfg, now)
    return week_bounds(cfg, week)[1]


def previous_boundary(boundary: datetime, cfg: TeamConfig) -> datetime:
    """The handoff a week before `boundary`, on the local calendar, so a change of clocks in
    between (in a zone that has one) still lands on 09:00 local time."""
    local = _aware(boundary).astimezone(cfg.zone)
    return datetime.combine(local.date() - timedelta(days=7), local.time(), tzinfo=cfg.zone)


def is_late(boundary: datetime, now: datetime) -> bool:
    """Whether a digest sent at `now` is late for `boundary` (more than LATE_AFTER)."""
    return now - boundary > LATE_AFTER


def reminder_at(boundary: datetime) -> datetime:
    return boundary + REMIND_AFTER


def week_holders(
    cfg: TeamConfig, at: datetime, overrides: Sequence[Override] = ()
) -> tuple[str, str]:
    """(Primary, Backup) of the week at `at` for the handover: the rotation's pair with the
    swaps in force at `at`, without the critical-holiday exchange (see the module's note).
    The swaps are applied by the schedule engine's own rule so the two cannot disagree."""
    week, _ = week_start(cfg, at)
    row = cfg.rotation.weeks[week % len(cfg.rotation.weeks)]
    ordered = sorted(overrides, key=lambda o: o.id)
    primary, backup, _ = swap_changes(row.primary, row.backup, at, ordered)
    return primary, backup


# ------------------------------------------------------------------------------ the digest


class WeekLine(BaseModel):
    """Something in the incoming week that changes who holds a role, or should."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["exchange", "swap", "conflict"]
    start: datetime
    end: datetime
    primary: str | None = None  # who holds the role then (exchanges and swaps)
    backup: str | None = None
    why: str


class IncidentRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    pipeline: str  # slug
    severity: Severity
    summary: str
    status: Status
    opened_at: datetime
    age: timedelta  # at the digest's sent_at
    acked_by: str | None = None
    acked_at: datetime | None = None
    checklist: tuple[int, int] | None = None  # (done, total); None: no checklist run


class SuppressionRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    pipeline: str  # a slug, or "all"
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    suppressed: int
    active: bool  # in force at sent_at; else it starts later


class RcaRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    pipeline: str
    severity: Severity
    title: str
    owner: str
    due_at: datetime
    overdue: bool


class ActionRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    item: int  # A<n> within its RCA
    text: str
    owner: str
    due: date


class HandoverDigest(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Kept by name: an aware datetime read back from storage carries a fixed offset, and
    # the reminder must still show times in the rotation's zone.
    zone: ZoneName
    boundary: datetime
    sent_at: datetime
    late: bool
    week: int  # 0-based weeks since the rotation's start
    cycle_week: int
    cycle_length: int
    week_end: datetime
    outgoing_primary: str | None  # None at the rotation's very first boundary
    outgoing_backup: str | None
    incoming_primary: str
    incoming_backup: str
    week_lines: list[WeekLine] = Field(default_factory=list)
    incidents: list[IncidentRow] = Field(default_factory=list)
    suppressions: list[SuppressionRow] = Field(default_factory=list)
    pending_rcas: list[RcaRow] = Field(default_factory=list)
    overdue_actions: list[ActionRow] = Field(default_factory=list)
    stats: WeekStats

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def confirmers(self) -> list[str]:
        """The outgoing and incoming Primary (once, if a swap made them the same person)."""
        people = [self.outgoing_primary, self.incoming_primary]
        return list(dict.fromkeys(p for p in people if p is not None))

    @property
    def recipients(self) -> list[str]:
        """Who gets the digest by DM: outgoing and incoming Primary and Backup, once each."""
        people = [
            self.outgoing_primary,
            self.outgoing_backup,
            self.incoming_primary,
            self.incoming_backup,
        ]
        return list(dict.fromkeys(p for p in people if p is not None))


def _week_lines(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    start: datetime,
    end: datetime,
    overrides: Sequence[Override],
    conflicts: Sequence[Conflict],
) -> list[WeekLine]:
    lines: list[WeekLine] = []
    for seg in segments(cfg, calendar, start, end, list(overrides)):
        if not seg.holiday and not seg.swaps:
            continue
        # reasons[0] is the rotation week itself, which the digest states once for the week.
        lines.append(
            WeekLine(
                kind="swap" if seg.swaps else "exchange",
                start=seg.start,
                end=seg.end,
                primary=seg.primary,
                backup=seg.backup,
                why="; ".join(seg.reasons[1:]),
            )
        )
    for c in conflicts:
        if c.start < end and start < c.end:
            line = conflict_note(c, cfg.zone).removeprefix("⚠ ")
            lines.append(WeekLine(kind="conflict", start=c.start, end=c.end, why=line))
    return sorted(lines, key=lambda w: (w.start, w.kind))


def _incident_rows(
    incidents: Sequence[Incident], checklists: Mapping[str, tuple[int, int]], at: datetime
) -> list[IncidentRow]:
    open_ = {i.id: i for i in incidents if i.open and i.opened_at <= at}.values()
    rows = [
        IncidentRow(
            id=i.id,
            pipeline=i.pipeline,
            severity=i.severity,
            summary=i.summary,
            status=i.status,
            opened_at=i.opened_at,
            age=at - i.opened_at,
            acked_by=i.acked_by,
            acked_at=i.acked_at,
            checklist=checklists.get(i.id),
        )
        for i in open_
    ]
    # The worst first, and among equals the oldest: that is the order a handover reviews.
    return sorted(rows, key=lambda r: (_SEVERITY_ORDER[r.severity], r.opened_at, r.id))


def _suppression_rows(suppressions: Sequence[Suppression], at: datetime) -> list[SuppressionRow]:
    rows = [
        SuppressionRow(
            id=s.id,
            pipeline=s.pipeline,
            starts_at=s.starts_at,
            ends_at=s.ended_at,
            reason=s.reason,
            created_by=s.created_by,
            suppressed=s.suppressed,
            active=s.starts_at <= at,
        )
        for s in {s.id: s for s in suppressions}.values()
        if s.ended_at > at
    ]
    return sorted(rows, key=lambda r: (not r.active, r.starts_at, r.id))


def build_digest(
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    boundary: datetime,
    sent_at: datetime,
    *,
    overrides: Sequence[Override] = (),
    conflicts: Sequence[Conflict] = (),
    incidents: Sequence[Incident] = (),
    checklists: Mapping[str, tuple[int, int]] | None = None,
    suppressions: Sequence[Suppression] = (),
    rcas: Sequence[Rca] = (),
) -> HandoverDigest:
    """The digest for the handover at `boundary`, as of `sent_at` (before the boundary for
    `/oncall handover`'s preview, after it when sent late).

    `overrides`: approved swaps covering the outgoing and incoming weeks; `conflicts`: PTO
    and company-holiday conflicts (bot/domain/pto.py) for the incoming week; `incidents`:
    those open now plus those of last week (for the numbers); `checklists`: incident id →
    (done, total) of its checklist run; `suppressions`: any not yet over; `rcas`: any.
    """
    _aware(boundary)
    if boundary != boundary_at_or_before(boundary, cfg):
        raise ValueError(f"{boundary.isoformat()} is not a rotation boundary")
    week, _ = week_start(cfg, boundary)
    end = week_bounds(cfg, week)[1]
    n = len(cfg.rotation.weeks)
    incoming = week_holders(cfg, boundary, overrides)
    outgoing: tuple[str | None, str | None] = (None, None)
    if boundary > cfg.rotation.start_at:
        outgoing = week_holders(cfg, boundary - _TICK, overrides)
    today = sent_at.astimezone(cfg.zone).date()
    pending = sorted(
        (r for r in rcas if r.status is RcaStatus.OPEN), key=lambda r: (r.due_at, r.incident_id)
    )
    return HandoverDigest(
        zone=cfg.rotation.zone,
        boundary=boundary,
        sent_at=sent_at,
        late=is_late(boundary, sent_at),
        week=week,
        cycle_week=week % n + 1,
        cycle_length=n,
        week_end=end,
        outgoing_primary=outgoing[0],
        outgoing_backup=outgoing[1],
        incoming_primary=incoming[0],
        incoming_backup=incoming[1],
        week_lines=_week_lines(cfg, calendar, boundary, end, overrides, conflicts),
        incidents=_incident_rows(incidents, checklists or {}, sent_at),
        suppressions=_suppression_rows(suppressions, sent_at),
        pending_rcas=[
            RcaRow(
                incident_id=r.incident_id,
                pipeline=r.pipeline,
                severity=r.severity,
                title=r.title,
                owner=r.owner,
                due_at=r.due_at,
                overdue=r.overdue(sent_at),
            )
            for r in pending
        ],
        overdue_actions=[
            ActionRow(incident_id=r.incident_id, item=a.id, text=a.text, owner=a.owner, due=a.due)
            for r, a in overdue_actions(list(rcas), today)
        ],
        stats=last_week_stats(incidents, previous_boundary(boundary, cfg), boundary, cfg, calendar),
    )
