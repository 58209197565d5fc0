"""Alerts from monitoring: parse bodies (ours and Alertmanager's) and apply the paging rules.

Rules (policy: "Paging rules"):
- an alert with a value inside its SLO is recorded and pages nobody;
- investor pipelines, and experiment pipelines that are a hard dependency of one, page at
  once, 24x7;
- other experiment pipelines get a channel notification without escalation during business
  hours, and a notification marked best-effort outside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config.models import BusinessHours, Pipeline, SloPolicy, TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Mode, Severity, Signal
from bot.domain.names import find_pipeline, unknown_pipeline_message


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    pipeline: str
    signal: Signal
    summary: str = Field(min_length=1, max_length=500)
    # None: the pipeline type decides (investor-facing sev2, experiment-facing sev3).
    severity: Severity | None = None
    # Finite: NaN compares false to every SLO, so it would page; Infinity is no measurement.
    value: float | None = Field(default=None, allow_inf_nan=False)
    dedupe_key: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("severity", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    def key(self) -> str:
        # Scoped to the pipeline, so another pipeline's alert can never join (and silence)
        # this one's incident by reusing a key.
        return f"{self.pipeline}:{self.dedupe_key or self.signal.value}"


class Rejected(BaseModel):
    index: int
    error: str


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _alertmanager(entry: dict[str, Any]) -> dict[str, Any]:
    # Anything but an object here is treated as absent: the alert is then rejected for
    # what it lacks (pipeline, summary), with a message, instead of crashing the request.
    labels = _object(entry.get("labels"))
    notes = _object(entry.get("annotations"))
    out: dict[str, Any] = {
        "pipeline": labels.get("pipeline"),
        "signal": labels.get("signal"),
        "severity": labels.get("severity"),
        "summary": notes.get("summary") or notes.get("description") or labels.get("alertname"),
        "dedupe_key": labels.get("dedupe_key"),
    }
    if "value" in notes or "value" in labels:
        out["value"] = notes.get("value", labels.get("value"))
    return {k: v for k, v in out.items() if v is not None}


def parse_alerts(body: Any, cfg: TeamConfig) -> tuple[list[tuple[int, Alert]], list[Rejected]]:
    """Every valid alert of a body (with its index), and why each invalid one was rejected.

    Accepts one alert object, a list of them, or an Alertmanager webhook (`alerts`); a
    resolved Alertmanager alert is skipped, not an error. One bad entry never drops the rest.
    """
    # (index in the body, entry): a rejection names the entry's own position, even when
    # resolved Alertmanager entries before it were skipped.
    entries: list[tuple[int, Any]]
    if isinstance(body, dict) and isinstance(body.get("alerts"), list):
        entries = [
            (i, _alertmanager(a) if isinstance(a, dict) else a)
            for i, a in enumerate(body["alerts"])
            if not (isinstance(a, dict) and a.get("status") == "resolved")
        ]
    elif isinstance(body, list):
        entries = list(enumerate(body))
    elif isinstance(body, dict):
        entries = [(0, body)]
    else:
        return [], [Rejected(index=0, error="body must be a JSON object or array")]
    alerts: list[tuple[int, Alert]] = []
    rejected: list[Rejected] = []
    for i, entry in entries:
        if not isinstance(entry, dict):
            rejected.append(Rejected(index=i, error="each alert must be a JSON object"))
            continue
        try:
            alert = Alert.model_validate(entry)
        except ValidationError as exc:
            rejected.append(Rejected(index=i, error=_explain(exc)))
            continue
        pipeline = find_pipeline(cfg, alert.pipeline)
        if pipeline is None:
            rejected.append(Rejected(index=i, error=unknown_pipeline_message(cfg, alert.pipeline)))
            continue
        alerts.append((i, alert.model_copy(update={"pipeline": pipeline.slug})))
    return alerts, rejected


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "alert"
        parts.append(f"{field}: {err['msg']}")
    valid = "signal is one of " + ", ".join(s.value for s in Signal)
    return "; ".join(parts) + f" ({valid}; severity sev1–sev4)"


def within_slo(alert: Alert, slo: SloPolicy) -> bool | None:
    """True if the alert's value meets its SLO; None when there is no value or no SLO."""
    if alert.value is None:
        return None
    if alert.signal is Signal.FRESHNESS:
        return alert.value <= slo.freshness_max_minutes
    if alert.signal is Signal.COMPLETENESS:
        return alert.value >= slo.completeness_min_percent
    if alert.signal is Signal.ACCURACY:
        return abs(alert.value) <= slo.accuracy_drift_max_pp
    return None


def pages_like_investor(pipeline: Pipeline, cfg: TeamConfig) -> bool:
    return pipeline.investor or bool(pipeline.hard_dependency_of)


def default_severity(pipeline: Pipeline) -> Severity:
    """An alert that names no severity: investor-facing sev2 (the full ladder), experiment-
    facing sev3 (Primary then Backup, when it pages at all)."""
    return Severity.SEV2 if pipeline.investor else Severity.SEV3


def paging_mode(
    pipeline: Pipeline,
    cfg: TeamConfig,
    calendar: HolidayCalendar,
    now: datetime,
    hours: BusinessHours,
) -> Mode:
    if pages_like_investor(pipeline, cfg):
        return Mode.PAGE
    if calendar.in_business_hours(now.astimezone(cfg.zone), hours):
        return Mode.NOTIFY
    return Mode.BEST_EFFORT
