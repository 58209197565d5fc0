"""The one typed settings object, built from the environment at start-up and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """One line naming the bad or missing setting."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bot_token: str = Field(min_length=1)
    signing_secret: str = Field(min_length=1)
    app_token: str | None = None
    redis_url: str | None = None
    port: int = Field(default=3000, ge=0, le=65535)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    config_dir: Path = Path("schedules")
    runbooks_dir: Path = Path("runbooks")
    alerts_token: str | None = None
    # Handlers do only fast work (Redis, pure code) before answering and hand slow Slack
    # calls to the outbox, so the answer can wait for the handler: this skips Bolt's 10 ms
    # ack-polling loop and makes every response carry the handler's outcome.
    process_before_response: bool = True
    tick_seconds: float = Field(default=1.0, gt=0)


ENV = {
    "bot_token": "SLACK_BOT_TOKEN",
    "signing_secret": "SLACK_SIGNING_SECRET",
    "app_token": "SLACK_APP_TOKEN",
    "redis_url": "REDIS_URL",
    "port": "PORT",
    "slack_api_url": "SLACK_API_URL",
    "config_dir": "ONCALL_CONFIG_DIR",
    "runbooks_dir": "ONCALL_RUNBOOKS_DIR",
    "alerts_token": "ALERTS_TOKEN",
    "tick_seconds": "ONCALL_TICK_SECONDS",
}


def settings_from_env(env: Mapping[str, str], **overrides: object) -> Settings:
    values: dict[str, object] = {k: env[v] for k, v in ENV.items() if env.get(v)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    socket_mode = bool(values.get("app_token"))
    if socket_mode and "signing_secret" not in values:
        # Socket Mode requests are not signed, so the secret is not needed there.
        values["signing_secret"] = "unused-in-socket-mode"
    for field in ("bot_token", "signing_secret"):
        if field not in values:
            raise SettingsError(f"{ENV[field]} is not set (see README: Configuration)")
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0])
        raise SettingsError(f"{ENV.get(name, name)}={err.get('input')!r}: {err['msg']}") from None
