"""Table tests of the delivery-deadline watch: run reports, deadlines, verdicts, history."""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import TeamConfig
from bot.domain.alerts import within_slo
from bot.domain.deadline_watch import (
    DayOutcome,
    WatchStatus,
    run_history,
    to_alert,
    watch,
)
from bot.domain.incident import Signal
from bot.domain.runs import (
    Deadline,
    RunReport,
    deadline_for,
    describe_errors,
    quality_breach,
)
from tests.conftest import IST, ist

SLO = timedelta(minutes=15)
GROWTH = Deadline(due="06:30")
UNIT = Deadline.model_validate({"max_gap": "15m", "window": {"start": "09:00", "end": "19:00"}})
DAY = "2025-08-26"


def run(
    start: str,
    end: str | None,
    status: str = "success",
    pipeline: str = "growth-agg",
    run_id: str | None = None,
    **extra: Any,
) -> RunReport:
    """A run of DAY (or of the day in `start` when it has one) in IST."""

    def at(t: str) -> str:
        return (t if " " in t else f"{DAY} {t}").replace(" ", "T") + "+05:30"

    fields: dict[str, Any] = {
        "pipeline": pipeline,
        "run_id": run_id or f"r-{start[-5:]}",
        "status": status,
        "started_at": at(start),
        "ended_at": at(end) if end else None,
    }
    if status == "success":
        fields |= {"records_out": 1200, "checksum": "sha256:ab12"}
    return RunReport.model_validate(fields | extra)


def growth(runs: list[RunReport], now: str) -> Any:
    return watch(
        "growth-agg", GROWTH, runs, ist(f"{DAY} {now}"), IST, SLO, name="Growth — Aggregate"
    )


# --- daily form ---------------------------------------------------------------------------


LATE = "not delivered, due 06:30"
SLO_SPENT = "late, beyond the 15 min freshness SLO"


@pytest.mark.parametrize(
    ("now", "status", "message"),
    [
        ("06:29", WatchStatus.ON_TIME, "due 06:30"),
        ("06:30", WatchStatus.ON_TIME, "due 06:30"),  # "by 06:30" includes 06:30
        ("06:31", WatchStatus.LATE_NOTICE, LATE),
        # 15 min late still meets "freshness ≤ 15 min", as within_slo reads it.
        ("06:45", WatchStatus.LATE_NOTICE, LATE),
        ("06:45:01", WatchStatus.LATE_ALERT, f"{LATE}: 15 min 1 s {SLO_SPENT}"),
        ("06:46", WatchStatus.LATE_ALERT, f"{LATE}: 16 min {SLO_SPENT}"),
    ],
)
def test_growth_agg_day_with_no_run(now: str, status: WatchStatus, message: str) -> None:
    state = growth([], now)
    assert (state.status, state.message) == (status, f"Growth — Aggregate {message}")
    assert state.due == ist(f"{DAY} 06:30")
    assert state.closes == ()


def test_a_run_at_0650_closes_the_alert_it_raised() -> None:
    late_run = run("06:05", "06:50", run_id="r-late")
    # Before 06:50 the run is not known yet: the same list replays to any instant.
    alert = growth([late_run], "06:46")
    assert alert.status is WatchStatus.LATE_ALERT
    done = growth([late_run], "06:51")
    assert done.status is WatchStatus.DELIVERED_LATE
    assert (
        done.message
        == "Growth — Aggregate delivered 06:50 (run r-late), 20 min after its 06:30 deadline"
    )
    assert done.closes == (alert.alert_key,) == ("deadline-2025-08-26",)
    assert done.late_by == timedelta(minutes=20)
    # Stays the verdict all day, so a missed tick still closes it.
    assert growth([late_run], "23:59").status is WatchStatus.DELIVERED_LATE


def test_a_late_run_inside_the_slo_still_closes_by_key() -> None:
    # Its report may reach us after a tick raised the alert: closing is idempotent.
    state = growth([run("06:05", "06:40")], "06:50")
    assert state.status is WatchStatus.DELIVERED_LATE
    assert state.closes == ("deadline-2025-08-26",)


R1 = run("06:00", "06:20", run_id="r-1")
DELIVERED = "delivered 06:20 (run r-1), due 06:30"


