"""Status updates on investor incidents as the app sees them: the rules
(bot/domain/status_updates.py), the Redis store and the clock. This is where the messages
are written: the update in the pipeline's channel (#investor-kpis for the investor-facing
pipelines) and in the incident's thread, and the owner's reminder when the promised next
update falls due with nothing newer posted.
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock
from bot.config.models import TeamConfig
from bot.domain.incident import Incident, Status
from bot.domain.notices import ChannelPost, MemberDM, Notice, ThreadReply
from bot.domain.rca import EventKind, IncidentEvent
from bot.domain.status_updates import (
    StatusUpdate,
    StatusUpdateError,
    owner,
    parse_form,
)
from bot.domain.timefmt import stamp
from bot.store.incidents import IncidentStore
from bot.store.status_updates import StatusUpdateStore


def _esc(text: str) -> str:
    # Impact and summaries are typed by people or alerts: `<` or `&` there would otherwise be
    # read as Slack markup (a mention of @channel, a link) in a channel investors read.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str) -> str:
    return "\n".join(f">{line}" for line in _esc(text).splitlines() or [""])


class StatusUpdateService:
    def __init__(
        self,
        config: TeamConfig,
        store: StatusUpdateStore,
        incidents: IncidentStore,
        clock: Clock,
    ) -> None:
        self.config = config
        self.store = store
        self.incidents = incidents
        self.clock = clock

    # --- wording -------------------------------------------------------------------------------

    def _title(self, inc: Incident) -> str:
        """`*INC-7* · SEV1 · Growth — Aggregate (DAU table is 2 h late)`."""
        try:
            name = self.config.pipeline(inc.pipeline).name
        except KeyError:  # a pipeline since removed from the configuration
            name = inc.pipeline
        sev = inc.severity.value.upper()
        return f"*{inc.id}* · {sev} · {name} ({_esc(inc.summary)})"

    def _who(self, initials: str) -> str:
        """`Priya Rao (<@U…>)`: the name reads in any client, the mention links the person."""
        try:
            m = self.config.member(initials)
        except KeyError:
            return initials
        return f"{m.name} ({m.mention})" if m.slack_id else m.name

    def _next(self, update: StatusUpdate) -> str:
        if update.next_due is None:
            return "none planned"
        return f"by {stamp(update.next_due, self.config.zone)}"

    def text(self, inc: Incident, update: StatusUpdate) -> str:
        """The update as posted in the channel and in the thread: incident, status,
        impact, when the next update comes, and who posted it when."""
        kind = update.status
        return "\n".join(
            [
                f":mega: *Status update* on {self._title(inc)}",
                f"*Status:* {kind.icon} {kind.label} ({kind.hint})",
                "*Impact:*",
                _quote(update.impact),
                f"*Next update:* {self._next(update)}",
                f"Posted by {self._who(update.posted_by)} at "
                f"{stamp(update.posted_at, self.config.zone)}",
            ]
        )

    def reminder(self, inc: Incident, update: StatusUpdate, member: str, why: str) -> MemberDM:
        assert update.next_due is not None
        zone = self.config.zone
        channel = self._channel(inc)
        text = (
            f":alarm_clock: The next status update on {self._title(inc)} was promised to "
            f"{channel} by {stamp(update.next_due, zone)}, and nothing newer has been posted "
            f"since {{{update.posted_by}}}'s at {stamp(update.posted_at, zone)} "
            f"({update.status.label}). Post one with *Post status* on the page in {channel}. "
            f"You get this reminder because {why}."
        )
        return MemberDM(member=member, about=inc.id, text=text)

    def _channel(self, inc: Incident) -> str:
        try:
            return self.config.pipeline(inc.pipeline).channel
        except KeyError:  # removed since: where the investor pipelines report
            investor = (p.channel for p in self.config.pipelines if p.investor)
            return next(investor, self.config.policy.team_channel)

    # --- posting ---------------------------------------------------------------------------

    async def incident(self, incident_id: str) -> Incident:
        """The incident a status update is for: it must exist and be on an investor
        pipeline (only those report to #investor-kpis). StatusUpdateError otherwise."""
        stored = await self.incidents.get(incident_id)
        if stored is None:
            raise StatusUpdateError(
                f"Incident {incident_id or '(none)'} is not in the bot's store (it may have "
                "expired), so there is nothing to post a status for."
            )
        inc = stored.incident
        try:
            investor = self.config.pipeline(inc.pipeline).investor
        except KeyError:
            investor = False
        if not investor:
            raise StatusUpdateError(
                f"{inc.id} is on {inc.pipeline}, not an investor pipeline: status updates "
                "go to #investor-kpis for investor pipelines only."
            )
        return inc

    async def latest(self, incident_id: str) -> StatusUpdate | None:
        return await self.store.latest(incident_id)

    async def post(
        self,
        incident_id: str,
        who: str,
        status: str | None,
        impact: str | None,
        next_update: str | None,
        view_id: str = "",
    ) -> StatusUpdate:
        """Check the form, store the update as the incident's latest (its promise replaces
        any earlier one) and queue its post in the pipeline's channel and its reply in the
        incident's thread, in one transaction. An incident resolved while the form was open
        still takes the update: what was typed for investors is not thrown away. Raises
        StatusUpdateError naming the field to show it beside."""
        kind, text, delay = parse_form(status, impact, next_update)
        inc = await self.incident(incident_id)
        now = self.clock.now()
        update = StatusUpdate(
            incident_id=inc.id,
            pipeline=inc.pipeline,
            status=kind,
            impact=text,
            posted_by=who,
            posted_at=now,
            next_due=None if delay is None else now + delay,
            view_id=view_id,
        )
        body = self.text(inc, update)
        notices: list[Notice] = [
            ChannelPost(channel=self._channel(inc), about=inc.id, text=body),
            ThreadReply(incident=inc.id, text=body),
        ]
        event = IncidentEvent(
            at=now,
            kind=EventKind.STATUS_POST,
            who=update.posted_by,
            detail=f"{update.status.label}: {update.impact}",
        )
        stored, _ = await self.store.save(update, notices, now, event)
        return stored

    # --- reminders -------------------------------------------------------------------------

    def _owner(self, inc: Incident) -> tuple[str, str]:
        member, why = owner(inc)
        if member is not None:
            return member, why
        # No ladder at all (the schedule named nobody): the pipeline's primary owner.
        try:
            return self.config.pipeline(inc.pipeline).primary, f"you own {inc.pipeline}"
        except KeyError:
            return "", ""

    async def queue_status_reminders(self, now: datetime | None = None) -> int:
        """DM the owner of each incident whose promised next update is due and was not
        replaced by a newer one, each promise once across replicas. A resolved (or
        expired) incident's promise is dropped without a DM: closing it was the last word,
        and its page no longer offers Post status. Returns the reminders queued."""
        now = now or self.clock.now()
        sent = 0
        for incident_id in await self.store.due(now):
            stored = await self.incidents.get(incident_id)
            inc = stored.incident if stored is not None else None

            def notices(update: StatusUpdate, inc: Incident | None = inc) -> list[Notice]:
                if inc is None or inc.status is Status.RESOLVED or update.next_due is None:
                    return []
                member, why = self._owner(inc)
                return [self.reminder(inc, update, member, why)] if member else []

            _, queued = await self.store.claim_reminder(incident_id, now, notices)
            sent += len(queued)
        return sent
