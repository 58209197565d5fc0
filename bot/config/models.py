"""Pydantic models of the team configuration.

Everything the policy document states as data (people, pipelines, the rotation table, the
escalation delays, business hours, holidays, SLOs) is a field here, so that the rest of the
code never hard-codes a rule the team might change.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """Accept `600`, `"30s"`, `"10m"`, `"2h"`, `"90d"` so delays can be set in seconds for tests."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 90d")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    raise ValueError(f"expected a duration such as 30s, 10m, 2h or 90d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Asia/Kolkata)"
        ) from exc
    return value


ZoneName = Annotated[str, AfterValidator(_check_zone)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PipelineType(StrEnum):
    INVESTOR = "investor"
    EXPERIMENT = "experiment"


class Member(Strict):
    initials: str = Field(pattern=r"^[A-Z]{2,4}$")
    name: str = Field(min_length=1)
    slack_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    tz: ZoneName = "Asia/Kolkata"

    @model_validator(mode="after")
    def _reachable(self) -> Member:
        if not self.slack_id and not self.email:
            raise ValueError("a member needs a slack_id or an email")
        return self

    @property
    def mention(self) -> str:
        return f"<@{self.slack_id}>" if self.slack_id else self.name


class Pipeline(Strict):
    slug: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    domain: str
    type: PipelineType
    primary: str
    secondary: str
    channel: str = Field(pattern=r"^#[a-z0-9_-]+$")
    # When its delivery is due (the deadline watch): a bare `06:30:00` is shorthand for a
    # daily due time; profit-unit's rolling rule is `{ max_gap = "15m", window = … }`.
    deadline: _runs.Deadline | None = None
    hard_dependency_of: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)

    @property
    def investor(self) -> bool:
        return self.type is PipelineType.INVESTOR


class RotationWeek(Strict):
    primary: str
    backup: str

    @model_validator(mode="after")
    def _distinct(self) -> RotationWeek:
        if self.primary == self.backup:
            raise ValueError(f"primary and backup are both {self.primary}")
        return self


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


class Rotation(Strict):
    zone: ZoneName = "Asia/Kolkata"
    start: datetime
    handoff_day: Weekday = Weekday.MONDAY
    handoff_time: time = time(9, 0)
    weeks: list[RotationWeek] = Field(min_length=1)

    @field_validator("start")
    @classmethod
    def _naive_local(cls, v: datetime) -> datetime:
        if v.tzinfo is not None:
            raise ValueError("give start as local wall time without an offset; `zone` says where")
        return v

    @model_validator(mode="after")
    def _start_on_handoff(self) -> Rotation:
        if (
            self.start.weekday() != self.handoff_day.number
            or self.start.time() != self.handoff_time
        ):
            raise ValueError(
                f"start {self.start:%Y-%m-%d %H:%M} is not a handoff "
                f"({self.handoff_day.value} {self.handoff_time:%H:%M})"
            )
        return self

    # Both are read on every schedule answer (issue #14); cached by value rather than on the
    # instance, so a model_copy(update=...) of the rotation never answers the old zone.
    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.zone)

    @property
    def start_at(self) -> datetime:
        return _start_at(self.start, self.zone)


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=64)
def _start_at(start: datetime, zone: str) -> datetime:
    return start.replace(tzinfo=_zone(zone))


class EscalationPolicy(Strict):
    backup_after: Duration = timedelta(minutes=10)
    commander_after: Duration = timedelta(minutes=15)
    lead_after: Duration = timedelta(minutes=15)
    repeat_every: Duration = timedelta(minutes=15)
    repeat_count: int = Field(default=4, ge=0, le=100)
    # Channel notifications (no ladder) close by themselves after this long.
    notify_autoclose: Duration = timedelta(hours=12)
    # A page opens its runbook checklist in its thread by itself, unless another incident of
    # the same pipeline did within this long: an alert storm's incidents are one
    # investigation, and fifty checklists would hold the channel behind Slack's pace. The
    # others offer an "Open checklist" button.
    checklist_once_per: Duration = timedelta(minutes=30)
    # None means "roster order": the first engineer not already on the ladder leads.
    lead_preference: list[str] | None = None


RungName = Literal["primary", "backup", "commander", "lead"]
SeverityName = Literal["sev1", "sev2", "sev3", "sev4"]
FULL_LADDER: tuple[RungName, ...] = ("primary", "backup", "commander", "lead")


class SeverityRule(Strict):
    """What a severity implies (policy.toml `[severity.sevN]`)."""

    # The ladder's rungs this severity walks, in order.
    rungs: list[RungName] = Field(default_factory=lambda: list(FULL_LADDER), min_length=1)
    # After the last rung: re-page it every repeat_every, repeat_count times (the last to
    # everyone on the roster).
    repeats: bool = True
    # False: a channel notification naming the Primary, nobody paged, no escalation.
    pages: bool = True


