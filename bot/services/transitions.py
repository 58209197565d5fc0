"""Incident transitions: ACK, resolve, Escalate now, and the timers' tick that fires due
rungs and follows schedule changes.

Each transition is computed by the pure state machine and committed with a version check;
on a lost race the incident is re-read and the transition recomputed (or refused). The tick
reads, computes and commits every step it claimed in one round trip each, then retries one
by one only those that lost a race.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config.models import TeamConfig
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.domain import incident_log
from bot.domain.emails import wants_email
from bot.domain.home import incident_refreshes
from bot.domain.incident import Incident, TransitionError
from bot.domain.notices import IncidentMail, Notice, OpenRca
from bot.domain.rca import needs_rca
from bot.domain.schedule import BeforeRotation, Rung, Segment
from bot.metrics import Metrics
from bot.services.schedule import ScheduleService
from bot.store.incident_records import Commit, Stored
from bot.store.incidents import IncidentStore

CAS_ATTEMPTS = 8
# Each round claims up to this many due steps; the rest wait for the next round.
CLAIM_LIMIT = 200
MAX_ROUNDS = 50

Transition = Callable[[Incident], tuple[Incident, list[Notice]]]


@dataclass(frozen=True)
class Step:
    """A due step computed from the incident as read, ready to commit."""

    commit: Commit
    due: datetime  # when the work was due


class Transitions:
    def __init__(
        self,
        config: TeamConfig,
        schedule: ScheduleService,
        store: IncidentStore,
        wake: Callable[[], None],
    ) -> None:
        self.config = config
        self.schedule = schedule
        self.store = store
        self.wake = wake
        self.policy = config.policy.escalation
        # Email the team's list of investor Sev-1/Sev-2 incidents (SMTP_URL set); bot.deps.
        self.email = False
        self.metrics = Metrics()  # bot.deps wires the app's PromMetrics
        # The next due time as the last tick saw it (see take_next_due); None: not known.
        self._next_due: tuple[float | None] | None = None

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
            commit = self._plan(stored, transition, now, forced_by)
            if (await self.store.commit_many([commit], now))[0]:
                self._committed(commit)
                self.wake()
                return commit.after
        raise TransitionError(f"{incident_id} is changing too fast; try again")

    def _plan(
        self, stored: Stored, transition: Transition, now: datetime, forced_by: str | None
    ) -> Commit:
        """`transition` applied to the incident as read, with its log and what it owes."""
        after, notices = transition(stored.incident)
        events = incident_log.changes(stored.incident, after, now, forced_by)
        if after.resolved_at and not stored.incident.resolved_at:
            notices = [*notices, *self._on_resolve(after)]
        notices = [*notices, *incident_refreshes(self.config, stored.incident, after, notices)]
        return Commit(stored, after, notices, events)

    def _committed(self, c: Commit) -> None:
        before, after = c.before.incident, c.after
        if after.acked_at and not before.acked_at:
            self.metrics.acked((after.acked_at - after.opened_at).total_seconds())
        if after.stepped_at != before.stepped_at:
            self.metrics.rung_fired(after.pipeline)

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

    async def _ladder_step(
        self,
        stored: Stored,
        now: datetime,
        forced_by: str | None,
        seen: str | None,
        ladders: dict[str, tuple[Segment, list[Rung]]] | None = None,
    ) -> Transition:
        """What is due for this incident (a rung, a schedule change), with the ladder
        resolved at `now`; `ladders` keeps them by pipeline for a tick's other steps (each
        resolution checks the swaps' version: a round trip)."""
        slug = stored.incident.pipeline
        known = ladders.get(slug) if ladders is not None else None
        if known is None:
            known = await self.schedule.ladder(now, self.config.pipeline(slug))
            if ladders is not None:
                ladders[slug] = known
        seg, ladder = known

        def step(inc: Incident) -> tuple[Incident, list[Notice]]:
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

        return step

    async def _advance(
        self,
        incident_id: str,
        now: datetime,
        forced_by: str | None = None,
        seen: str | None = None,
    ) -> tuple[Incident, datetime]:
        """Apply what is due, re-reading on a lost race. Returns the incident after, and
        when the work was due."""
        stored = await self.store.get(incident_id)
        if stored is None:
            raise TransitionError(f"No incident {incident_id}")
        step = await self._ladder_step(stored, now, forced_by, seen)
        was_due: list[datetime] = []

        def noting(inc: Incident) -> tuple[Incident, list[Notice]]:
            was_due.append(inc.due or now)
            return step(inc)

        after = await self.apply(incident_id, noting, now, forced_by, read=stored)
        return after, was_due[-1]

    async def tick(self, now: datetime) -> list[tuple[str, datetime]]:
        """Do everything that is due (rungs, schedule changes); safe to run in many
        processes at once.

        Returns (incident id, when that work was due) for each transition this call made,
        so callers can measure lateness.
        """
        fired: list[tuple[str, datetime]] = []
        next_due: list[tuple[float | None] | None] = []
        for _ in range(MAX_ROUNDS):
            claimed, first = await self.store.claim_read(now, CLAIM_LIMIT)
            done, after = await self._fire(claimed, now, first)
            fired += done
            next_due.append(after)
            if len(claimed) < CLAIM_LIMIT:
                break
        # Known only when every round was: the last round's view is the latest.
        self._next_due = next_due[-1] if None not in next_due else None
        if fired:
            # Once, after all are committed: delivery then sees the whole batch and folds
            # one person's pages into one DM.
            self.wake()
        return fired

    def take_next_due(self) -> tuple[bool, float | None]:
        """(known, when the next step is due in epoch seconds or None for none) as the last
        tick left the due index, once; not known after a tick that took the slow path."""
        known, self._next_due = self._next_due, None
        return (False, None) if known is None else (True, known[0])

    async def _fire(
        self, claimed: list[tuple[str, Stored | None]], now: datetime, first: float | None
    ) -> tuple[list[tuple[str, datetime]], tuple[float | None] | None]:
        """The claimed steps, read with their claim: computed (one ladder per pipeline) and
        committed in one round trip. Returns what fired and, unless a step took the slow
        path, the next due time: `first` (the due index's first score after the claim) or
        a committed step's own next one, whichever is sooner."""
        steps: list[Step] = []
        ladders: dict[str, tuple[Segment, list[Rung]]] = {}
        slow = False
        for incident_id, stored in claimed:
            try:
                if stored is None:
                    raise TransitionError(f"No incident {incident_id}")
                step = await self._ladder_step(stored, now, None, None, ladders)
                commit = self._plan(stored, step, now, None)
            except (TransitionError, BeforeRotation):
                # ACKed, resolved or rescheduled meanwhile: put the index right.
                await self._reindex(incident_id)
                slow = True
                continue
            steps.append(Step(commit, stored.incident.due or now))
        fired: list[tuple[str, datetime]] = []
        done = await self.store.commit_many([s.commit for s in steps], now)
        dues = [] if first is None else [first]
        for s, ok in zip(steps, done, strict=True):
            incident_id = s.commit.after.id
            if ok:
                self._committed(s.commit)
                fired.append((incident_id, s.due))
                after = s.commit.after
                if after.open and after.due is not None:
                    dues.append(after.due.timestamp())
                continue
            # Changed since it was read (an ACK, an alert joining): the usual path, re-read.
            slow = True
            try:
                _, at = await self._advance(incident_id, now)
                fired.append((incident_id, at))
            except (TransitionError, BeforeRotation):
                await self._reindex(incident_id)
        return fired, None if slow else (min(dues, default=None),)

    async def _reindex(self, incident_id: str) -> None:
        stored = await self.store.get(incident_id)
        inc = stored.incident if stored else None
        await self.store.reschedule(
            incident_id,
            inc.due if inc and inc.open and inc.status is sm.Status.TRIGGERED else None,
        )

    async def open_incidents(self) -> list[Stored]:
        rows = []
        for incident_id in await self.store.open_ids():
            stored = await self.store.get(incident_id)
            if stored is not None and stored.incident.open:
                rows.append(stored)
        return rows