@pytest.mark.parametrize(
    ("runs", "now", "status", "message"),
    [
        ([R1], "06:29", WatchStatus.ON_TIME, DELIVERED),
        ([R1], "09:00", WatchStatus.ON_TIME, DELIVERED),
        (
            [run("06:00", "06:30", run_id="r-1")],
            "06:31",
            WatchStatus.ON_TIME,
            DELIVERED.replace("06:20", "06:30"),
        ),
        (
            [run("06:00", "06:12", "failed", run_id="r-9")],
            "06:31",
            WatchStatus.LATE_NOTICE,
            f"{LATE} (run r-9 failed at 06:12)",
        ),
        (
            [run("06:00", None, "running", run_id="r-9")],
            "06:20",
            WatchStatus.ON_TIME,
            "due 06:30 (run r-9 running since 06:00)",
        ),
        # Yesterday's run and another pipeline's run deliver nothing today.
        (
            [
                run("2025-08-25 06:00", "2025-08-25 06:20"),
                run("06:00", "06:10", pipeline="profit-agg"),
            ],
            "06:31",
            WatchStatus.LATE_NOTICE,
            LATE,
        ),
        # The first success counts; a rerun after it changes nothing.
        ([R1, run("07:00", "07:10", run_id="r-2")], "08:00", WatchStatus.ON_TIME, DELIVERED),
    ],
)
def test_daily_verdicts(runs: list[RunReport], now: str, status: WatchStatus, message: str) -> None:
    state = growth(runs, now)
    assert (state.status, state.message) == (status, f"Growth — Aggregate {message}")


def test_late_alert_pages_through_normal_alerts(config: TeamConfig) -> None:
    state = growth([], "06:50")
    alert = to_alert(state)
    assert alert is not None
    assert (alert.pipeline, alert.signal, alert.key()) == (
        "growth-agg",
        Signal.FRESHNESS,
        "growth-agg:deadline-2025-08-26",
    )
    # No value, so within_slo cannot second-guess the verdict: it pages by pipeline type.
    assert within_slo(alert, config.policy.slo) is None
    assert to_alert(growth([], "06:31")) is None


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        watch("growth-agg", GROWTH, [], ist(f"{DAY} 06:00").replace(tzinfo=None), IST, SLO)


# --- rolling form (Profit — Unit-level) ---------------------------------------------------


def unit(runs: list[tuple[str, str]], now: str) -> Any:
    reports = [run(s, e, pipeline="profit-unit", run_id=f"u-{s}") for s, e in runs]
    return watch(
        "profit-unit", UNIT, reports, ist(f"{DAY} {now}"), IST, SLO, name="Profit — Unit-level"
    )


EVERY_10_MIN = [
    (f"{h:02d}:{m:02d}", f"{h:02d}:{m + 2:02d}")
    for h in range(9, 19)
    for m in (1, 11, 21, 31, 41, 51)
]

UNTIL_1831 = [(s, e) for s, e in EVERY_10_MIN if s <= "18:31"]


@pytest.mark.parametrize(
    ("runs", "now", "status", "gap_start"),
    [
        ([], "08:50", WatchStatus.ON_TIME, None),  # window not open
        ([], "09:15", WatchStatus.ON_TIME, None),  # exactly max_gap: not more than it
        ([], "09:16", WatchStatus.LATE_ALERT, "09:00"),
        (EVERY_10_MIN, "12:00", WatchStatus.ON_TIME, None),
        # Measured from the last delivering run's *start*: its orders closed after 09:05.
        ([("09:05", "09:07")], "09:20", WatchStatus.ON_TIME, None),
        ([("09:05", "09:07")], "09:21", WatchStatus.LATE_ALERT, "09:05"),
        # A run every 10 min that takes 8 min leaves orders waiting 18 min.
        ([("09:01", "09:09"), ("09:11", "09:19")], "09:20", WatchStatus.DELIVERED_LATE, "09:01"),
        # A run that started before the window carries no order closed in it.
        ([("08:58", "09:03")], "09:16", WatchStatus.LATE_ALERT, "09:00"),
        # After the window the gap stops growing but stays open until someone looks.
        (UNTIL_1831, "21:00", WatchStatus.LATE_ALERT, "18:31"),
        (EVERY_10_MIN, "21:00", WatchStatus.ON_TIME, None),
        # A run ending after the window does not count.
        ([*UNTIL_1831, ("18:58", "19:05")], "21:00", WatchStatus.LATE_ALERT, "18:31"),
    ],
)
def test_unit_level_gap_rule(
    runs: list[tuple[str, str]], now: str, status: WatchStatus, gap_start: str | None
) -> None:
    state = unit(runs, now)
    assert state.status is status, state.message
    if gap_start is not None:
        assert state.gaps[-1].start == ist(f"{DAY} {gap_start}")


def test_unit_level_gap_alert_and_its_closing() -> None:
    runs = [("09:01", "09:03"), ("09:40", "09:42")]
    alert = unit(runs, "09:30")
    assert alert.status is WatchStatus.LATE_ALERT
    assert (
        alert.message
        == "Profit — Unit-level: nothing delivered for orders closed since 09:01: 29 min, more than 15 min"
    )
    assert alert.due == ist(f"{DAY} 09:16")
    closed = unit(runs, "09:43")
    assert closed.status is WatchStatus.DELIVERED_LATE
    assert (
        closed.message
        == "Profit — Unit-level delivered again 09:42 (run u-09:40), 41 min after 09:01, more than 15 min"
    )
    assert closed.closes == (alert.alert_key,)
    # A delivery on time afterwards: on time again, the closed gap still named for closing.
    later = unit([*runs, ("09:50", "09:52")], "09:53")
    assert later.status is WatchStatus.ON_TIME
    assert later.closes == (alert.alert_key,)
    # A second gap is a second incident.
    again = unit([*runs, ("09:50", "09:52")], "10:10")
    assert again.status is WatchStatus.LATE_ALERT
    assert again.alert_key != alert.alert_key


