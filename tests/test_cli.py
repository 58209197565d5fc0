from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main, render_check
from bot.config import TeamConfig
from tests.conftest import ROOT, ist


def test_check_prints_the_policy_cycle_then_next_weeks(config: TeamConfig) -> None:
    text = render_check(config, ist("2025-10-14 10:00"))
    cycle = text.split("Rotation cycle")[1].split("Next 8 weeks")[0]
    assert "1       2025-08-25 → 2025-09-01   AM       PR" in cycle
    assert "8       2025-10-13 → 2025-10-20   SK       PR" in cycle
    nxt = text.split("Next 8 weeks")[1]
    assert "8       2025-10-13 → 2025-10-20   SK       PR       2025-10-20 (Diwali): PR⇄SK" in nxt
    assert "1       2025-10-20 → 2025-10-27   AM       PR       2025-10-20 (Diwali): PR⇄AM" in nxt


def test_check_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONCALL_CONFIG_DIR", str(ROOT / "schedules"))
    assert main(["check"]) == 0
    broken = tmp_path / "schedules"
    shutil.copytree(ROOT / "schedules", broken)
    team = broken / "team.toml"
    team.write_text(team.read_text().replace('initials = "SK"', 'initials = "S"'))
    monkeypatch.setenv("ONCALL_CONFIG_DIR", str(broken))
    assert main(["check"]) == 1
    assert "team.toml: members[3].initials" in capsys.readouterr().err


def test_serve_refuses_without_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    # Every missing variable is reported at once, one line each.
    assert capsys.readouterr().err.strip().splitlines() == [
        "oncall-bot: SLACK_BOT_TOKEN is not set (see README: Configuration)",
        "SLACK_SIGNING_SECRET is not set (see README: Configuration)",
    ]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert main(["serve"]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORT", "http")
    assert main(["serve"]) == 2
    assert "PORT='http'" in capsys.readouterr().err


async def test_check_token_refuses_a_token_slack_rejects() -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.cli import check_token
    from bot.devtools.fakeslack import FakeSlack

    slack = FakeSlack()
    api = await slack.start()
    try:
        client = AsyncWebClient(token="xoxb-bad", base_url=api, retry_handlers=[])
        slack.refuse("auth.test", "invalid_auth")
        assert check_token is not None
        assert await check_token(client) == (
            "SLACK_BOT_TOKEN was refused by Slack (auth.test: invalid_auth)"
        )
        assert await check_token(client) is None  # accepted now
        slack.fail("auth.test", 503)
        assert await check_token(client) is None  # Slack down: start anyway, warn
    finally:
        await slack.stop()


def test_serve_listens_first_then_warns_and_loads_the_holidays(tmp_path: Path) -> None:
    """The start-up warnings (`oncall-bot check`'s) and the holiday library come after the
    port is open, on a thread (issue #14: they were a third of start-up), and still come."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.processes import free_port

    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # unreachable: serve only warns
        "PORT": str(port),
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--embedded-store"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while "placeholder slack_id" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(10)
    text = log.read_text()
    assert text.index("listening on") < text.index("placeholder slack_id")
