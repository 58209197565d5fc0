"""The one typed settings object, built from the environment at start-up and passed down.

Each field names its environment variable (its `validation_alias`); `ENV` is derived from
them. Nothing here reads `os.environ`: `settings_from_env` reads only the mapping it is given
(the CLI passes a copy of the process environment), and `Settings(...)` /
`Settings.model_validate({...})` take only the values passed, by field name or variable name,
so a developer's shell (REDIS_URL, SLACK_API_URL, ...) cannot leak into tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Socket Mode requests are not signed, so the secret is not needed there.
SOCKET_MODE_SIGNING_SECRET = "unused-in-socket-mode"
DEFAULT_SMTP_FROM = "oncall-bot@localhost"


class SettingsError(Exception):
    """Every missing or bad setting, one line each, naming its environment variable."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Settings(BaseModel):
    # A plain model, not pydantic-settings' BaseSettings: that read only the values passed
    # in anyway (its environment, .env and secrets sources were switched off to keep tests
    # hermetic), and importing it was about 40 ms of `serve`'s start-up (issue #14).
    # validate_default as BaseSettings had it: the defaults pass the validators too.
    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="forbid", validate_default=True
    )

    bot_token: str = Field(min_length=1, validation_alias="SLACK_BOT_TOKEN")
    signing_secret: str = Field(min_length=1, validation_alias="SLACK_SIGNING_SECRET")
    app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    port: int = Field(default=3000, ge=0, le=65535, validation_alias="PORT")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    config_dir: Path = Field(default=Path("schedules"), validation_alias="ONCALL_CONFIG_DIR")
    runbooks_dir: Path = Field(default=Path("runbooks"), validation_alias="ONCALL_RUNBOOKS_DIR")
    alerts_token: str | None = Field(default=None, validation_alias="ALERTS_TOKEN")
    # The secret in the calendar feeds' URLs (`GET /calendar/team.ics?token=…`, and
    # `/calendar/<initials>.ics`); unset: the feeds are off (404). Anyone holding a feed URL
    # can read the schedule and everyone's PTO, so use a long random value of its own.
    calendar_token: str | None = Field(default=None, validation_alias="CALENDAR_TOKEN")
    # Handlers do only fast work (Redis, pure code) before answering and hand slow Slack
    # calls to the outbox, so the answer can wait for the handler: this skips Bolt's 10 ms
    # ack-polling loop and makes every response carry the handler's outcome. Not an
    # environment setting (no alias): only code may change it.
    process_before_response: bool = True
    tick_seconds: float = Field(default=1.0, gt=0, validation_alias="ONCALL_TICK_SECONDS")
    # How old the approved swaps behind a `/oncall` answer may be, seconds: a swap approved
    # on another replica shows in answers at most this late (at once on the replica that
    # approved it). Pages never use this: they check the swaps' version every time.
    answer_staleness: float = Field(default=1.0, ge=0, validation_alias="ONCALL_ANSWER_STALENESS")
    # Escalation timers on a thread of their own (with their own event loop and Redis
    # connection), so a busy delivery pool or a burst of requests cannot hold a due rung
    # back (bot/escalation_thread.py). Needs REDIS_URL; the embedded store keeps them in
    # the main loop.
    escalation_thread: bool = Field(default=True, validation_alias="ONCALL_ESCALATION_THREAD")
    # Better still, in a process of their own (bot/escalation_process.py): a thread shares
    # the interpreter lock, and a busy main thread made rungs late by tens of milliseconds.
    # Needs REDIS_URL; with it off (or when the process cannot start) they get the thread.
    escalation_process: bool = Field(default=True, validation_alias="ONCALL_ESCALATION_PROCESS")
    # Concurrent Slack delivery workers per process.
    delivery_workers: int = Field(
        default=8, ge=1, le=64, validation_alias="ONCALL_DELIVERY_WORKERS"
    )
    # Web API client timeout, seconds.
    slack_timeout: float = Field(default=10.0, gt=0, validation_alias="SLACK_TIMEOUT_SECONDS")
    redis_max_connections: int = Field(default=200, ge=10, validation_alias="REDIS_MAX_CONNECTIONS")
    redis_pool_timeout: float = Field(
        default=5.0, gt=0, validation_alias="REDIS_POOL_TIMEOUT_SECONDS"
    )
    access_log: bool = Field(default=False, validation_alias="ONCALL_ACCESS_LOG")
    # `serve`'s log lines: text, or one JSON object per line for a log pipeline (bot/logjson.py).
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="LOG_FORMAT")
    # Slack allows about one message per second per channel, with short bursts; these pace
    # every post and DM through a token bucket shared by all replicas (0: unpaced).
    slack_post_rate: float = Field(default=1.0, ge=0, validation_alias="SLACK_POST_RATE")
    slack_post_burst: int = Field(default=4, ge=1, validation_alias="SLACK_POST_BURST")
    # At most one chat.update per message this often; updates in between coalesce.
    slack_update_every: float = Field(default=3.0, ge=0, validation_alias="SLACK_UPDATE_EVERY")
    # All chat.update calls together, per second (0: only the per-message pace above). Slack
    # lists chat.update as Tier 3 (about 50 a minute); a 429 there blocks edits in that
    # channel only, so the default leaves it to Slack and coalescing.
    slack_update_rate: float = Field(default=0.0, ge=0, validation_alias="SLACK_UPDATE_RATE")
    # Incident and RCA emails to the team's list (bot/mail.py); unset: no email. Forms:
    #   smtp://host[:port]                      plain SMTP (port 25), e.g. a local relay
    #   smtp://user:pass@host:587?starttls=1    SMTP upgraded with STARTTLS (port 587)
    #   smtps://user:pass@host[:port]           SMTP over TLS from the start (port 465)
    # User and password are percent-encoded (`@` is %40). A password is refused over plain
    # SMTP to anything but this machine.
    smtp_url: str | None = Field(default=None, validation_alias="SMTP_URL")
    # The From: of those emails: `oncall-bot@company.example` or `On-call bot <…@…>`.
    smtp_from: str = Field(default=DEFAULT_SMTP_FROM, validation_alias="SMTP_FROM")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from bot.mail import parse_smtp_url  # bot.mail imports this module

        try:
            parse_smtp_url(value)
        except ValueError as exc:
            raise PydanticCustomError("smtp_url", str(exc)) from None
        return value

    @field_validator("smtp_from")
    @classmethod
    def _smtp_from(cls, value: str) -> str:
        from bot.mail import parse_address

        try:
            parse_address(value)
        except ValueError as exc:
            raise PydanticCustomError("smtp_from", str(exc)) from None
        return value


