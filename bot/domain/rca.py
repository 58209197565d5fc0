"""Root-cause analyses (policy: "RCAs due within 5 business days for investor-facing
pipeline Sev-1/Sev-2 incidents"; "Blameless RCAs with action items and owners").

Which incidents need one, who owns it, when it is due, which days its owner is reminded,
and which action items are late. How it reads (timeline lines, the Markdown export) is
bot/domain/rca_render.py. Pure: every instant and day is an argument.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import BusinessHours, TeamConfig, ZoneName
from bot.domain.business_days import (
    add_business_days,
    end_of_day,
    is_business_day,
)
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Incident, Severity, Status

# The policy names exactly these; a Sev-3 is handled, not reviewed.
RCA_SEVERITIES = frozenset({Severity.SEV1, Severity.SEV2})

# The first reminder goes this many business days before the due day: early enough to
# write the RCA, late enough not to be ignored.
REMIND_BEFORE = 2

_INITIALS = r"^[A-Z]{2,4}$"


class EventKind(StrEnum):
    OPENED = "opened"
    ALERT_JOINED = "alert_joined"  # another alert deduplicated into the open incident
    RUNG = "rung"  # someone paged (who), on a rung of the ladder (detail)
    UNREACHABLE = "unreachable"  # Slack refused a page DM (who), and why (detail)
    ACK = "ack"
    ESCALATE_NOW = "escalate_now"
    RESOLVE = "resolve"
    STATUS_POST = "status_post"  # an update posted to the pipeline's channel
    CHECKLIST = "checklist"  # a diagnostics step ticked (detail)
    NOTE = "note"


class IncidentEvent(BaseModel):
    """One entry of an incident's structured log: the RCA timeline is drawn from these."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: EventKind
    who: str | None = None  # initials; None for the bot's own doings (an alert, a timer)
    detail: str = ""


class RcaStatus(StrEnum):
    OPEN = "open"
    POSTED = "posted"


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"


class ActionItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int = Field(ge=1)  # A1, A2, … within its RCA: short enough to type in a command
    text: str = Field(min_length=1)
    owner: str = Field(pattern=_INITIALS)
    due: date  # a calendar day in the rotation's zone; late from the day after
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


class Rca(BaseModel):
    """One incident's RCA: its bookkeeping, then the blameless template's sections."""

    incident_id: str
    pipeline: str  # slug
    severity: Severity
    title: str  # the incident's summary, so the RCA reads on its own
    # Kept by name: an aware datetime read back from storage carries a fixed offset, not
    # the zone, and the due *day* must be taken in the zone the deadline was set in.
    zone: ZoneName
    incident_opened_at: datetime
    resolved_at: datetime
    opened_at: datetime  # when the RCA was opened; open_rca: the resolution instant
    due_at: datetime  # end_of_day of the due day in `zone`; inclusive
    owner: str = Field(pattern=_INITIALS)
    status: RcaStatus = RcaStatus.OPEN
    summary: str = ""
    customer_impact: str = ""
    investor_impact: str = ""
    timeline: list[str] = Field(default_factory=list)  # curated; empty: drawn from the log
    contributing_factors: list[str] = Field(default_factory=list)
    went_well: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    posted_at: datetime | None = None
    posted_by: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def due_day(self) -> date:
        return self.due_at.astimezone(self.tz).date()

    def overdue(self, now: datetime) -> bool:
        return self.status is RcaStatus.OPEN and now > self.due_at


def needs_rca(incident: Incident, cfg: TeamConfig) -> bool:
    """A resolved Sev-1/Sev-2 on an investor-facing pipeline.

    A pipeline no longer in the configuration cannot be said to be investor-facing, so it
    needs none: the bot should not demand work on grounds it cannot show.
    """
    if incident.status is not Status.RESOLVED or incident.severity not in RCA_SEVERITIES:
        return False
    try:
        return cfg.pipeline(incident.pipeline).investor
    except KeyError:
        return False


def incident_commander(incident: Incident) -> str | None:
    """Who was paged as Incident Commander and could be reached; the latest if the role
    changed hands during the incident (a schedule change), since they hold it at the end.

    Only a page counts: the ladder names a commander from the start, but when the Primary
    ACKs within ten minutes that person never hears of the incident.
    """
    for page in reversed(incident.paged):
        if not 0 <= page.level < len(incident.rungs):
            continue
        if incident.rungs[page.level] != "commander":
            continue
        if page.member not in incident.unreachable:
            return page.member
    return None


