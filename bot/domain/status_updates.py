"""Status updates on investor incidents: the rules, without storage or Slack.

The policy asks for status in `#investor-kpis` while an investor pipeline is at risk. An
update says where the incident stands, what investors see, and when the next update comes;
the bot reminds the incident's owner when that promise falls due and nothing newer was
posted (see bot/services/status_updates.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.domain.incident import Incident

# Long enough for "which dashboard, which number, since when"; the investigation itself
# belongs in the incident's thread. Also keeps the channel post well inside one section.
IMPACT_MAX = 1500


class StatusKind(StrEnum):
    """The stages of the status pages investors already read (Statuspage and the like), so
    the word means the same to the reader as to the engineer. The last one is not plain
    "resolved": an investor number is only good again once it is verified (backfill, the
    semantic layer refreshed), and the incident itself is closed with Resolve on the page."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED_PENDING = "resolved_pending_verification"

    @property
    def label(self) -> str:
        return {
            "investigating": "Investigating",
            "identified": "Identified",
            "monitoring": "Monitoring",
            "resolved_pending_verification": "Resolved, pending verification",
        }[self.value]

    @property
    def hint(self) -> str:
        return {
            "investigating": "cause not known yet",
            "identified": "cause known, fix in progress",
            "monitoring": "fix in place, watching the numbers",
            "resolved_pending_verification": "numbers look right, being verified",
        }[self.value]

    @property
    def icon(self) -> str:
        return {
            "investigating": ":mag:",
            "identified": ":dart:",
            "monitoring": ":eyes:",
            "resolved_pending_verification": ":white_check_mark:",
        }[self.value]


# Stages at which the cause is not under control: readers need to know when they hear more.
NEEDS_NEXT = frozenset({StatusKind.INVESTIGATING, StatusKind.IDENTIFIED})

# The "next update due" choices, in the order the form lists them. Relative, because that is
# how people promise ("next update in 30 min"); the posts show the instant it comes to.
NONE = "none"
NEXT_UPDATE: dict[str, timedelta | None] = {
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    NONE: None,
}
NEXT_DEFAULT = "30m"


class StatusUpdateError(ValueError):
    """A refused update; `field` (status, impact, next) says where the form shows it."""

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(message)
        self.field = field


class StatusUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    pipeline: str
    status: StatusKind
    impact: str
    posted_by: str  # initials
    posted_at: datetime
    next_due: datetime | None  # None: no further update promised
    view_id: str = ""  # the form it came from, so a double submission posts once


def parse_form(
    status: str | None, impact: str | None, next_update: str | None
) -> tuple[StatusKind, str, timedelta | None]:
    """The three fields as the form sent them, checked; StatusUpdateError names the field.
    Slack enforces required fields, but a payload can be hand-made and whitespace is text."""
    try:
        kind = StatusKind(status or "")
    except ValueError:
        labels = ", ".join(k.label for k in StatusKind)
        raise StatusUpdateError(f"Pick a status: {labels}.", "status") from None
    text = (impact or "").strip()
    if not text:
        raise StatusUpdateError(
            "Say what investors see: which dashboard or number is late or wrong, and since "
            "when (or “no visible impact”).",
            "impact",
        )
    if len(text) > IMPACT_MAX:
        raise StatusUpdateError(
            f"Impact is {len(text):,} characters; keep it under {IMPACT_MAX:,} and put the "
            "details in the incident's thread.",
            "impact",
        )
    if next_update not in NEXT_UPDATE:
        raise StatusUpdateError("Pick when the next update is due, or “No further update”.", "next")
    delay = NEXT_UPDATE[next_update or ""]
    if delay is None and kind in NEEDS_NEXT:
        raise StatusUpdateError(
            f"While the status is {kind.label}, promise the next update: #investor-kpis is "
            "waiting for it. “No further update” fits Monitoring or Resolved, pending "
            "verification.",
            "next",
        )
    return kind, text, delay


def owner(inc: Incident) -> tuple[str | None, str]:
    """Who is reminded about a promised update, and why: whoever ACKed (they are working
    it); else the Primary paged first (the page was theirs from the start, even if a
    handover passed the rung on since); else the Primary the ladder names (a notification
    pages nobody). None only for an incident with no ladder at all."""
    if inc.acked_by:
        return inc.acked_by, f"you ACKed {inc.id}"
    for page in inc.paged:
        if 0 <= page.level < len(inc.rungs) and inc.rungs[page.level] == "primary":
            return page.member, f"you were paged first for {inc.id}, as Primary, and nobody ACKed"
    for rung in inc.ladder:
        if rung.role.value == "primary":
            return rung.member, f"you are the Primary named on {inc.id} and nobody ACKed"
    return None, ""