# Field name → environment variable, from the fields' aliases.
ENV: dict[str, str] = {
    name: field.validation_alias
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, str)
}
_VARIABLE = {**ENV, **{var: var for var in ENV.values()}}


def settings_from_env(env: Mapping[str, str], **overrides: object) -> Settings:
    """Settings from `env` alone (empty counts as unset), then `overrides` by field name
    (None is ignored). Raises SettingsError listing every missing or bad variable."""
    values: dict[str, Any] = {var: env[var] for var in ENV.values() if env.get(var)}
    for name, value in overrides.items():
        if value is not None:
            values[ENV.get(name, name)] = value
    if values.get(ENV["app_token"]) and ENV["signing_secret"] not in values:
        values[ENV["signing_secret"]] = SOCKET_MODE_SIGNING_SECRET
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError([_problem(err) for err in exc.errors()]) from None


def _problem(err: ErrorDetails) -> str:
    key = str(err["loc"][0]) if err["loc"] else "settings"
    variable = _VARIABLE.get(key, key)
    if err["type"] == "missing":
        return f"{variable} is not set (see README: Configuration)"
    value = err["input"]
    if variable == ENV["smtp_url"] and isinstance(value, str):
        from bot.mail import redact_url

        value = redact_url(value)  # never echo the mail password into a log
    return f"{variable}={value!r}: {err['msg']}"
