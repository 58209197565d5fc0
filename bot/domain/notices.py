"""What the bot has to tell Slack, as typed values: one variant per kind of message.

A state change and the notices it causes are committed together (see bot/store/outbox.py);
the Slack layer (bot/slack/delivery.py) turns each notice into Web API calls later, paced and
retried, so nothing on the request path or in the escalation tick ever waits on Slack.

Three properties of a kind are pure and decided here, so the store can queue a notice without
knowing anything about Slack:

- its **lane**: pages first, then thread replies and other DMs, then in-place updates, so a
  backlog of redraws never delays a page;
- whether it is **coalesced**: an update re-renders the current state, so queuing it again
  while one is waiting adds nothing; its id is derived from what it updates;
- its **fold group**: page DMs for one person that are due together are sent as one DM.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.domain.pto import Conflict, ExchangeNote
from bot.domain.suppressions import Suppression


class Lane(IntEnum):
    PAGE = 0  # page posts, page DMs, answers to the person who clicked
    MESSAGE = 1  # thread replies, checklists, swap DMs, announcements, reminders
    UPDATE = 2  # chat.update of something already posted


class _Notice(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Empty until queued: the outbox assigns a sortable id (see new_id).
    id: str = ""

    @property
    def lane(self) -> Lane:
        return Lane.MESSAGE

    @property
    def coalesce_id(self) -> str | None:
        """A stable id for notices that only re-render current state; None otherwise."""
        return None

    @property
    def fold_group(self) -> str | None:
        return None


class PagePost(_Notice):
    """The page (or notification) message in the pipeline's channel."""

    kind: Literal["page_post"] = "page_post"
    incident: str

    @property
    def lane(self) -> Lane:
        return Lane.PAGE


class PageDM(_Notice):
    """A page to one person. `text` says why (may hold `{XX}` member placeholders)."""

    kind: Literal["page_dm"] = "page_dm"
    incident: str
    member: str
    text: str

    @property
    def lane(self) -> Lane:
        return Lane.PAGE

    @property
    def fold_group(self) -> str | None:
        return f"dm:{self.member}"


class ThreadReply(_Notice):
    kind: Literal["thread_reply"] = "thread_reply"
    incident: str
    text: str

    @property
    def fold_group(self) -> str | None:
        # Not folded into one message, but sent one after another in the order they were
        # queued: a thread read out of order tells the wrong story.
        return f"thread:{self.incident}"


class PageUpdate(_Notice):
    """Redraw the page message from the incident's current state."""

    kind: Literal["page_update"] = "page_update"
    incident: str

    @property
    def lane(self) -> Lane:
        return Lane.UPDATE

    @property
    def coalesce_id(self) -> str | None:
        return f"page-update:{self.incident}"


class IncidentChecklist(_Notice):
    """Open the pipeline's runbook checklist in the page's thread."""

    kind: Literal["incident_checklist"] = "incident_checklist"
    incident: str
    # Someone pressed "Open checklist": open it whatever the once-per-pipeline rule says.
    requested: bool = False


class ChecklistPost(_Notice):
    """Post a stored checklist run: a summary (unless it goes into an existing thread) and
    its steps in the thread. Resumes where an interrupted delivery stopped."""

    kind: Literal["checklist_post"] = "checklist_post"
    run: str
    # Where to explain a refusal (bot not in the channel) to whoever asked for it.
    response_url: str | None = None


class ChecklistRedraw(_Notice):
    kind: Literal["checklist_redraw"] = "checklist_redraw"
    run: str

    @property
    def lane(self) -> Lane:
        return Lane.UPDATE

    @property
    def coalesce_id(self) -> str | None:
        return f"checklist-redraw:{self.run}"


class SwapRequestDM(_Notice):
    """Ask the counterpart, with Approve and Decline buttons."""

    kind: Literal["swap_request_dm"] = "swap_request_dm"
    swap: int


class SwapRequestedDM(_Notice):
    """Confirm to the requester (the form has no other place to answer)."""

    kind: Literal["swap_requested_dm"] = "swap_requested_dm"
    swap: int


class SwapRequestEdit(_Notice):
    """Replace the request DM's buttons with the decision."""

    kind: Literal["swap_request_edit"] = "swap_request_edit"
    swap: int

    @property
    def lane(self) -> Lane:
        return Lane.UPDATE

    @property
    def coalesce_id(self) -> str | None:
        return f"swap-edit:{self.swap}"


class SwapOutcomeDM(_Notice):
    kind: Literal["swap_outcome_dm"] = "swap_outcome_dm"
    swap: int
    member: str


class SwapAnnouncement(_Notice):
    """Tell the team channel that the schedule changed (or changed back)."""

    kind: Literal["swap_announcement"] = "swap_announcement"
    swap: int
    was_approved: bool = False


class ConflictReminder(_Notice):
    """PTO or a holiday on someone's shift with no swap yet."""

    kind: Literal["conflict_reminder"] = "conflict_reminder"
    conflict: Conflict


class HolidayNote(_Notice):
    """A critical holiday exchanges this person's role: for information, nothing to do."""

    kind: Literal["holiday_note"] = "holiday_note"
    note: ExchangeNote


