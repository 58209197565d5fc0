"""`oncall-bot members [--resolve]`: the roster's Slack IDs, looked up by email in Slack;
and `serve` logging what `check` warns of."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli import cmd_members, cmd_serve, resolve_members
from bot.config import load_config
from bot.devtools.fakeslack import FakeSlack
from tests.conftest import ROOT


class ThreadedSlack:
    """A FakeSlack on its own event loop in a thread, for the CLI's own asyncio.run()."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(5)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with ThreadedSlack() as fake:
        yield fake


def env_for(fake: FakeSlack, config_dir: Path = ROOT / "schedules") -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake.api_url,
        "ONCALL_CONFIG_DIR": str(config_dir),
    }


def test_members_lists_the_roster_with_its_ids() -> None:
    out = io.StringIO()
    assert cmd_members({"ONCALL_CONFIG_DIR": str(ROOT / "schedules")}, False, out=out) == 0
    text = out.getvalue()
    assert "Roster (4 members)" in text
    assert re.search(r"^  AM +Alex Mehta +U0AMEHTA01 +alex\.mehta@company\.example", text, re.M)
    assert "--resolve" in text


def test_resolve_prints_ids_and_flags_mismatch_and_not_found(slack: FakeSlack) -> None:
    slack.add_user("alex.mehta@company.example", "U0AMEHTA01")  # as in team.toml
    slack.add_user("Priya.Rao@company.example", "U07PRIYA99")  # differs; case-blind email
    slack.add_user("samir.kapoor@company.example", "U07SAMIR42")
    # chen.wu@company.example is not registered: users_not_found.
    out = io.StringIO()
    assert cmd_members(env_for(slack), True, out=out) == 1
    text = out.getvalue()
    assert re.search(r"^  AM .* U0AMEHTA01 +matches team\.toml$", text, re.M)
    assert re.search(r"^  PR .* U07PRIYA99 +DIFFERS: team\.toml has U0PRRAO002$", text, re.M)
    assert re.search(r"^  CW .* NOT FOUND \(users_not_found\)", text, re.M)
    assert "2 slack_id to change (PR, SK); 1 not resolved (CW)" in text
    assert [c.args["email"] for c in slack.of("users.lookupByEmail")] == [
        "alex.mehta@company.example",
        "priya.rao@company.example",
        "chen.wu@company.example",
        "samir.kapoor@company.example",
    ]
    assert all(c.args.get("token") is None for c in slack.calls)  # token in the header
    # The snippet pastes as is: resolved IDs, the file's ID where Slack found nobody.
    snippet = text.split("(replacing its [[members]]):\n", 1)[1]
    members = {m["initials"]: m for m in tomllib.loads(snippet)["members"]}
    assert {k: m["slack_id"] for k, m in members.items()} == {
        "AM": "U0AMEHTA01",
        "PR": "U07PRIYA99",
        "CW": "U0CHENWU03",
        "SK": "U07SAMIR42",
    }
    assert members["PR"] == {
        "initials": "PR",
        "name": "Priya Rao",
        "slack_id": "U07PRIYA99",
        "email": "priya.rao@company.example",
        "tz": "Asia/Kolkata",
    }


def test_resolve_explains_a_missing_scope(
    slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.refuse(
        "users.lookupByEmail",
        "missing_scope",
        times=10,
        needed="users:read.email",
        provided="commands,chat:write,users:read",
    )
    out = io.StringIO()
    assert cmd_members(env_for(slack), True, out=out) == 2
    err = capsys.readouterr().err
    assert "users.lookupByEmail needs the users:read.email scope" in err
    assert "(the token has: commands,chat:write,users:read)" in err
    assert "reinstall the app" in err
    assert out.getvalue() == ""
    assert len(slack.failed_calls) == 1  # stops at the first: every lookup would fail


def test_resolve_needs_only_the_bot_token(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"ONCALL_CONFIG_DIR": str(ROOT / "schedules")}
    assert cmd_members(env, True) == 2
    assert capsys.readouterr().err.strip() == (
        "oncall-bot: SLACK_BOT_TOKEN is not set (see README: Configuration)"
    )


async def test_resolve_exits_zero_when_the_file_matches() -> None:
    cfg = load_config(ROOT / "schedules")
    fake = FakeSlack()
    api = await fake.start()
    try:
        for m in cfg.members:
            assert m.email and m.slack_id
            fake.add_user(m.email, m.slack_id)
        client = AsyncWebClient(token="xoxb-test", base_url=api, retry_handlers=[])
        text, code = await resolve_members(client, cfg)
        assert code == 0
        assert "team.toml matches Slack" in text
        assert text.count("matches team.toml") == 4
    finally:
        await fake.stop()


def test_serve_logs_check_warnings_at_start_up(
    slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "schedules"
    shutil.copytree(ROOT / "schedules", config)
    team = config / "team.toml"
    team.write_text(team.read_text().replace('slack_id = "U0SKAPOOR4"\n', ""))
    # A refused token stops serve right after start-up, so the test need not stop it.
    slack.refuse("auth.test", "invalid_auth")
    env = {
        **env_for(slack, config),
        "SLACK_SIGNING_SECRET": "s",
        "ONCALL_RUNBOOKS_DIR": str(ROOT / "runbooks"),
    }
    with caplog.at_level(logging.WARNING, logger="oncall-bot"):
        assert cmd_serve(env, embedded_store=True) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith("SK (Samir Kapoor) has no slack_id") for w in warnings)
    assert any("members --resolve" in w for w in warnings)
