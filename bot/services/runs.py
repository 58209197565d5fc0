"""Run reports and the delivery-deadline watch as the app sees them (issue #10 item 4): the
pure watch (bot.domain.deadline_watch), the Redis store and paging.

- `record` takes one run report from `POST /runs`: stores it, raises an alert through normal
  paging when a successful run breaks the completeness or accuracy SLO, and looks at the
  pipeline's day at once, so a late delivery closes its deadline alert without waiting for
  the next tick.
- `tick` (the `deadlines` background job) judges every pipeline with a deadline at now: past
  due, a notice in the pipeline's channel; past the freshness SLO too, an alert through
  `PagingService.ingest` (investor pages 24×7, experiment notifies in business hours); a
  delivery after that, the alert closed. Each is claimed once across replicas, and the watch
  is stateless, so a skipped tick or a restart only delays what is due.

A pipeline is watched once it has reported a run in the last 30 days: before its DAG
reports to `POST /runs`, a missing run means no integration, not a missed delivery, and
paging the Primary every morning for it would teach everyone to ignore the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.clock import Clock
from bot.config.models import Pipeline, TeamConfig
from bot.domain import incident as sm
from bot.domain.alerts import Alert
from bot.domain.deadline_watch import (
    DayRecord,
    WatchState,
    WatchStatus,
    run_history,
    to_alert,
    watch,
)
from bot.domain.durations import human_duration
from bot.domain.incident import AUTO, Incident, Signal, TransitionError
from bot.domain.notices import ChannelPost, Notice, ThreadReply
from bot.domain.runs import RunReport, local_at, quality_breach
from bot.domain.schedule import BeforeRotation
from bot.domain.timefmt import stamp
from bot.metrics import Metrics
from bot.services.paging import PagingService
from bot.store.runs import KEEP, NOTHING, PENDING, RunStore
from bot.store.runs import when as filed_at

log = logging.getLogger(__name__)

# A quality breach pages only for a run that ended this recently: a producer replaying last
# week's artefact rows must not page anyone for data that was dealt with back then. Older
# runs are stored, and `/oncall runs` shows their breach.
ALERT_WITHIN = timedelta(hours=24)
# How far ahead of the bot's clock a report may be filed: a DAG host's clock may run a
# little fast (the watch counts such a run once its end has come), but a run ending hours
# from now is a broken producer, and its day must not be judged by it.
AHEAD_MAX = timedelta(hours=1)


class RunRejected(ValueError):
    """A report the store cannot keep (too old to be kept at all)."""


@dataclass
class Recorded:
    """What taking one run report did, as `POST /runs` answers it."""

    stored: bool
    detail: str
    incident: str | None = None  # the quality alert's incident (opened or joined)
    closed: list[str] = field(default_factory=list)  # deadline alerts this report closed
    deadline: str | None = None  # the pipeline's day as the watch now sees it


class RunService:
    def __init__(
        self, config: TeamConfig, store: RunStore, paging: PagingService, clock: Clock
    ) -> None:
        self.config = config
        self.store = store
        self.paging = paging
        self.clock = clock
        self.zone = config.zone
        self.freshness = timedelta(minutes=config.policy.slo.freshness_max_minutes)
        self.metrics = Metrics()

    # --- POST /runs -------------------------------------------------------------------------

    async def record(self, run: RunReport, now: datetime) -> Recorded:
        """Store one report (its `pipeline` already a slug) and act on it. Raises
        RunRejected, RedisError. A rejection quotes the report's own times as sent: the
        producer knows them, and a year-9999 one has no local time to show."""
        if filed_at(run) < now - KEEP:
            raise RunRejected(
                f"run {run.run_id} is from {filed_at(run).isoformat()}, "
                f"older than the {KEEP.days} days of runs kept"
            )
        if filed_at(run) > now + AHEAD_MAX:
            field = "ended_at" if run.ended_at else "started_at"
            raise RunRejected(
                f"{field} {filed_at(run).isoformat()} is more than "
                f"{human_duration(AHEAD_MAX)} ahead of the bot's clock "
                f"({stamp(now, self.zone)}); check the DAG host's clock"
            )
        pipeline = self.config.pipeline(run.pipeline)
        put = await self.store.put(run, now)
        if not put.stored:
            old = put.previous
            assert old is not None and old.ended_at is not None  # only finished ones are kept
            why = "a running report does not replace a finished one"
            if run.ended_at is not None:
                why = f"that report ends later ({stamp(old.ended_at, self.zone)})"
            said = f"not stored: run {run.run_id} was already reported {old.status.value}; {why}"
            return Recorded(stored=False, detail=said)
        out = Recorded(stored=True, detail="stored")
        breach = quality_breach(run, self.config.policy.slo)
        if breach is not None:
            out.detail += f"; {breach}"
            prev = put.previous
            if prev is not None and quality_breach(prev, self.config.policy.slo) is not None:
                out.detail += ": already alerted for this run"  # a producer's retry
            elif run.ended_at is not None and run.ended_at < now - ALERT_WITHIN:
                out.detail += f": ended more than {ALERT_WITHIN.days} day ago, not alerted"
            else:
                try:
                    outcome = await self.paging.ingest(
                        self._quality_alert(pipeline, run, breach), now
                    )
                except BeforeRotation as exc:
                    out.detail += f": cannot page: {exc}"
                else:
                    out.incident = outcome.incident_id
                    out.detail += f": {outcome.detail}"
        try:
            state, out.closed = await self.check(pipeline, now)
        except (BeforeRotation, TransitionError) as exc:
            # The report is stored; the next tick of the watch retries what failed here.
            log.warning("runs: watching %s after a report failed: %s", pipeline.slug, exc)
            state = None
        out.deadline = state.message if state is not None else None
        return out

    def _quality_alert(self, pipeline: Pipeline, run: RunReport, breach: str) -> Alert:
        """One alert per run, under the signal of its first breach and with that value, so
        paging's own SLO check (`within_slo`) agrees. Keyed by signal, as monitoring's
        alerts are: a breach monitoring already raised is joined, not paged twice."""
        slo = self.config.policy.slo
        low = quality_breach(run.model_copy(update={"accuracy_drift_pp": None}), slo)
        signal = Signal.COMPLETENESS if low else Signal.ACCURACY
        value = run.completeness_pct if low else run.accuracy_drift_pp
        summary = f"{pipeline.name} run {run.run_id}: {breach}"
        return Alert(pipeline=pipeline.slug, signal=signal, summary=summary[:500], value=value)

    # --- the watch --------------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> None:
        """Judge every watched pipeline at `now`; one pipeline's failure does not keep the
        others from being judged, and is raised after them so the job's retry sees it."""
        now = now or self.clock.now()
        failed: Exception | None = None
        for pipeline in self.config.pipelines:
            try:
                await self.check(pipeline, now)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    async def check(self, pipeline: Pipeline, now: datetime) -> tuple[WatchState | None, list[str]]:
        """The pipeline's delivery state at `now`, with what it calls for done once: the
        notice, the alert, the closes. Returns the state (None: not watched) and the ids of
        the incidents this call closed."""
        if pipeline.deadline is None:
            return None, []
        day = now.astimezone(self.zone).date()
        start = local_at(day, time(0), self.zone)
        end = local_at(day + timedelta(days=1), time(0), self.zone)
        runs = await self.store.between(pipeline.slug, start, end)
        if not runs and not await self.store.reported_since(pipeline.slug, now - KEEP):
            return None, []
        state = watch(
            pipeline.slug,
            pipeline.deadline,
            runs,
            now,
            self.zone,
            self.freshness,
            name=pipeline.name,
        )
        if state.status is WatchStatus.LATE_NOTICE:
            await self._notice(pipeline, state, now)
        elif state.status is WatchStatus.LATE_ALERT:
            await self._alert(pipeline, state, now)
        closed = []
        for key in state.closes:
            incident_id = await self._close(pipeline, key, state, now)
            if incident_id is not None:
                closed.append(incident_id)
        return state, closed

    async def _notice(self, pipeline: Pipeline, state: WatchState, now: datetime) -> None:
        assert state.alert_key is not None and state.due is not None
        text = f":hourglass_flowing_sand: {state.message}."
        text += (
            f" An alert follows at {stamp(state.due + self.freshness, self.zone)} unless it lands."
        )
        post = ChannelPost(
            channel=pipeline.channel,
            text=text,
            about=f"{pipeline.slug} {state.alert_key}",
        )
        notices: list[Notice] = [post]
        if await self.store.notice_once(pipeline.slug, state.alert_key, notices, now):
            self.metrics.deadline_missed(pipeline.slug, "notice")

    async def _alert(self, pipeline: Pipeline, state: WatchState, now: datetime) -> None:
        alert, key = to_alert(state), state.alert_key
        assert alert is not None and key is not None
        if not await self.store.claim_alert(pipeline.slug, key):
            return
        try:
            outcome = await self.paging.ingest(alert, now)
        except Exception:
            # Let the next tick try again at once (a crash here instead lets the claim's
            # short lease lapse; a second try joins the incident if the first opened it).
            await self.store.release_alert(pipeline.slug, key)
            raise
        await self.store.alert_raised(pipeline.slug, key, outcome.incident_id)
        self.metrics.deadline_missed(pipeline.slug, "alert")

    async def _close(
        self, pipeline: Pipeline, key: str, state: WatchState, now: datetime
    ) -> str | None:
        """Close the incident the alert `key` opened, if it is still open; its id if this
        call closed it. Someone may have resolved it by hand: that is fine."""
        incident_id = await self.store.alerted(pipeline.slug, key)
        if incident_id in (None, PENDING, NOTHING):
            # Never raised (delivered before the SLO ran out), or being raised by another
            # replica right now: the next tick closes it then.
            return None
        assert incident_id is not None
        said = state.message if key == state.alert_key else f"{pipeline.name} delivered again"

        def close(inc: Incident) -> tuple[Incident, list[Notice]]:
            done, notices = sm.resolve(inc, AUTO, now)
            # The domain's "Resolved by {auto}." would name nobody: say what closed it.
            reply = ThreadReply(incident=inc.id, text=f"{said}: closed automatically.")
            return done, [reply, *(n for n in notices if not isinstance(n, ThreadReply))]

        try:
            await self.paging.apply(incident_id, close, now)
            closed: str | None = incident_id
        except TransitionError:
            closed = None  # resolved already (by hand, or by another replica just now)
        await self.store.alert_closed(pipeline.slug, key)
        return closed

    # --- /oncall runs -----------------------------------------------------------------------

    async def history(self, pipeline: Pipeline, days: int, now: datetime) -> list[DayRecord]:
        """One record per local day, oldest first, for the `days` days ending today."""
        assert pipeline.deadline is not None
        today = now.astimezone(self.zone).date()
        since = local_at(today - timedelta(days=days - 1), time(0), self.zone)
        until = local_at(today + timedelta(days=1), time(0), self.zone)
        runs = await self.store.between(pipeline.slug, since, until)
        return run_history(
            runs,
            days,
            pipeline=pipeline.slug,
            deadline=pipeline.deadline,
            now=now,
            zone=self.zone,
            name=pipeline.name,
            slo=self.config.policy.slo,
        )
