"""The delivery-deadline watch (issue #10 item 4): did each pipeline's data land when due?

Pure: run reports, a deadline and the instant go in, a verdict comes out; the instant is
always an argument. The watcher that calls `watch` on a timer keeps no memory between ticks:
every verdict is recomputed from the day's run reports, so a restart, a skipped tick or a
run report that reaches us late all give the same answer, and the keys a verdict carries let
the caller post, page and close idempotently. Only runs that ended by `now` count, so a
day's log replays to any instant (a DAG host's clock running ahead delays its run by the
skew, never more than a tick or two).

Daily form: on time until `due`; a channel notice past it; an alert through normal paging
once the freshness SLO (15 min) is also spent; a later successful run closes it.
Rolling form: an alert when orders have waited longer than `max_gap` during the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.config.models import SloPolicy
from bot.domain.alerts import Alert
from bot.domain.durations import human_duration
from bot.domain.incident import Signal
from bot.domain.runs import (
    Deadline,
    RunReport,
    RunStatus,
    deadline_for,
    local_at,
    quality_breach,
    window_bounds,
)
from bot.domain.timefmt import plural

MAX_HISTORY_DAYS = 90  # `/oncall runs <pipeline> <days>` must not ask for unbounded work


class WatchStatus(StrEnum):
    ON_TIME = "on_time"  # not due yet, or delivered by the due time: nothing to do
    LATE_NOTICE = "late_notice"  # past due, within the freshness SLO: say so in the channel
    LATE_ALERT = "late_alert"  # past the freshness SLO: raise an alert, normal paging
    DELIVERED_LATE = "delivered_late"  # a late delivery arrived: close what `closes` names


class Gap(BaseModel):
    """A stretch with nothing delivered beyond `max_gap`; `end` is None while it lasts."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime | None = None
    run_id: str | None = None  # the run that ended it

    @property
    def key(self) -> str:
        # One incident per gap; seconds, since two gaps may begin in the same minute.
        return f"gap-{self.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


class WatchState(BaseModel):
    model_config = ConfigDict(frozen=True)

    pipeline: str
    status: WatchStatus
    message: str
    due: datetime | None = None
    late_by: timedelta | None = None
    delivered_at: datetime | None = None
    run_id: str | None = None
    # The key of the alert this state raises (LATE_ALERT) or ends (DELIVERED_LATE); the
    # late notice uses it too, so the channel hears once per day or gap.
    alert_key: str | None = None
    # Alerts to close. Closing is idempotent, so a late delivery always names its key: the
    # alert may have been raised on a tick before the run's report reached us.
    closes: tuple[str, ...] = ()
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True)
class _Day:
    """One pipeline's local day as known at `at`: what every verdict below reads."""

    slug: str
    name: str
    deadline: Deadline
    day: date
    at: datetime
    zone: ZoneInfo
    slo: timedelta
    runs: list[RunReport]  # this pipeline's runs of `day` ended (or started) by `at`, in order

    @classmethod
    def of(
        cls,
        runs: Iterable[RunReport],
        slug: str,
        name: str | None,
        deadline: Deadline,
        day: date,
        at: datetime,
        zone: ZoneInfo,
        slo: timedelta,
    ) -> _Day:
        def when(r: RunReport) -> datetime:
            return r.ended_at or r.started_at

        known = [
            r
            for r in runs
            if r.pipeline == slug and when(r) <= at and when(r).astimezone(zone).date() == day
        ]
        return cls(slug, name or slug, deadline, day, at, zone, slo, sorted(known, key=when))

    def hm(self, at: datetime) -> str:
        return f"{at.astimezone(self.zone):%H:%M}"

    def state(self, status: WatchStatus, message: str, **fields: Any) -> WatchState:
        return WatchState(pipeline=self.slug, status=status, message=message, **fields)

    def why(self) -> str:
        """Why nothing was delivered, when the runs say: the newest run failed or still runs."""
        last = self.runs[-1] if self.runs else None
        if last is None or last.status is RunStatus.SUCCESS:
            return ""
        if last.ended_at is not None:
            return f" (run {last.run_id} failed at {self.hm(last.ended_at)})"
        return f" (run {last.run_id} running since {self.hm(last.started_at)})"


def _daily(d: _Day) -> WatchState:
    due = deadline_for(d.day, d.deadline, d.zone)
    key = f"deadline-{d.day.isoformat()}"
    done = next((r for r in d.runs if r.status is RunStatus.SUCCESS and r.ended_at), None)
    if done is not None and done.ended_at is not None:
        ended = done.ended_at
        said = f"{d.name} delivered {d.hm(ended)} (run {done.run_id})"
        at = {"due": due, "delivered_at": ended, "run_id": done.run_id}
        if ended <= due:
            return d.state(WatchStatus.ON_TIME, f"{said}, due {d.hm(due)}", **at)
        late = ended - due
        said += f", {human_duration(late)} after its {d.hm(due)} deadline"
        return d.state(
            WatchStatus.DELIVERED_LATE, said, late_by=late, alert_key=key, closes=(key,), **at
        )
    if d.at <= due:  # "by 06:30" includes 06:30
        return d.state(WatchStatus.ON_TIME, f"{d.name} due {d.hm(due)}{d.why()}", due=due)
    late = d.at - due
    said = f"{d.name} not delivered, due {d.hm(due)}"
    # Strictly beyond, as `within_slo` reads "freshness ≤ 15 min": 15 min late still meets it.
    if late <= d.slo:
        status = WatchStatus.LATE_NOTICE
        said += d.why()
    else:
        status = WatchStatus.LATE_ALERT
        said += f": {human_duration(late)} late, beyond the {human_duration(d.slo)} freshness SLO"
        said += d.why()
    return d.state(status, said, due=due, late_by=late, alert_key=key)