# --- quality --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "status", "reason"),
    [
        ({"completeness_pct": 99.2}, "success", "completeness 99.2 % below 99.5 %"),
        ({"completeness_pct": 99.5}, "success", None),
        ({"completeness_pct": 99.49999}, "success", "completeness 99.49999 % below 99.5 %"),
        ({"accuracy_drift_pp": 0.7}, "success", "accuracy drift 0.7 pp beyond ±0.5 pp"),
        ({"accuracy_drift_pp": -0.7}, "success", "accuracy drift -0.7 pp beyond ±0.5 pp"),
        ({"accuracy_drift_pp": 0.5}, "success", None),
        (
            {"completeness_pct": 98, "accuracy_drift_pp": 1},
            "success",
            "completeness 98 % below 99.5 %; accuracy drift 1 pp beyond ±0.5 pp",
        ),
        ({}, "success", None),
        # A failed run delivered nothing to judge.
        ({"completeness_pct": 40}, "failed", None),
    ],
)
def test_quality_breach(
    config: TeamConfig, extra: dict[str, Any], status: str, reason: str | None
) -> None:
    assert quality_breach(run("06:00", "06:20", status, **extra), config.policy.slo) == reason


# --- validation -----------------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "pipeline": "growth-agg",
    "run_id": "r-1",
    "status": "success",
    "started_at": "2025-08-26T00:30:00Z",
    "ended_at": "2025-08-26T06:20:00+05:30",
    "records_out": 1200,
    "checksum": "sha256:ab12",
}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"started_at": "2025-08-26T06:00:00"},
            "started_at: started_at 2025-08-26T06:00:00 has no UTC offset; give one, e.g. 2025-08-26T06:12:00+05:30",
        ),
        (
            {"ended_at": "2025-08-26T06:20:00"},
            "ended_at: ended_at 2025-08-26T06:20:00 has no UTC offset",
        ),
        ({"records_out": -3}, "records_out: records_out must be 0 or more, got -3"),
        ({"records_out": "12"}, "records_out: Input should be a valid integer"),
        ({"records_out": True}, "records_out: Input should be a valid integer"),
        ({"status": "done"}, "status: status must be one of success, failed, running; got 'done'"),
        ({"status": None}, "status: status must be one of success, failed, running; got None"),
        ({"completeness_pct": 101}, "completeness_pct: Input should be less than or equal to 100"),
        ({"completeness_pct": "99.2"}, "completeness_pct: Input should be a valid number"),
        ({"completness_pct": 99.2}, "completness_pct: Extra inputs are not permitted"),
        ({"checksum": None}, "a successful run must report records_out and checksum"),
        ({"ended_at": None}, "a success run needs ended_at"),
        ({"status": "running"}, "a running run has no ended_at"),
        (
            {"ended_at": "2025-08-26T05:00:00+05:30"},
            "ended_at 2025-08-26T05:00:00+05:30 is before started_at 2025-08-26T00:30:00+00:00",
        ),
        ({"run_id": ""}, "run_id: String should have at least 1 character"),
    ],
)
def test_run_report_rejects(change: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError) as exc:
        RunReport.model_validate(GOOD | change)
    assert error in describe_errors(exc.value)


def test_run_report_accepts_offsets_and_any_status_case() -> None:
    report = RunReport.model_validate(GOOD | {"status": "SUCCESS"})
    assert report.status == "success"
    assert report.ended_at == ist(f"{DAY} 06:20")
    failed = RunReport.model_validate(
        {**GOOD, "status": "failed", "records_out": None, "checksum": None}
    )
    assert failed.records_out is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({}, "either `due` (daily) or `max_gap` (rolling)"),
        ({"due": "06:30", "max_gap": "15m"}, "either `due` (daily) or `max_gap` (rolling)"),
        (
            {"due": "06:30", "window": {"start": "09:00", "end": "19:00"}},
            "`window` goes with `max_gap`",
        ),
        (
            {"max_gap": "15m", "window": {"start": "19:00", "end": "09:00"}},
            "window must end after it starts",
        ),
        ({"max_gap": "0m"}, "`max_gap` must be longer than zero"),
        ({"due": "06:30+05:30"}, "give `due` as local wall time"),
        ({"due": "06:30", "grace": "5m"}, "Extra inputs are not permitted"),
    ],
)
def test_deadline_rejects(value: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(error)):
        Deadline.model_validate(value)