class SuppressionStarted(_Notice):
    """Tell a pipeline's channel (one notice per channel for `all`) that its alerts page
    nobody until the suppression ends. Carries the suppression, so it renders as created."""

    kind: Literal["suppression_started"] = "suppression_started"
    channel: str
    suppression: Suppression


class SuppressionEnded(_Notice):
    """Tell the channel that paging is back, with the count suppressed
    (`suppression.suppressed`; `cancelled_by` is set when someone ended it early). Carries
    the final state: the stored suppression may have expired by the time it is delivered."""

    kind: Literal["suppression_ended"] = "suppression_ended"
    channel: str
    suppression: Suppression


class MemberDM(_Notice):
    """A DM to one member whose whole text is known when it is queued (RCA opened, handed
    over, due; an action item due; a status update promised). `text` may hold `{XX}` member
    placeholders, as PageDM's does; `about` names what it concerns (`INC-7`), for the logs."""

    kind: Literal["member_dm"] = "member_dm"
    member: str
    about: str = ""
    text: str


class IncidentMail(_Notice):
    """An email to the team's list that an incident opened or was resolved, drawn from the
    incident when it is sent (its id is only known once the open commits)."""

    kind: Literal["incident_mail"] = "incident_mail"
    incident: str
    event: Literal["opened", "resolved"]


class Mail(_Notice):
    """An email whose whole text is known when it is queued (an RCA posted)."""

    kind: Literal["mail"] = "mail"
    to: list[str]
    subject: str
    body: str


class OpenRca(_Notice):
    """Open the RCA a resolved incident is owed. Queued by the resolve's own atomic step, so
    a process killed right after the resolve still opens it (opening twice keeps one)."""

    kind: Literal["open_rca"] = "open_rca"
    incident: str


class ChannelPost(_Notice):
    """A message whose whole text is known when it is queued, in a channel (an RCA's
    summary in `#investor-kpis`, a missed delivery deadline). Carries the text, since what
    it reports may change or expire before this is delivered."""

    kind: Literal["channel_post"] = "channel_post"
    channel: str
    about: str = ""
    text: str


class HandoverPost(_Notice):
    """The Monday handover digest: in `channel` (the team channel), or by DM to `member`.
    Drawn when sent from the digest stored for the boundary (epoch seconds) when it was
    queued, so the channel post and the DMs say the same whenever each is delivered."""

    kind: Literal["handover_post"] = "handover_post"
    boundary: float
    channel: str | None = None
    member: str | None = None


class PresenceSync(_Notice):
    """Make one place people look (`target`: "oncall-group", "primary-group" or "topic")
    show the schedule as it stands when this is delivered, not when it was queued: a
    retried or late sync can then never put back an older answer, and a sync that finds
    Slack already right changes nothing."""

    kind: Literal["presence_sync"] = "presence_sync"
    target: Literal["oncall-group", "primary-group", "topic"]

    @property
    def lane(self) -> Lane:
        return Lane.UPDATE

    @property
    def coalesce_id(self) -> str | None:
        return f"presence:{self.target}"


class Ephemeral(_Notice):
    """An answer only the person who acted sees, through the action's response URL."""

    kind: Literal["ephemeral"] = "ephemeral"
    response_url: str
    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def lane(self) -> Lane:
        return Lane.PAGE


class HomeRefresh(_Notice):
    """Publish one person's App Home tab again (`user`: a Slack user id, since people off
    the roster have a Home too). It draws the current state, so the refreshes queued for one
    person while one waits collapse into it."""

    kind: Literal["home_refresh"] = "home_refresh"
    user: str

    @property
    def lane(self) -> Lane:
        return Lane.UPDATE

    @property
    def coalesce_id(self) -> str | None:
        return f"home:{self.user}"


Notice = Annotated[
    PagePost
    | PageDM
    | ThreadReply
    | PageUpdate
    | IncidentChecklist
    | ChecklistPost
    | ChecklistRedraw
    | SwapRequestDM
    | SwapRequestedDM
    | SwapRequestEdit
    | SwapOutcomeDM
    | SwapAnnouncement
    | ConflictReminder
    | HolidayNote
    | SuppressionStarted
    | SuppressionEnded
    | MemberDM
    | ChannelPost
    | HandoverPost
    | IncidentMail
    | Mail
    | OpenRca
    | PresenceSync
    | Ephemeral
    | HomeRefresh,
    Field(discriminator="kind"),
]

NOTICE: TypeAdapter[Notice] = TypeAdapter(Notice)

_seq = itertools.count()
_node = os.urandom(3).hex()


def new_id(now: datetime) -> str:
    """Sortable by creation (so notices queued together are claimed in order), unique across
    processes. Uses the monotonic process counter, not the clock alone, for the order."""
    return f"{int(now.timestamp() * 1000):013d}-{_node}-{next(_seq) % 10**9:09d}"


def with_id(notice: Notice, now: datetime) -> Notice:
    wanted = notice.coalesce_id or notice.id or new_id(now)
    return notice if notice.id == wanted else notice.model_copy(update={"id": wanted})


def load(raw: str) -> Notice:
    return NOTICE.validate_json(raw)


def dump(notice: Notice) -> str:
    return notice.model_dump_json()