def _gaps(
    d: _Day, max_gap: timedelta, opens: datetime, until: datetime
) -> tuple[list[Gap], RunReport | None]:
    """Every gap in [opens, until] and the last run that delivered something new.

    `ref` is the close time of the oldest order not yet delivered. A run takes the orders
    closed before it started, so a delivery moves `ref` to the run's *start*, not its end:
    runs every 10 min that take 8 min leave an order waiting up to 18 min, which breaks
    "within 15 min of order close" even though a run lands every 10 min.
    """
    ref, last, gaps = opens, None, []
    for r in d.runs:
        if r.status is not RunStatus.SUCCESS or r.ended_at is None:
            continue
        if r.ended_at < opens or r.ended_at > until or r.started_at <= ref:
            continue  # outside the window, or it started too early to carry anything new
        if r.ended_at - ref > max_gap:
            gaps.append(Gap(start=ref, end=r.ended_at, run_id=r.run_id))
        ref, last = r.started_at, r
    if until - ref > max_gap:
        gaps.append(Gap(start=ref))
    return gaps, last


def _rolling(d: _Day) -> WatchState:
    max_gap = d.deadline.max_gap
    assert max_gap is not None
    limit = human_duration(max_gap)
    opens, shuts = window_bounds(d.day, d.deadline, d.zone)
    if d.at < opens:
        said = f"{d.name}: watched {d.hm(opens)}–{d.hm(shuts)}; the window is not open yet"
        return d.state(WatchStatus.ON_TIME, said)
    until = min(d.at, shuts)  # after the window a gap stops growing but stays open
    gaps, last = _gaps(d, max_gap, opens, until)
    common: dict[str, Any] = {
        "gaps": tuple(gaps),
        "closes": tuple(g.key for g in gaps if g.end is not None),
        "delivered_at": last and last.ended_at,
        "run_id": last and last.run_id,
    }
    g = gaps[-1] if gaps else None
    if g is not None and g.end is None:
        said = (
            f"{d.name}: nothing delivered for orders closed since {d.hm(g.start)}: "
            f"{human_duration(until - g.start)}, more than {limit}{d.why()}"
        )
        due = g.start + max_gap
        return d.state(
            WatchStatus.LATE_ALERT, said, due=due, late_by=until - due, alert_key=g.key, **common
        )
    if g is not None and g.end is not None and last is not None and g.run_id == last.run_id:
        said = (
            f"{d.name} delivered again {d.hm(g.end)} (run {g.run_id}), "
            f"{human_duration(g.end - g.start)} after {d.hm(g.start)}, more than {limit}"
        )
        due = g.start + max_gap
        return d.state(
            WatchStatus.DELIVERED_LATE,
            said,
            due=due,
            late_by=g.end - due,
            alert_key=g.key,
            **common,
        )
    said = f"{d.name}: no delivery yet since {d.hm(opens)}"
    if last is not None and last.ended_at is not None:
        said = f"{d.name}: last delivered {d.hm(last.ended_at)} (run {last.run_id})"
    said += f", within {limit}" + ("" if d.at < shuts else "; window closed")
    return d.state(WatchStatus.ON_TIME, said, **common)


def _judge(d: _Day) -> WatchState:
    return _rolling(d) if d.deadline.rolling else _daily(d)


