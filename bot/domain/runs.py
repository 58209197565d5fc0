"""Run reports and delivery deadlines: the data of the deadline watch (issue #10 item 4).

A `RunReport` is one DAG run's artefact row (policy: "Run Artefacts") with the figures the
completeness and accuracy SLOs need; a `Deadline` says when a pipeline's delivery is due.
Pure: no clock, no I/O. `bot.domain.deadline_watch` judges runs against deadlines.

Which form each pipeline uses (policy: "Runbooks"):
- growth-agg daily, due 06:30; profit-agg and engagement-agg daily, due 07:00;
  growth-daily daily, due 10:00.
- profit-unit rolling: "within 15 min of order close" has no daily due time, so it is watched
  as a gap between deliveries (`max_gap` 15 min) during a daily window. The runbook names no
  window; 09:00–19:00 is the policy's business hours for experiment pipelines (a guess the
  owners, PR and CW, should confirm).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config.models import Duration, SloPolicy, Strict


class RunStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    RUNNING = "running"


class RunReport(BaseModel):
    """One DAG run's artefact row (policy: "Run Artefacts") and the figures the SLOs need."""

    # forbid: a misspelt `completness_pct` must be an error, not a silently skipped check.
    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str = Field(min_length=1, max_length=100)
    run_id: str = Field(min_length=1, max_length=200)
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    # strict: "12", 12.5 or true records is a broken producer, not a number to coerce.
    records_out: int | None = Field(default=None, strict=True)
    checksum: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^\S+$")
    completeness_pct: float | None = Field(
        default=None, strict=True, ge=0, le=100, allow_inf_nan=False
    )
    # Signed (under- or over-counting); the SLO bounds its size.
    accuracy_drift_pp: float | None = Field(default=None, strict=True, allow_inf_nan=False)
    metric_version: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in set(RunStatus):
            return v.strip().lower()
        raise ValueError(f"status must be one of success, failed, running; got {v!r}")

    @field_validator("started_at", "ended_at")
    @classmethod
    def _aware(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        # A naive time from a DAG host in UTC would read 5 h 30 min off in IST.
        if v is not None and v.utcoffset() is None:
            raise ValueError(
                f"{info.field_name} {v.isoformat()} has no UTC offset; "
                "give one, e.g. 2025-08-26T06:12:00+05:30 or 2025-08-26T00:42:00Z"
            )
        return v

    @field_validator("records_out")
    @classmethod
    def _not_negative(cls, v: int | None) -> int | None:
        if v is not None and v < 0:
            raise ValueError(f"records_out must be 0 or more, got {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RunReport:
        if self.status is RunStatus.RUNNING:
            if self.ended_at is not None:
                raise ValueError("a running run has no ended_at; report it as success or failed")
            return self
        if self.ended_at is None:
            raise ValueError(f"a {self.status.value} run needs ended_at")
        if self.ended_at < self.started_at:
            raise ValueError(
                f"ended_at {self.ended_at.isoformat()} is before "
                f"started_at {self.started_at.isoformat()}"
            )
        if self.status is RunStatus.SUCCESS and (self.records_out is None or not self.checksum):
            raise ValueError("a successful run must report records_out and checksum")
        return self


def describe_errors(exc: ValidationError) -> str:
    """One line per problem, `field: message`, for a rejection a producer's owner can act on."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "run"
        parts.append(f"{field}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


class DailyWindow(Strict):
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> DailyWindow:
        if self.start.tzinfo or self.end.tzinfo:
            raise ValueError("give the window as local wall times; the rotation zone says where")
        if self.end <= self.start:
            # Crossing midnight would make "today's" window span two days; split it instead.
            raise ValueError(f"window must end after it starts ({self.start}–{self.end})")
        return self


class Deadline(Strict):
    """When a pipeline's delivery is due: a daily `due` time, or a rolling `max_gap` between
    deliveries during a daily `window` (the whole day when omitted). Local wall times.

    Proposed shape in schedules/pipelines.toml (the bare time stays valid, so today's file
    keeps working once `Pipeline.deadline` becomes `Deadline | None`):

    ```toml
    [[pipelines]]
    slug = "growth-agg"
    deadline = 06:30:00              # shorthand for deadline = { due = 06:30:00 }

    [[pipelines]]
    slug = "profit-unit"
    deadline = { max_gap = "15m", window = { start = 09:00:00, end = 19:00:00 } }
    ```
    """

    due: time | None = None
    max_gap: Duration | None = None
    window: DailyWindow | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"due": v} if isinstance(v, time | str) else v

    @model_validator(mode="after")
    def _one_form(self) -> Deadline:
        if (self.due is None) == (self.max_gap is None):
            raise ValueError("a deadline needs either `due` (daily) or `max_gap` (rolling)")
        if self.due is not None and self.due.tzinfo is not None:
            raise ValueError("give `due` as local wall time (06:30); the rotation zone says where")
        if self.due is not None and self.window is not None:
            raise ValueError("`window` goes with `max_gap`; a daily `due` has no window")
        if self.max_gap is not None and self.max_gap <= timedelta(0):
            raise ValueError("`max_gap` must be longer than zero")
        return self

    @property
    def rolling(self) -> bool:
        return self.max_gap is not None


def local_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def window_bounds(day: date, deadline: Deadline, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[opens, shuts) of a rolling deadline's window on `day`; no window is the whole day."""
    if deadline.window is None:
        return local_at(day, time(0), zone), local_at(day + timedelta(days=1), time(0), zone)
    return local_at(day, deadline.window.start, zone), local_at(day, deadline.window.end, zone)


def deadline_for(day: date, deadline: Deadline, zone: ZoneInfo) -> datetime:
    """The instant `day`'s delivery is due. Rolling: the first one, `max_gap` after the
    window opens."""
    if deadline.due is not None:
        return local_at(day, deadline.due, zone)
    assert deadline.max_gap is not None
    return window_bounds(day, deadline, zone)[0] + deadline.max_gap


def _num(v: float) -> str:
    return f"{v:.10g}"  # 99.2, not 99.200000000000003; 99.49999 stays distinct from 99.5


def quality_breach(run: RunReport, slo: SloPolicy) -> str | None:
    """Why a successful run breaks the completeness or accuracy SLO, or None. A failed or
    running run's figures describe no delivery, so they are not judged."""
    if run.status is not RunStatus.SUCCESS:
        return None
    reasons = []
    low, got = slo.completeness_min_percent, run.completeness_pct
    if got is not None and got < low:
        reasons.append(f"completeness {_num(got)} % below {_num(low)} %")
    most, drift = slo.accuracy_drift_max_pp, run.accuracy_drift_pp
    if drift is not None and abs(drift) > most:
        reasons.append(f"accuracy drift {_num(drift)} pp beyond ±{_num(most)} pp")
    return "; ".join(reasons) or None