def test_proposed_toml_and_todays_file_both_validate(config: TeamConfig) -> None:
    doc = Deadline.__doc__ or ""
    example = tomllib.loads(doc.split("```toml")[1].split("```")[0])
    daily, rolling = (Deadline.model_validate(p["deadline"]) for p in example["pipelines"])
    assert deadline_for(date(2025, 8, 26), daily, IST) == ist(f"{DAY} 06:30")
    assert rolling == UNIT
    # First delivery of a rolling day: max_gap after the window opens.
    assert deadline_for(date(2025, 8, 26), rolling, IST) == ist(f"{DAY} 09:15")
    # The bare times already in schedules/pipelines.toml read as daily deadlines.
    due = {p.slug: Deadline.model_validate(p.deadline).due for p in config.pipelines if p.deadline}
    assert {k: f"{v:%H:%M}" for k, v in due.items() if v} == {
        "profit-agg": "07:00",
        "growth-agg": "06:30",
        "growth-daily": "10:00",
        "engagement-agg": "07:00",
    }


# --- history --------------------------------------------------------------------------------


def test_run_history_week(config: TeamConfig) -> None:
    runs = [
        run("2025-08-20 06:00", "2025-08-20 06:20", metric_version="v3"),  # met
        run("2025-08-21 06:00", "2025-08-21 06:50", metric_version="v3"),  # late
        run("2025-08-22 06:00", "2025-08-22 06:12", "failed", run_id="r-f"),  # missed
        # 2025-08-23: nothing reported
        run("2025-08-24 06:00", "2025-08-24 06:25", metric_version="v4", completeness_pct=99.2),
        run("2025-08-25 06:00", "2025-08-25 06:10", pipeline="profit-agg"),  # not ours: no run
        run("2025-08-26 06:00", None, "running", run_id="r-now"),  # today, not due yet
    ]
    history = run_history(
        runs,
        7,
        pipeline="growth-agg",
        deadline=GROWTH,
        now=ist(f"{DAY} 06:10"),
        zone=IST,
        slo=config.policy.slo,
    )
    assert [(str(d.day), d.outcome, d.detail) for d in history] == [
        ("2025-08-20", DayOutcome.MET, "delivered 06:20 (run r-06:00)"),
        ("2025-08-21", DayOutcome.LATE, "delivered 06:50 (run r-06:00), 20 min late"),
        ("2025-08-22", DayOutcome.MISSED, "1 run, nothing delivered (run r-f failed at 06:12)"),
        ("2025-08-23", DayOutcome.NO_RUN, "no run reported"),
        (
            "2025-08-24",
            DayOutcome.MET,
            "delivered 06:25 (run r-06:00); metric version v3 → v4; completeness 99.2 % below 99.5 %",
        ),
        ("2025-08-25", DayOutcome.NO_RUN, "no run reported"),
        ("2025-08-26", DayOutcome.PENDING, "due 06:30 (run r-now running since 06:00)"),
    ]
    assert history[1].late_by == timedelta(minutes=20)
    assert history[2].failed == 1


def test_run_history_rolling_and_bounds() -> None:
    runs = [run(s, e, pipeline="profit-unit") for s, e in EVERY_10_MIN]
    runs += [
        run(f"2025-08-25 {s}", f"2025-08-25 {e}", pipeline="profit-unit")
        for s, e in EVERY_10_MIN
        if s < "12:00" or s > "13:00"
    ]
    history = run_history(
        runs, 2, pipeline="profit-unit", deadline=UNIT, now=ist(f"{DAY} 20:00"), zone=IST
    )
    assert [(d.outcome, d.detail) for d in history] == [
        (DayOutcome.MISSED, "1 gap beyond 15 min, longest 1 h 12 min"),
        (DayOutcome.MET, "delivered 18:53 (run r-18:51)"),
    ]
    assert (
        run_history(
            [], 1, pipeline="profit-unit", deadline=UNIT, now=ist(f"{DAY} 08:00"), zone=IST
        )[0].outcome
        is DayOutcome.PENDING
    )
    for days in (0, 91):
        with pytest.raises(ValueError, match="days must be 1 to 90"):
            run_history(
                [], days, pipeline="growth-agg", deadline=GROWTH, now=ist(f"{DAY} 08:00"), zone=IST
            )


def test_unit_level_after_the_window_says_so() -> None:
    state = unit(EVERY_10_MIN, "21:00")
    assert (
        state.message
        == "Profit — Unit-level: last delivered 18:53 (run u-18:51), within 15 min; window closed"
    )
    before = unit([], "08:00")
    assert before.message == "Profit — Unit-level: watched 09:00–19:00; the window is not open yet"