def _aware_now(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def watch(
    pipeline_slug: str,
    deadline: Deadline,
    runs_today: Sequence[RunReport],
    now: datetime,
    zone: ZoneInfo,
    freshness_slo: timedelta,
    *,
    name: str | None = None,
) -> WatchState:
    """The pipeline's delivery state at `now` for the local day of `now` in `zone`.

    `runs_today` may hold more (other pipelines, other days, runs ending after `now`): only
    this pipeline's runs of today known by `now` count. `name` (the display name, e.g.
    "Growth — Aggregate") goes in messages; the slug otherwise. A successful run counts as
    delivered whatever its quality: `quality_breach` reports that separately.
    `freshness_slo` (policy: 15 min) splits notice from alert in the daily form only: the
    rolling form's `max_gap` is already its whole allowance.
    """
    _aware_now(now)
    day = now.astimezone(zone).date()
    return _judge(_Day.of(runs_today, pipeline_slug, name, deadline, day, now, zone, freshness_slo))


def to_alert(state: WatchState) -> Alert | None:
    """The alert a LATE_ALERT raises through normal paging (`/alerts` semantics).

    No `value`: the watch already compared against the SLO, and a second comparison by
    `within_slo` (with a gap's own threshold) could only wrongly record it as within.
    """
    if state.status is not WatchStatus.LATE_ALERT:
        return None
    return Alert(
        pipeline=state.pipeline,
        signal=Signal.FRESHNESS,
        summary=state.message[:500],
        dedupe_key=state.alert_key,
    )


class DayOutcome(StrEnum):
    MET = "met"  # delivered by the due time / no gap beyond max_gap
    LATE = "late"  # missed, but delivered later that day
    MISSED = "missed"  # runs were reported, nothing delivered in time (rolling: gaps)
    NO_RUN = "no_run"  # no run reported at all: DAG paused, cron misfire, lost artefacts
    PENDING = "pending"  # today, not decided yet


class DayRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: date
    outcome: DayOutcome
    detail: str
    runs: int
    failed: int
    delivered_at: datetime | None = None
    run_id: str | None = None
    late_by: timedelta | None = None
    metric_version: str | None = None


def _outcome(d: _Day, state: WatchState) -> DayOutcome:
    if d.deadline.rolling:
        over = d.at >= window_bounds(d.day, d.deadline, d.zone)[1]
        if not d.runs:
            return DayOutcome.NO_RUN if over or state.gaps else DayOutcome.PENDING
        if state.gaps:
            return DayOutcome.MISSED
        if not over:
            return DayOutcome.PENDING
        # Nothing delivered yet no gap: only a window shorter than max_gap does that.
        return DayOutcome.MET if state.delivered_at else DayOutcome.MISSED
    if state.status is WatchStatus.ON_TIME:
        return DayOutcome.MET if state.delivered_at else DayOutcome.PENDING
    if state.status is WatchStatus.DELIVERED_LATE:
        return DayOutcome.LATE
    return DayOutcome.MISSED if d.runs else DayOutcome.NO_RUN


def _detail(d: _Day, state: WatchState, outcome: DayOutcome) -> str:
    got = state.delivered_at and f"delivered {d.hm(state.delivered_at)} (run {state.run_id})"
    if outcome is DayOutcome.NO_RUN:
        return "no run reported"
    if state.gaps:
        shuts = window_bounds(d.day, d.deadline, d.zone)[1]
        longest = max((g.end or min(d.at, shuts)) - g.start for g in state.gaps)
        limit = human_duration(d.deadline.max_gap or timedelta(0))
        gaps = plural(len(state.gaps), "gap")
        return f"{gaps} beyond {limit}, longest {human_duration(longest)}"
    if outcome is DayOutcome.LATE and state.late_by is not None:
        return f"{got}, {human_duration(state.late_by)} late"
    if outcome is DayOutcome.MISSED:
        return f"{plural(len(d.runs), 'run')}, nothing delivered{d.why()}"
    if got:
        return str(got)
    return f"due {d.hm(state.due)}{d.why()}" if state.due else "window not over"


def run_history(
    runs: Sequence[RunReport],
    days: int = 7,
    *,
    pipeline: str,
    deadline: Deadline,
    now: datetime,
    zone: ZoneInfo,
    name: str | None = None,
    slo: SloPolicy | None = None,
) -> list[DayRecord]:
    """One record per local day, oldest first, for the `days` days ending today (`/oncall
    runs <pipeline>`). Today is judged at `now`, earlier days at their end. With `slo`, a
    delivering run's quality breach joins its day's detail, and so does a metric version
    that changed from the day before (runbook: "Definition version").
    """
    _aware_now(now)
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise ValueError(f"days must be 1 to {MAX_HISTORY_DAYS}, got {days}")
    today = now.astimezone(zone).date()
    out: list[DayRecord] = []
    previous: str | None = None
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        at = min(now, local_at(day + timedelta(days=1), time(0), zone))
        # The freshness SLO only splits notice from alert, which a day record does not show.
        d = _Day.of(runs, pipeline, name, deadline, day, at, zone, timedelta(0))
        state = _judge(d)
        outcome = _outcome(d, state)
        detail = _detail(d, state, outcome)
        run = next((r for r in d.runs if r.run_id == state.run_id), None)
        version = run.metric_version if run else None
        if version and previous and version != previous:
            detail += f"; metric version {previous} → {version}"
        previous = version or previous
        breach = quality_breach(run, slo) if run is not None and slo is not None else None
        detail += f"; {breach}" if breach else ""
        late = state.late_by if outcome is DayOutcome.LATE else None
        failed = sum(r.status is RunStatus.FAILED for r in d.runs)
        out.append(
            DayRecord(
                day=day,
                outcome=outcome,
                detail=detail,
                runs=len(d.runs),
                failed=failed,
                delivered_at=state.delivered_at,
                run_id=state.run_id,
                late_by=late,
                metric_version=version,
            )
        )
    return out