def rca_owner(incident: Incident, cfg: TeamConfig) -> str:
    """The RCA's owner: the Incident Commander if one was paged, else whoever ACKed, else
    whoever resolved it, else the pipeline's primary owner.

    The commander comes first because an incident that reached that rung was coordinated
    by them: they saw the whole of it, not only the part they fixed. Without a commander
    the one who ACKed carried the incident and knows it best. The resolver follows (an
    incident can be resolved without an ACK), and the pipeline's owner is the last resort
    for an incident nobody touched ("auto") or whose people have left the roster.
    """
    roster = {m.initials for m in cfg.members}
    for who in (incident_commander(incident), incident.acked_by, incident.resolved_by):
        if who in roster:
            return who
    return cfg.pipeline(incident.pipeline).primary


def open_rca(
    incident: Incident, resolved_at: datetime, calendar: HolidayCalendar, cfg: TeamConfig
) -> Rca:
    """The RCA for a resolved incident, due at the end of the
    `policy.rca_business_days`-th business day after the day of resolution in the
    rotation's zone (a resolution at 23:30 IST on Friday counts from Friday even though it is
    Friday in UTC as well; one at 01:00 IST Saturday counts from Saturday).

    Whether the incident needs one is `needs_rca`'s question; this opens one regardless, so
    a team can also review an incident the policy does not require.
    """
    zone = cfg.rotation.tz
    resolved_day = resolved_at.astimezone(zone).date()
    due_day = add_business_days(
        resolved_day, cfg.policy.rca_business_days, calendar, cfg.policy.business_hours
    )
    return Rca(
        incident_id=incident.id,
        pipeline=incident.pipeline,
        severity=incident.severity,
        title=incident.summary,
        zone=cfg.rotation.zone,
        incident_opened_at=incident.opened_at,
        resolved_at=resolved_at,
        opened_at=resolved_at,
        due_at=end_of_day(due_day, zone),
        owner=rca_owner(incident, cfg),
    )


def reminder_dates(
    rca: Rca,
    calendar: HolidayCalendar,
    *,
    until: date | None = None,
    hours: BusinessHours | None = None,
) -> list[tuple[date, ReminderKind]]:
    """The days the owner is reminded, in order: REMIND_BEFORE business days before the
    due day, the due day, then (up to `until`, since it never ends while the RCA is open)
    every business day after it.

    Days on or before the day the RCA was opened are left out: the message that opened it
    already said when it is due, so a short deadline does not remind on its first day.
    """
    opened = rca.opened_at.astimezone(rca.tz).date()
    due = rca.due_day
    out: list[tuple[date, ReminderKind]] = []
    soon = add_business_days(due, -REMIND_BEFORE, calendar, hours)
    if soon > opened:
        out.append((soon, ReminderKind.DUE_SOON))
    if due > opened:
        out.append((due, ReminderKind.DUE_TODAY))
    if until is not None:
        day = add_business_days(due, 1, calendar, hours)
        while day <= until:
            out.append((day, ReminderKind.OVERDUE))
            day = add_business_days(day, 1, calendar, hours)
    return out


def reminders_due(
    rca: Rca,
    last_sent: date | None,
    today: date,
    calendar: HolidayCalendar,
    hours: BusinessHours | None = None,
) -> ReminderKind | None:
    """The reminder to send on `today` (a day in the RCA's zone), or None.

    The latest reminder day on or before today is owed unless one was sent on or after it
    (`last_sent`): a bot that was down on the due-soon day still reminds the next business
    day, and one that restarts twice in a day reminds once. Never on a weekend or holiday,
    even to catch up: that is what the next business day is for.
    """
    if rca.status is not RcaStatus.OPEN or not is_business_day(today, calendar, hours):
        return None
    owed = [
        (d, k) for d, k in reminder_dates(rca, calendar, until=today, hours=hours) if d <= today
    ]
    if not owed:
        return None
    day, kind = owed[-1]
    if last_sent is not None and last_sent >= day:
        return None
    return kind


def overdue_actions(rcas: list[Rca], today: date) -> list[tuple[Rca, ActionItem]]:
    """Action items not done whose due day is before `today`, oldest first.

    A posted RCA's items count too: posting the review is not doing the work it asked for.
    """
    late = [
        (rca, item)
        for rca in rcas
        for item in rca.action_items
        if not item.done and item.due < today
    ]
    return sorted(late, key=lambda pair: (pair[1].due, pair[0].incident_id, pair[1].id))