def _default_severities() -> dict[SeverityName, SeverityRule]:
    return {
        "sev1": SeverityRule(),
        "sev2": SeverityRule(),
        "sev3": SeverityRule(rungs=["primary", "backup"], repeats=False),
        "sev4": SeverityRule(rungs=["primary"], repeats=False, pages=False),
    }


class BusinessHours(Strict):
    start: time = time(9, 0)
    end: time = time(19, 0)
    days: list[Weekday] = Field(
        default_factory=lambda: [
            Weekday.MONDAY,
            Weekday.TUESDAY,
            Weekday.WEDNESDAY,
            Weekday.THURSDAY,
            Weekday.FRIDAY,
        ]
    )
    exclude_company_holidays: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        return self


class ExtraHoliday(Strict):
    date: date
    name: str = Field(min_length=1)


class HolidayPolicy(Strict):
    country: str = "IN"
    subdivision: str | None = None
    categories: list[str] = Field(default_factory=lambda: ["public"])
    critical: list[str] = Field(
        default_factory=lambda: ["Republic Day", "Holi", "Independence Day", "Diwali"]
    )
    extra: list[ExtraHoliday] = Field(default_factory=list)


class SloPolicy(Strict):
    freshness_max_minutes: float = 15
    completeness_min_percent: float = 99.5
    accuracy_drift_max_pp: float = 0.5


class Limits(Strict):
    """Bounds on what one request may ask for, so no input can make the bot do unbounded
    work (policy.toml `[limits]`)."""

    window_max: Duration = timedelta(days=90)  # a swap's or PTO's length
    window_ahead: Duration = timedelta(days=366)  # how far ahead one may start
    command_text: int = Field(default=1000, ge=100)  # characters after a slash command


class SuppressionPolicy(Strict):
    """Maintenance-window suppressions (policy.toml `[suppression]`)."""

    # The longest one suppression of an investor pipeline (or of `all`, which includes them)
    # may last: investors read these numbers every morning, so silence there must be short
    # and renewed on purpose if the work runs over.
    investor_cap: Duration = timedelta(hours=4)

    @field_validator("investor_cap")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("investor_cap must be longer than zero (e.g. 4h)")
        return v


class PresencePolicy(Strict):
    """Where the bot shows who is on call besides `/oncall now` (policy.toml `[presence]`).
    An empty group handle leaves that group alone; `topic = false` leaves the topic alone."""

    oncall_group: str = Field(default="data-oncall", pattern=r"^([a-z0-9._-]{1,80})?$")
    primary_group: str = Field(default="data-oncall-primary", pattern=r"^([a-z0-9._-]{1,80})?$")
    topic: bool = True
    # Shift notices: a DM this long before a role starts, and one when it starts.
    notice_ahead: Duration = timedelta(hours=24)


class Policy(Strict):
    escalation: EscalationPolicy = EscalationPolicy()
    severity: dict[SeverityName, SeverityRule] = Field(default_factory=_default_severities)

    @field_validator("severity", mode="after")
    @classmethod
    def _every_severity(
        cls, v: dict[SeverityName, SeverityRule]
    ) -> dict[SeverityName, SeverityRule]:
        # A policy.toml that sets one severity keeps the defaults for the others.
        return {**_default_severities(), **v}

    business_hours: BusinessHours = BusinessHours()
    limits: Limits = Limits()
    holidays: HolidayPolicy = HolidayPolicy()
    slo: SloPolicy = SloPolicy()
    suppression: SuppressionPolicy = SuppressionPolicy()
    presence: PresencePolicy = PresencePolicy()
    rca_business_days: int = Field(default=5, ge=1)
    retention: Duration = timedelta(days=90)
    team_channel: str = Field(default="#data-platform", pattern=r"^#[a-z0-9_-]+$")
    # The list that hears of investor Sev-1/Sev-2 incidents and their RCAs by email (sent only
    # when SMTP_URL is set). The policy's "Contacts" list by default.
    email_to: list[str] = Field(
        default_factory=lambda: ["data-eng-oncall@company.example"], min_length=1
    )
    dashboards: dict[str, str] = Field(default_factory=dict)


class TeamConfig(Strict):
    members: list[Member] = Field(min_length=2)
    pipelines: list[Pipeline] = Field(min_length=1)
    rotation: Rotation
    policy: Policy = Policy()

    def member(self, initials: str) -> Member:
        for m in self.members:
            if m.initials == initials:
                return m
        raise KeyError(initials)

    def member_by_slack_id(self, slack_id: str) -> Member | None:
        # A loop, not next() over a generator: run on every request (issue #14).
        for m in self.members:
            if m.slack_id == slack_id:
                return m
        return None

    def pipeline(self, slug: str) -> Pipeline:
        for p in self.pipelines:
            if p.slug == slug:
                return p
        raise KeyError(slug)

    @property
    def zone(self) -> ZoneInfo:
        return self.rotation.tz


# Last, and as a module: the domain's Deadline is built on the models above (Strict,
# Duration), so bot.domain.runs imports this module; either may be imported first.
# Pipeline's `deadline` annotation resolves when first used, after both have loaded.
from bot.domain import runs as _runs  # noqa: E402
