"""Paging: open incidents from `/page` and alerts, joining an open one where it matches.
The transitions and the timers' tick are bot/services/transitions.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config.models import Pipeline, TeamConfig
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.domain import incident_log
from bot.domain.alerts import Alert, default_severity, paging_mode, within_slo
from bot.domain.calendar import HolidayCalendar
from bot.domain.emails import wants_email
from bot.domain.home import incident_refreshes
from bot.domain.incident import Incident, Mode, Severity, TransitionError
from bot.domain.notices import IncidentChecklist, IncidentMail
from bot.domain.schedule import Rung
from bot.services.schedule import ScheduleService
from bot.services.transitions import Transitions
from bot.store.incident_records import Stored
from bot.store.incidents import JOIN_COUNT, IncidentStore, JoinReply

log = logging.getLogger(__name__)

# At most one thread reply per incident this often about the alerts that joined it: a storm
# must not hold the channel behind Slack's one post per second (the rest are counted in).
JOIN_REPLY_EVERY = timedelta(minutes=1)

# (pipeline, the alert as recorded, now) → the suppression that swallowed it, or None
Suppressed = Callable[[str, Mapping[str, Any], datetime], Awaitable[str | None]]


@dataclass
class Outcome:
    incident_id: str | None
    created: bool
    mode: Mode | None
    detail: str


def _value(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def join_reply(summary: str, value: float | None, by: str | None = None) -> JoinReply:
    """What a joining alert (or, `by` someone, a second `/page`) says in the thread: the
    page shows only the count, so this is where each join's summary and value are read."""
    what = f"'{summary}'"
    if value is not None:
        what += f" (value {_value(value)})"
    if by is not None:
        what += f" from {by}"
    noun = "page" if by is not None else "alert"
    return JoinReply(
        now=f"Another {noun} joined: {what}",
        one=f"1 more {noun} joined: {what}",
        many=f"{JOIN_COUNT} more {noun}s joined: latest {what}",
        every=JOIN_REPLY_EVERY,
    )


