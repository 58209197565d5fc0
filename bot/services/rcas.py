"""RCAs as the app sees them: the pure rules (bot/domain/rca.py), the Redis store and the
clock. This is where an RCA's messages are written: the DM that opens it, the DMs of a
reassignment, the reminders, the RCA in the incident's thread and its summary in the
channel investor-facing pipelines report to.

The paging integration calls `open_for` when an incident is resolved; it opens an RCA only
when the policy requires one, and opening twice keeps the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.business_days import add_business_days, is_business_day
from bot.domain.calendar import HolidayCalendar
from bot.domain.emails import rca_posted_email
from bot.domain.home import home_refreshes
from bot.domain.incident import Incident
from bot.domain.notices import ChannelPost, Mail, MemberDM, Notice, ThreadReply
from bot.domain.rca import (
    ActionItem,
    IncidentEvent,
    Rca,
    needs_rca,
    open_rca,
    reminders_due,
)
from bot.domain.rca_render import rca_markdown
from bot.domain.timefmt import day_label
from bot.services.rca_wording import (
    RcaWording,
    clean_lines,
    one_line,
    slack_text,
    summary_channel,
)
from bot.store.rcas import RcaError as RcaError
from bot.store.rcas import RcaStore, StoredRca

_INCIDENT_ID = re.compile(r"^\s*(?:inc)?[-#\s]*(\d{1,9})\s*$", re.IGNORECASE)
_ACTION_ID = re.compile(r"^\s*a?\s*(\d{1,4})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class NewAction:
    """An action item as written in the RCA form; it is numbered A1, A2, … when posted."""

    text: str
    owner: str  # initials
    due: date  # a day in the rotation's zone


def parse_incident_id(text: str) -> str:
    """`INC-7`, `inc-7`, `inc7`, `#7` or `7` → `INC-7`."""
    m = _INCIDENT_ID.match(text)
    if not m:
        raise RcaError(f"`{text.strip()}` is not an incident id; write it as INC-7.")
    return f"INC-{int(m.group(1))}"


def parse_action_id(text: str | int) -> int:
    """`A2`, `a2` or `2` → 2."""
    m = _ACTION_ID.match(str(text))
    if not m or int(m.group(1)) < 1:
        raise RcaError(f"`{str(text).strip()}` is not an action item; write it as A2.")
    return int(m.group(1))


class RcaService:
    def __init__(
        self, config: TeamConfig, calendar: HolidayCalendar, store: RcaStore, clock: Clock
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.store = store
        self.clock = clock
        self.words = RcaWording(config, calendar)
        # Who hears by email that an RCA was posted; empty when email is off (bot.deps).
        self.mail_to: list[str] = []

    # --- reading input ---------------------------------------------------------------------

    def _member(self, text: str, what: str) -> str:
        """Initials (`sk`, `@SK`) of a rostered member, or RcaError."""
        initials = text.strip().lstrip("@").upper()
        roster = [m.initials for m in self.config.members]
        if initials not in roster:
            raise RcaError(f"{what} `{text.strip()}` is not on the roster ({', '.join(roster)}).")
        return initials

    # --- opening and reading ---------------------------------------------------------------

    async def open_for(self, incident: Incident, resolved_at: datetime) -> Rca | None:
        """Open the RCA a resolved incident needs (investor-facing, Sev-1/Sev-2) and DM its
        owner when it is due and how to write it, in one transaction. None when the policy
        requires none; the RCA opened first when the incident already has one."""
        if not needs_rca(incident, self.config):
            return None
        rca = open_rca(incident, resolved_at, self.calendar, self.config)
        days = self.config.policy.rca_business_days
        words = self.words
        text = (
            f"You own the RCA for {words.label(rca)} {words.why_owner(incident, rca.owner)}. "
            f"It is due {words.due(rca)} ({days} business days after it was resolved). "
            f"{words.how(rca)}"
        )
        dm = MemberDM(member=rca.owner, about=rca.incident_id, text=text)
        home = home_refreshes(self.config, [rca.owner])
        stored, _ = await self.store.open(rca, [dm, *home], self.clock.now())
        return stored

    async def open_rcas(self) -> list[Rca]:
        """Open RCAs, the soonest due first (overdue ones lead)."""
        return await self.store.list_open()

    async def get(self, incident_id: str) -> Rca | None:
        return await self.store.get(parse_incident_id(incident_id))

    async def to_write(self, incident_id: str) -> Rca:
        """The open RCA `/rca write INC-7` opens the template for; RcaError if none is."""
        iid = parse_incident_id(incident_id)
        rca = await self.get(iid)
        if rca is None:
            raise RcaError(f"There is no RCA for {iid}: `/rca` lists the open ones.")
        if rca.posted_at is not None:
            raise RcaError(f"The RCA for {iid} was posted already by {rca.posted_by}.")
        return rca

    async def markdown(self, incident_id: str, events: Sequence[IncidentEvent] = ()) -> str:
        """The RCA as Markdown (`oncall-bot export --rca INC-7`); `events` is the incident's
        log, drawn as the timeline unless a curated one was written."""
        rca = await self.get(incident_id)
        if rca is None:
            raise RcaError(f"There is no RCA for {parse_incident_id(incident_id)}.")
        return rca_markdown(rca, list(events), self.config)

    async def actions(
        self, owner: str | None = None, include_done: bool = False
    ) -> list[tuple[Rca, ActionItem]]:
        """Action items of every RCA kept (open or posted), one owner's when given, the
        soonest due first."""
        out = [
            (s.rca, item)
            for s in await self.store.tracked()
            for item in s.rca.action_items
            if (include_done or not item.done) and (owner is None or item.owner == owner)
        ]
        return sorted(out, key=lambda p: (p[1].due, p[0].incident_id, p[1].id))

    # --- changes -----------------------------------------------------------------------------

    async def assign(self, incident_id: str, new_owner_initials: str, actor: str) -> Rca:
        """Hand an open RCA to another member (`/rca assign INC-7 @member`): the new owner
        is DMed (unless they took it themselves), and so is the previous one (unless they
        gave it away themselves). Raises RcaError: unknown incident, not a roster member,
        already posted."""
        iid = parse_incident_id(incident_id)
        owner = self._member(new_owner_initials, "The new owner")
        actor = self._member(actor, "You")

        def notices(before: Rca, after: Rca) -> list[Notice]:
            out: list[Notice] = []
            if owner != actor:
                text = (
                    f"{{{actor}}} handed you the RCA for {self.words.label(after)}. "
                    f"It is due {self.words.due(after)}. {self.words.how(after)}"
                )
                out.append(MemberDM(member=owner, about=iid, text=text))
            if before.owner != actor:
                text = (
                    f"{{{actor}}} handed the RCA for {self.words.label(after)} to {{{owner}}}: "
                    "it is no longer yours to write."
                )
                out.append(MemberDM(member=before.owner, about=iid, text=text))
            return [*out, *home_refreshes(self.config, [owner, before.owner])]

        return await self.store.assign(iid, owner, self.clock.now(), notices)

    async def submit(
        self,
        incident_id: str,
        *,
        summary: str,
        customer_impact: str = "",
        investor_impact: str = "",
        timeline: Sequence[str] = (),
        contributing_factors: Sequence[str] = (),
        went_well: Sequence[str] = (),
        action_items: Sequence[NewAction] = (),
        actor: str,
        events: Sequence[IncidentEvent] = (),
    ) -> Rca:
        """Post an open RCA and close it: the RCA goes into the incident's thread, a summary
        to the pipeline's channel (#investor-kpis), and each action item's owner is DMed;
        all queued with the change. `timeline` left empty is drawn from `events`. Any
        rostered member may post it (it records who did). Raises RcaError."""
        iid = parse_incident_id(incident_id)
        actor = self._member(actor, "You")
        now = self.clock.now()
        if not summary.strip():
            raise RcaError("An RCA needs a summary: what happened, in a few sentences.")
        today = now.astimezone(self.config.zone).date()
        items = []
        for n, a in enumerate(action_items, start=1):
            if not a.text.strip():
                raise RcaError(f"Action item A{n} has no text: say what is to be done.")
            if a.due < today:
                raise RcaError(f"Action item A{n} is due {day_label(a.due)}, in the past.")
            who = self._member(a.owner, f"Action item A{n}'s owner")
            items.append(ActionItem(id=n, text=a.text.strip(), owner=who, due=a.due))

        def write(rca: Rca) -> Rca:
            return rca.model_copy(
                update={
                    "summary": summary.strip(),
                    "customer_impact": customer_impact.strip(),
                    "investor_impact": investor_impact.strip(),
                    "timeline": clean_lines(timeline),
                    "contributing_factors": clean_lines(contributing_factors),
                    "went_well": clean_lines(went_well),
                    "action_items": items,
                }
            )

        def notices(posted: Rca) -> list[Notice]:
            body = slack_text(rca_markdown(posted, list(events), self.config))
            channel = summary_channel(self.config, posted.pipeline)
            out: list[Notice] = [
                ThreadReply(incident=iid, text=body),
                ChannelPost(about=iid, channel=channel, text=self.words.summary(posted)),
            ]
            for owner in dict.fromkeys(i.owner for i in posted.action_items):
                if owner == actor:
                    continue
                mine = [i for i in posted.action_items if i.owner == owner]
                listed = "; ".join(
                    f"A{i.id} {one_line(i.text)} (due {day_label(i.due)})" for i in mine
                )
                text = (
                    f"{{{actor}}} posted the RCA for {self.words.label(posted)}. Yours: {listed}."
                )
                out.append(MemberDM(member=owner, about=iid, text=text))
            if self.mail_to:
                mail = rca_posted_email(
                    iid,
                    self.words.pipeline_name(posted),
                    posted.summary,
                    self.words.name(posted.owner),
                    f"the incident's thread in {channel}",
                    to=self.mail_to,
                )
                out.append(Mail(to=mail.to, subject=mail.subject, body=mail.body))
            # The owner's Home drops the RCA; each item's owner's lists the item.
            owners = [posted.owner, *(i.owner for i in posted.action_items)]
            return [*out, *home_refreshes(self.config, owners)]

        return await self.store.post(iid, actor, now, write, notices)

    async def complete_action(
        self, incident_id: str, action_id: str | int, actor: str
    ) -> tuple[Rca, ActionItem]:
        """Mark an action item done (`/rca done INC-7 A2`); only its owner may, and nobody
        is messaged: `/rca actions` shows it. Raises RcaError."""
        iid, n = parse_incident_id(incident_id), parse_action_id(action_id)
        actor = self._member(actor, "You")
        home = home_refreshes(self.config, [actor])  # the item leaves their Home tab
        return await self.store.complete_action(
            iid, n, actor, self.clock.now(), lambda _rca, _item: home
        )

    # --- reminders -----------------------------------------------------------------------------

    def _rca_owed(self, today: date, s: StoredRca) -> list[Notice]:
        hours = self.config.policy.business_hours
        kind = reminders_due(s.rca, s.reminded, today, self.calendar, hours)
        return [] if kind is None else [self.words.reminder(s.rca, kind, today)]

    def _remind_day(self, item: ActionItem) -> date:
        """An item due on a weekend or holiday is reminded the business day before, while
        its owner is at work to act on it."""
        hours = self.config.policy.business_hours
        if is_business_day(item.due, self.calendar, hours):
            return item.due
        return add_business_days(item.due, -1, self.calendar, hours)

    def _action_owed(
        self, today: date, rca: Rca, item: ActionItem, last: date | None
    ) -> list[Notice]:
        # Once per item: on its day, or the first business day after when the bot missed it.
        late = last is not None or today < self._remind_day(item)
        return [] if late else [self.words.action_dm(rca, item, today)]

    async def queue_reminders(self, now: datetime | None = None) -> int:
        """Queue the reminders owed now, each once across replicas and however often this
        runs: RCA owners 2 business days before the due day, on it, and every business day
        while overdue; action item owners on the item's due day. Nothing goes before the
        start of business hours, so a reminder does not arrive at midnight. Returns how
        many this call queued."""
        now = now or self.clock.now()
        hours = self.config.policy.business_hours
        queued = 0
        for s in await self.store.open_stored():
            local = now.astimezone(s.rca.tz)
            if local.time() < hours.start:
                continue
            owed = partial(self._rca_owed, local.date())
            queued += await self.store.remind(s.rca.incident_id, local.date(), now, owed)

        local = now.astimezone(self.config.zone)
        today = local.date()
        if local.time() < hours.start or not is_business_day(today, self.calendar, hours):
            return queued
        owed_action = partial(self._action_owed, today)
        for s in await self.store.tracked():
            for item in s.rca.action_items:
                if item.done or item.id in s.action_reminded or today < self._remind_day(item):
                    continue  # decided again inside the transaction; this only saves a trip
                iid = s.rca.incident_id
                queued += await self.store.remind_action(iid, item.id, today, now, owed_action)
        return queued
