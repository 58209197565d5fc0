"""Settings: built from a given mapping only, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import (
    DEFAULT_SLACK_API_URL,
    DEFAULT_SMTP_FROM,
    ENV,
    SOCKET_MODE_SIGNING_SECRET,
    Settings,
    SettingsError,
    settings_from_env,
)

REQUIRED = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret"}


def problems(env: dict[str, str], **overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as info:
        settings_from_env(env, **overrides)
    assert str(info.value).splitlines() == info.value.problems
    return info.value.problems


def test_defaults() -> None:
    s = settings_from_env(REQUIRED)
    assert (s.bot_token, s.signing_secret) == ("xoxb-1", "secret")
    assert s.app_token is None
    assert s.redis_url is None
    assert s.port == 3000
    assert s.slack_api_url == DEFAULT_SLACK_API_URL
    assert s.config_dir == Path("schedules")
    assert s.runbooks_dir == Path("runbooks")
    assert s.alerts_token is None
    assert s.process_before_response is True
    assert s.tick_seconds == 1.0
    assert s.delivery_workers == 8
    assert s.slack_timeout == 10.0
    assert s.redis_max_connections == 200
    assert s.redis_pool_timeout == 5.0
    assert s.access_log is False
    assert s.log_format == "text"
    assert s.smtp_url is None  # email off
    assert s.smtp_from == DEFAULT_SMTP_FROM == "oncall-bot@localhost"


def test_each_variable_is_mapped() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-2",
        "SLACK_SIGNING_SECRET": "s2",
        "SLACK_APP_TOKEN": "xapp-2",
        "REDIS_URL": "redis://r:6379/1",
        "PORT": "8080",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "ONCALL_CONFIG_DIR": "/etc/oncall",
        "ONCALL_RUNBOOKS_DIR": "/srv/runbooks",
        "ALERTS_TOKEN": "at",
        "CALENDAR_TOKEN": "ct",
        "ONCALL_TICK_SECONDS": "0.25",
        "ONCALL_ANSWER_STALENESS": "0",
        "ONCALL_ESCALATION_THREAD": "false",
        "ONCALL_ESCALATION_PROCESS": "false",
        "ONCALL_DELIVERY_WORKERS": "16",
        "SLACK_TIMEOUT_SECONDS": "2.5",
        "REDIS_MAX_CONNECTIONS": "50",
        "REDIS_POOL_TIMEOUT_SECONDS": "0.5",
        "ONCALL_ACCESS_LOG": "true",
        "LOG_FORMAT": "json",
        "SLACK_POST_RATE": "2",
        "SLACK_POST_BURST": "3",
        "SLACK_UPDATE_EVERY": "0",
        "SLACK_UPDATE_RATE": "0.5",
        "SMTP_URL": "smtp://u:p@mail.example:587?starttls=1",
        "SMTP_FROM": "On-call bot <oncall@company.example>",
    }
    assert set(env) == set(ENV.values())
    s = settings_from_env(env)
    assert s.model_dump() == {
        "bot_token": "xoxb-2",
        "signing_secret": "s2",
        "app_token": "xapp-2",
        "redis_url": "redis://r:6379/1",
        "port": 8080,
        "slack_api_url": "http://127.0.0.1:9/api/",
        "config_dir": Path("/etc/oncall"),
        "runbooks_dir": Path("/srv/runbooks"),
        "alerts_token": "at",
        "calendar_token": "ct",
        "process_before_response": True,
        "tick_seconds": 0.25,
        "answer_staleness": 0.0,
        "escalation_thread": False,
        "escalation_process": False,
        "delivery_workers": 16,
        "slack_timeout": 2.5,
        "redis_max_connections": 50,
        "redis_pool_timeout": 0.5,
        "access_log": True,
        "log_format": "json",
        "slack_post_rate": 2.0,
        "slack_post_burst": 3,
        "slack_update_every": 0.0,
        "slack_update_rate": 0.5,
        "smtp_url": "smtp://u:p@mail.example:587?starttls=1",
        "smtp_from": "On-call bot <oncall@company.example>",
    }


def test_env_names_live_on_the_fields() -> None:
    assert ENV["bot_token"] == "SLACK_BOT_TOKEN"
    assert ENV["delivery_workers"] == "ONCALL_DELIVERY_WORKERS"
    assert ENV["slack_timeout"] == "SLACK_TIMEOUT_SECONDS"
    assert ENV["redis_max_connections"] == "REDIS_MAX_CONNECTIONS"
    assert ENV["redis_pool_timeout"] == "REDIS_POOL_TIMEOUT_SECONDS"
    assert ENV["access_log"] == "ONCALL_ACCESS_LOG"
    assert ENV["log_format"] == "LOG_FORMAT"
    assert ENV["smtp_url"] == "SMTP_URL"
    assert ENV["smtp_from"] == "SMTP_FROM"
    assert "process_before_response" not in ENV


def test_all_missing_variables_are_reported_at_once() -> None:
    assert problems({}) == [
        "SLACK_BOT_TOKEN is not set (see README: Configuration)",
        "SLACK_SIGNING_SECRET is not set (see README: Configuration)",
    ]


def test_empty_strings_count_as_unset() -> None:
    assert problems({"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "PORT": ""}) == [
        "SLACK_BOT_TOKEN is not set (see README: Configuration)",
        "SLACK_SIGNING_SECRET is not set (see README: Configuration)",
    ]
    assert settings_from_env({**REQUIRED, "PORT": "", "REDIS_URL": ""}).port == 3000


def test_bad_values_are_reported_together_with_what_is_valid() -> None:
    lines = problems({**REQUIRED, "PORT": "abc", "ONCALL_DELIVERY_WORKERS": "65"})
    assert len(lines) == 2
    assert lines[0].startswith("PORT='abc': Input should be a valid integer")
    assert lines[1] == "ONCALL_DELIVERY_WORKERS='65': Input should be less than or equal to 64"


def test_missing_and_bad_together() -> None:
    lines = problems({"SLACK_SIGNING_SECRET": "s", "SLACK_TIMEOUT_SECONDS": "0"})
    assert lines == [
        "SLACK_BOT_TOKEN is not set (see README: Configuration)",
        "SLACK_TIMEOUT_SECONDS='0': Input should be greater than 0",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ONCALL_DELIVERY_WORKERS", "0", "Input should be greater than or equal to 1"),
        ("REDIS_MAX_CONNECTIONS", "9", "Input should be greater than or equal to 10"),
        ("REDIS_POOL_TIMEOUT_SECONDS", "-1", "Input should be greater than 0"),
        ("ONCALL_TICK_SECONDS", "0", "Input should be greater than 0"),
        ("PORT", "70000", "Input should be less than or equal to 65535"),
        ("ONCALL_ACCESS_LOG", "maybe", "Input should be a valid boolean"),
        ("LOG_FORMAT", "xml", "Input should be 'text' or 'json'"),
    ],
)
def test_ranges(variable: str, value: str, message: str) -> None:
    [line] = problems({**REQUIRED, variable: value})
    assert line.startswith(f"{variable}={value!r}: {message}")


def test_socket_mode_needs_no_signing_secret() -> None:
    s = settings_from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert s.app_token == "xapp-1"
    assert s.signing_secret == SOCKET_MODE_SIGNING_SECRET
    s = settings_from_env({**REQUIRED, "SLACK_APP_TOKEN": "xapp-1"})
    assert s.signing_secret == "secret"
    assert problems({"SLACK_APP_TOKEN": "xapp-1"}) == [
        "SLACK_BOT_TOKEN is not set (see README: Configuration)"
    ]
    # An empty app token is unset: HTTP mode, so the secret is required.
    assert problems({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": ""}) == [
        "SLACK_SIGNING_SECRET is not set (see README: Configuration)"
    ]


def test_constructing_from_a_dict_ignores_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://leaked:6379/0")
    monkeypatch.setenv("SLACK_API_URL", "http://leaked/api/")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-leaked")
    monkeypatch.setenv("PORT", "1")
    built = [
        Settings.model_validate({"bot_token": "xoxb-1", "signing_secret": "s"}),
        Settings(bot_token="xoxb-1", signing_secret="s"),
        settings_from_env(REQUIRED),
    ]
    for s in built:
        assert s.redis_url is None
        assert s.slack_api_url == DEFAULT_SLACK_API_URL
        assert s.port == 3000
        assert "leaked" not in s.model_dump_json()
    assert problems({}) == [
        "SLACK_BOT_TOKEN is not set (see README: Configuration)",
        "SLACK_SIGNING_SECRET is not set (see README: Configuration)",
    ]


def test_model_validate_takes_field_names_or_variable_names() -> None:
    by_name = Settings.model_validate(
        {"bot_token": "b", "signing_secret": "s", "runbooks_dir": Path("/r"), "tick_seconds": 0.05}
    )
    by_variable = Settings.model_validate(
        {"SLACK_BOT_TOKEN": "b", "SLACK_SIGNING_SECRET": "s", "ONCALL_RUNBOOKS_DIR": "/r"}
    )
    assert by_name.runbooks_dir == by_variable.runbooks_dir == Path("/r")
    assert by_name.tick_seconds == 0.05


def test_overrides_win() -> None:
    env = {**REQUIRED, "PORT": "8080", "REDIS_URL": "redis://env", "ONCALL_DELIVERY_WORKERS": "4"}
    s = settings_from_env(
        env, port=9090, redis_url=None, delivery_workers=2, process_before_response=False
    )
    assert s.port == 9090
    assert s.redis_url == "redis://env"  # None overrides are ignored
    assert s.delivery_workers == 2
    assert s.process_before_response is False
    # An override fixes what the environment got wrong, and a bad override is reported.
    assert settings_from_env({**REQUIRED, "PORT": "abc"}, port=1).port == 1
    assert problems(REQUIRED, delivery_workers=0) == [
        "ONCALL_DELIVERY_WORKERS=0: Input should be greater than or equal to 1"
    ]


def test_settings_are_frozen() -> None:
    s = settings_from_env(REQUIRED)
    with pytest.raises(ValueError, match="frozen"):
        s.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "url",
    [
        "smtp://localhost",
        "smtp://relay.internal:2525",
        "smtp://user:pass@mail.example:587?starttls=1",
        "smtps://bot%40company.example:p%40ss@mail.example",
        "smtps://mail.example:2465",
    ],
)
def test_smtp_url_forms(url: str) -> None:
    assert settings_from_env({**REQUIRED, "SMTP_URL": url}).smtp_url == url


def test_an_empty_smtp_url_means_email_off() -> None:
    assert settings_from_env({**REQUIRED, "SMTP_URL": ""}).smtp_url is None


@pytest.mark.parametrize(
    ("url", "shown", "message"),
    [
        (
            "mail.example:587",
            "mail.example:587",
            "expected smtp://host[:port], smtp://user:pass@host:587?starttls=1 or "
            "smtps://user:pass@host[:port]",
        ),
        ("smtp://mail.example?starttls=maybe", None, "starttls must be 1 or 0, got 'maybe'"),
        ("smtp://mail.example:99999", None, "the port must be a number from 1 to 65535"),
        (
            "smtp://bot:hunter2@mail.example:587",
            "smtp://bot:***@mail.example:587",
            "a password over plain SMTP would cross the network unencrypted: "
            "add ?starttls=1 or use smtps://",
        ),
        (
            "smtps://bot:hunter2@mail.example?starttls=1",
            "smtps://bot:***@mail.example?starttls=1",
            "smtps:// is TLS from the start; starttls=1 is for smtp://",
        ),
    ],
)
def test_a_bad_smtp_url_is_refused_at_start_up_without_its_password(
    url: str, shown: str | None, message: str
) -> None:
    [line] = problems({**REQUIRED, "SMTP_URL": url})
    assert line == f"SMTP_URL={shown or url!r}: {message}"
    assert "hunter2" not in line


def test_smtp_from() -> None:
    s = settings_from_env({**REQUIRED, "SMTP_FROM": "oncall@company.example"})
    assert s.smtp_from == "oncall@company.example"
    [line] = problems({**REQUIRED, "SMTP_FROM": "oncall-bot"})
    assert line == (
        "SMTP_FROM='oncall-bot': expected an address such as oncall-bot@company.example "
        "or 'On-call bot <oncall-bot@company.example>'"
    )
    [line] = problems({**REQUIRED, "SMTP_FROM": "a@b.example\nBcc: c@d.example"})
    assert line.endswith(": must be one line")