class PagingService(Transitions):
    """Opens incidents from `/page` and alerts; the transitions (ACK, resolve, the timers'
    tick) are bot/services/transitions.py."""

    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        schedule: ScheduleService,
        store: IncidentStore,
        wake: Callable[[], None],
        checklists: bool,
    ) -> None:
        super().__init__(config, schedule, store, wake)
        self.calendar = calendar
        self.checklists = checklists
        # Counts an alert against a live suppression of its pipeline (maintenance window)
        # and returns that suppression's id, or None; set by bot.deps.
        self.suppressed: Suppressed | None = None

    async def _open(
        self,
        pipeline: Pipeline,
        severity: Severity,
        summary: str,
        signal: sm.Signal | None,
        dedupe_key: str,
        mode: Mode,
        opened_by: str,
        now: datetime,
        value: float | None = None,
    ) -> tuple[bool, str]:
        rule = self.config.policy.severity[severity.value]
        ladder: list[Rung] = []
        boundary = None
        if mode is Mode.PAGE:
            seg, ladder = await self.schedule.ladder(now, pipeline)
            boundary = seg.end
            if not rule.pages:
                # This severity only notifies: the channel hears of it, for the Primary.
                mode = Mode.NOTIFY
                ladder = ladder[:1]
        close_at = None
        if mode is Mode.BEST_EFFORT:
            # Out of hours nobody may look before the next business day: stay open through
            # that day's business hours, not just `notify_autoclose`.
            local = now.astimezone(self.config.zone)
            _, window_end = self.calendar.next_business_window(
                local, self.config.policy.business_hours
            )
            close_at = max(now + self.policy.notify_autoclose, window_end)
        inc, notices = esc.open_incident(
            id="pending",
            pipeline=pipeline.slug,
            severity=severity,
            summary=summary,
            signal=signal,
            dedupe_key=dedupe_key,
            mode=mode,
            ladder=ladder,
            now=now,
            opened_by=opened_by,
            policy=self.policy,
            checklist=self.checklists,
            rungs=list(rule.rungs),
            repeat=rule.repeats,
            boundary=boundary,
            unreachable=self.unreachable(),
            close_at=close_at,
        )
        if self.email and wants_email(inc, self.config):
            notices.append(IncidentMail(incident=inc.id, event="opened"))
        # The Home tabs of those it pages list it (a joining alert changes nobody's).
        notices += incident_refreshes(self.config, None, inc, notices)
        by = None
        if opened_by != "alert":
            # Initials become a mention when sent; a non-roster opener is stored as one.
            by = f"{{{opened_by}}}" if opened_by in self.roster else opened_by
        created, incident_id = await self.store.open_or_join(
            inc,
            notices,
            now,
            value,
            events=incident_log.opened(inc),
            join_event=incident_log.alert_joined(now),
            join_reply=join_reply(summary, value, by),
        )
        self.wake()
        if created:
            self.metrics.page_opened(pipeline.slug, severity.value)
        return created, incident_id

    async def page(
        self, pipeline: Pipeline, severity: Severity, summary: str, by: str, now: datetime
    ) -> tuple[bool, str]:
        """A person's page always walks the ladder: a human decided it needs a human.
        A second `/page` for a pipeline with an open manual page joins it."""
        return await self._open(
            pipeline, severity, summary, None, f"{pipeline.slug}:page", Mode.PAGE, by, now
        )

    async def ingest(self, alert: Alert, now: datetime) -> Outcome:
        pipeline = self.config.pipeline(alert.pipeline)
        if self.suppressed is not None:
            held = await self.suppressed(pipeline.slug, alert.model_dump(mode="json"), now)
            if held is not None:
                self.metrics.alert_suppressed(pipeline.slug)
                return Outcome(None, False, None, f"suppressed by {held}: recorded, nobody paged")
        if within_slo(alert, self.config.policy.slo):
            await self.store.record_quiet_alert(alert.model_dump(mode="json"))
            return Outcome(None, False, None, "within SLO: recorded, nobody paged")
        mode = paging_mode(
            pipeline, self.config, self.calendar, now, self.config.policy.business_hours
        )
        # A notification must not swallow a later alert that should page (or the reverse):
        # alerts join only an incident handled the same way.
        key = alert.key() if mode is Mode.PAGE else f"{alert.key()}:{mode.value}"
        # Most alerts of a storm join an incident already open: that takes one call, before
        # any schedule work. A join that loses a race to a close opens anew just below.
        joined = await self.store.join(
            key,
            now,
            alert.value,
            incident_log.alert_joined(now),
            join_reply(alert.summary, alert.value),
        )
        if joined is not None:
            self.wake()
            return Outcome(joined, False, mode, "joined the open incident")
        created, incident_id = await self._open(
            pipeline,
            alert.severity or default_severity(pipeline),
            alert.summary,
            alert.signal,
            key,
            mode,
            "alert",
            now,
            alert.value,
        )
        detail = "opened" if created else "joined the open incident"
        return Outcome(incident_id, created, mode, detail)

    async def open_checklist(self, incident_id: str, now: datetime) -> Incident:
        """Someone pressed "Open checklist" on a page: queue its checklist for the thread.
        Raises TransitionError when there is nothing to open."""
        stored = await self.store.get(incident_id)
        if stored is None:
            raise TransitionError(f"No incident {incident_id}")
        if stored.checklist:
            raise TransitionError(f"{incident_id}'s checklist is already in its thread")
        if not stored.incident.open:
            raise TransitionError(f"{incident_id} is resolved")
        await self.store.outbox.enqueue(
            [IncidentChecklist(incident=incident_id, requested=True)], now
        )
        return stored.incident

    async def stored(self, incident_id: str) -> Stored | None:
        return await self.store.get(incident_id)

    async def stored_many(self, ids: list[str]) -> list[Stored | None]:
        return await self.store.get_many(ids)

    async def set_message(self, incident_id: str, channel: str, ts: str) -> None:
        await self.store.set_message(incident_id, channel, ts)

    async def set_checklist(self, incident_id: str, run_id: str) -> str:
        """Record the page's checklist run unless one is recorded; returns the one kept."""
        return await self.store.set_checklist(incident_id, run_id)

    async def open_page(self, offset: int, count: int) -> tuple[int, list[tuple[Stored, Any]]]:
        """(open in all, `count` from `offset`, most urgent first, each with its checklist
        record as stored): one round trip whatever the number open."""
        return await self.store.page_open(offset, count)
