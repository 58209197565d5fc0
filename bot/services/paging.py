"""Paging: open incidents from `/page` and alerts, run their transitions, fire due steps.

Each transition is computed by the pure state machine and committed with a version check;
on a lost race the incident is re-read and the transition recomputed (or refused).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from bot.domain.notices import IncidentChecklist, IncidentMail, Notice, OpenRca
from bot.domain.rca import needs_rca
from bot.domain.schedule import BeforeRotation, Rung
from bot.metrics import Metrics
from bot.services.schedule import ScheduleService
from bot.store.incidents import JOIN_COUNT, IncidentStore, JoinReply, Stored

log = logging.getLogger(__name__)
CAS_ATTEMPTS = 8
# Each round claims up to 200 due steps; the rest wait for the next tick.
# Due steps of one claim handled at once (each is a few Redis round trips).
TICK_CONCURRENCY = 32
MAX_ROUNDS = 50

# At most one thread reply per incident this often about the alerts that joined it: a storm
# must not hold the channel behind Slack's one post per second (the rest are counted in).
JOIN_REPLY_EVERY = timedelta(minutes=1)

Transition = Callable[[Incident], tuple[Incident, list[Notice]]]
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


class PagingService:
    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        schedule: ScheduleService,
        store: IncidentStore,
        wake: Callable[[], None],
        checklists: bool,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.schedule = schedule
        self.store = store
        self.wake = wake
        self.checklists = checklists
        self.policy = config.policy.escalation
        # Counts an alert against a live suppression of its pipeline (maintenance window)
        # and returns that suppression's id, or None; set by bot.deps.
        self.suppressed: Suppressed | None = None
        # Email the team's list of investor Sev-1/Sev-2 incidents (SMTP_URL set); bot.deps.
        self.email = False
        self.metrics = Metrics()  # bot.deps wires the app's PromMetrics

    def unreachable(self) -> dict[str, str]:
        """Members no page can reach, known from the configuration alone."""
        return {
            m.initials: "no Slack ID in schedules/team.toml"
            for m in self.config.members
            if not m.slack_id
        }

    @property
    def roster(self) -> list[str]:
        return [m.initials for m in self.config.members]

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

    async def apply(
        self,
        incident_id: str,
        transition: Transition,
        now: datetime,
        forced_by: str | None = None,
        read: Stored | None = None,
    ) -> Incident:
        """Commit `transition` exactly once, with what it did in the incident's log
        (`forced_by`: who pressed Escalate now); raises TransitionError if it does not
        apply. `read`: the incident as the caller just read it, tried first (the commit's
        version check sends a stale one round again with a fresh read)."""
        for _ in range(CAS_ATTEMPTS):
            stored, read = read or await self.store.get(incident_id), None
            if stored is None:
                raise TransitionError(f"No incident {incident_id}")
            after, notices = transition(stored.incident)
            events = incident_log.changes(stored.incident, after, now, forced_by)
            if after.resolved_at and not stored.incident.resolved_at:
                notices = [*notices, *self._on_resolve(after)]
            notices = [*notices, *incident_refreshes(self.config, stored.incident, after, notices)]
            if await self.store.commit(stored, after, notices, now, events):
                self.wake()
                if after.acked_at and not stored.incident.acked_at:
                    self.metrics.acked((after.acked_at - after.opened_at).total_seconds())
                return after
        raise TransitionError(f"{incident_id} is changing too fast; try again")

    def _on_resolve(self, inc: Incident) -> list[Notice]:
        """What resolving `inc` owes besides the thread: its RCA, and the list's email."""
        out: list[Notice] = []
        if needs_rca(inc, self.config):
            out.append(OpenRca(incident=inc.id))
        if self.email and wants_email(inc, self.config):
            out.append(IncidentMail(incident=inc.id, event="resolved"))
        return out

    async def ack(self, incident_id: str, who: str, now: datetime) -> Incident:
        return await self.apply(incident_id, lambda i: sm.acknowledge(i, who, now), now)

    async def resolve(self, incident_id: str, who: str, now: datetime) -> Incident:
        return await self.apply(incident_id, lambda i: sm.resolve(i, who, now), now)

    async def escalate(
        self, incident_id: str, who: str, now: datetime, seen: str | None = None
    ) -> Incident:
        """Escalate now; `seen` is the escalation position the clicker's message showed."""
        return (await self._advance(incident_id, now, forced_by=who, seen=seen))[0]

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

    async def schedule_changes_at(self, at: datetime, now: datetime) -> None:
        """A swap was approved or cancelled: every unACKed page looks at its ladder again at
        `at`, so whoever the swap puts in or out of a role hears of it then."""
        for stored in await self.open_incidents():
            with contextlib.suppress(TransitionError):
                await self.apply(stored.incident.id, lambda i: sm.recheck_at(i, at), now)

    async def unreachable_member(
        self, incident_id: str, member: str, reason: str, now: datetime
    ) -> None:
        """Delivery could not reach `member` (Slack refused the DM): the thread says so, and
        the next rung fires at once when nobody on the current one can be reached."""
        with contextlib.suppress(TransitionError):
            await self.apply(
                incident_id, lambda i: sm.mark_unreachable(i, member, reason, now), now
            )

    async def _advance(
        self,
        incident_id: str,
        now: datetime,
        forced_by: str | None = None,
        seen: str | None = None,
    ) -> tuple[Incident, datetime]:
        """Apply what is due (a rung, a schedule change), with the ladder resolved at `now`.
        Returns the incident after, and when the work was due."""
        stored = await self.store.get(incident_id)
        if stored is None:
            raise TransitionError(f"No incident {incident_id}")
        pipeline = self.config.pipeline(stored.incident.pipeline)
        seg, ladder = await self.schedule.ladder(now, pipeline)
        was_due: list[datetime] = []
        stepped: list[datetime | None] = []

        def step(inc: Incident) -> tuple[Incident, list[Notice]]:
            was_due.append(inc.due or now)
            stepped.append(inc.stepped_at)
            return esc.advance(
                inc,
                now,
                self.policy,
                ladder,
                boundary=seg.end,
                change=seg.reasons[-1],
                roster=self.roster,
                unreachable=self.unreachable(),
                forced_by=forced_by,
                seen=seen,
            )

        # The incident read above goes to apply: reading it twice was an eighth of a rung's
        # CPU under bench/arq_timers.py's storm (issue #14).
        after = await self.apply(incident_id, step, now, forced_by, read=stored)
        if after.stepped_at != stepped[-1]:
            self.metrics.rung_fired(after.pipeline)
        return after, was_due[-1]

    async def tick(self, now: datetime) -> list[tuple[str, datetime]]:
        """Do everything that is due (rungs, schedule changes); safe to run in many
        processes at once.

        Returns (incident id, when that work was due) for each transition this call made,
        so callers can measure lateness.
        """
        fired: list[tuple[str, datetime]] = []
        # The claimed steps run side by side, a few dozen at a time: one after the other,
        # each waiting on its Redis round trips, they fell behind once delivery shared the
        # event loop (issue #14: 45 % of 10,000 rungs over 60 s not fired 15 s late).
        limit = asyncio.Semaphore(TICK_CONCURRENCY)

        async def step(incident_id: str) -> None:
            async with limit:
                try:
                    _, at = await self._advance(incident_id, now)
                    fired.append((incident_id, at))
                except (TransitionError, BeforeRotation):
                    # ACKed, resolved or rescheduled meanwhile: put the index right.
                    await self._reindex(incident_id)

        for _ in range(MAX_ROUNDS):
            due = await self.store.claim_due(now)
            if not due:
                break
            await asyncio.gather(*(step(incident_id) for incident_id in due))
        return fired

    async def _reindex(self, incident_id: str) -> None:
        stored = await self.store.get(incident_id)
        inc = stored.incident if stored else None
        await self.store.reschedule(
            incident_id,
            inc.due if inc and inc.open and inc.status is sm.Status.TRIGGERED else None,
        )

    async def stored(self, incident_id: str) -> Stored | None:
        return await self.store.get(incident_id)

    async def set_message(self, incident_id: str, channel: str, ts: str) -> None:
        await self.store.set_message(incident_id, channel, ts)

    async def set_checklist(self, incident_id: str, run_id: str) -> str:
        """Record the page's checklist run unless one is recorded; returns the one kept."""
        return await self.store.set_checklist(incident_id, run_id)

    async def open_page(self, offset: int, count: int) -> tuple[int, list[tuple[Stored, Any]]]:
        """(open in all, `count` from `offset`, most urgent first, each with its checklist
        record as stored): one round trip whatever the number open."""
        return await self.store.page_open(offset, count)

    async def open_incidents(self) -> list[Stored]:
        rows = []
        for incident_id in await self.store.open_ids():
            stored = await self.store.get(incident_id)
            if stored is not None and stored.incident.open:
                rows.append(stored)
        return rows
