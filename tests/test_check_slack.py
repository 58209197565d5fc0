"""`oncall-bot check --slack`: the token and its scopes, asked of the fake Slack Web API
(which sends the `x-oauth-scopes` header real Slack sends); and the scope table, the app
manifest and the README agreeing."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator

import pytest

from bot.cli import cmd_check, main
from bot.devtools.fakeslack import ALL_SCOPES, FakeSlack
from bot.slack.scopes import NEEDED, granted_scopes, missing
from tests.conftest import ROOT
from tests.test_cli_members import ThreadedSlack

NAMES = [s.name for s in NEEDED]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with ThreadedSlack() as fake:
        yield fake


def env_for(api_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": api_url,
        "ONCALL_CONFIG_DIR": str(ROOT / "schedules"),
        "ONCALL_RUNBOOKS_DIR": str(ROOT / "runbooks"),
    }


def run_check(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return cmd_check(env, out=out, slack=True), out.getvalue()


def slack_section(out: str) -> str:
    return out[out.index("\nSlack\n") :]


def test_missing_is_the_table_minus_what_is_granted_in_table_order() -> None:
    assert missing(NAMES) == []
    assert missing([]) == list(NEEDED)
    gone = missing(n for n in NAMES if n not in ("groups:write", "commands"))
    assert [s.name for s in gone] == ["commands", "groups:write"]
    # Scopes the bot does not need change nothing.
    assert missing([*NAMES, "admin", "files:write"]) == []


def test_granted_scopes_reads_the_header_case_blind() -> None:
    assert granted_scopes({"X-OAuth-Scopes": "commands, chat:write,,im:write"}) == {
        "commands",
        "chat:write",
        "im:write",
    }
    assert granted_scopes({"x-oauth-scopes": ""}) == set()
    assert granted_scopes({"content-type": "application/json"}) is None


def test_every_scope_says_what_breaks_without_it() -> None:
    assert len(set(NAMES)) == len(NAMES)
    for scope in NEEDED:
        assert scope.used_for and scope.without, scope.name


def test_all_scopes_granted(slack: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(env_for(slack.api_url))
    assert code == 0, capsys.readouterr().err
    assert slack_section(out) == (
        "\nSlack\n"
        "  token OK: bot oncall-bot (U0ONCALLBOT) in team oncall\n"
        f"  all {len(NEEDED)} scopes granted\n"
    )
    # The config check ran first, as plain `check` does.
    assert out.startswith("Roster\n")
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_missing_scopes_are_listed_with_what_breaks(slack: FakeSlack) -> None:
    slack.scopes = [s for s in ALL_SCOPES if s not in ("usergroups:write", "channels:manage")]
    code, out = run_check(env_for(slack.api_url))
    assert code == 1
    lines = slack_section(out).splitlines()
    by_name = {s.name: s for s in NEEDED}
    assert lines[3:] == [
        f"  missing usergroups:write: {by_name['usergroups:write'].without}",
        f"  missing channels:manage: {by_name['channels:manage'].without}",
        f"  2 of {len(NEEDED)} scopes missing: add them under OAuth & Permissions → Bot Token "
        "Scopes (slack-app-manifest.yml lists them all) and reinstall the app",
    ]
    assert "@data-oncall" in lines[3]


def test_a_token_with_no_scopes_misses_them_all(slack: FakeSlack) -> None:
    slack.scopes = []
    code, out = run_check(env_for(slack.api_url))
    assert code == 1
    named = re.findall(r"^  missing (\S+): ", slack_section(out), re.M)
    assert named == NAMES
    assert f"  {len(NEEDED)} of {len(NEEDED)} scopes missing" in out


def test_refused_token_is_exit_2(slack: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    slack.refuse("auth.test", "invalid_auth")
    code, out = run_check(env_for(slack.api_url))
    assert code == 2
    assert "oncall-bot: SLACK_BOT_TOKEN was refused by Slack (auth.test: invalid_auth)" in (
        capsys.readouterr().err
    )
    assert "\nSlack\n" not in out


def test_slack_failing_is_exit_2(slack: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    slack.fail("auth.test", 503)
    assert run_check(env_for(slack.api_url))[0] == 2
    assert f"auth.test at {slack.api_url} failed: fatal (HTTP 503)" in capsys.readouterr().err


def test_unreachable_slack_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # A port that was free a moment ago: connection refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/"
    assert run_check(env_for(url))[0] == 2
    assert f"oncall-bot: could not reach Slack at {url}" in capsys.readouterr().err


def test_no_token_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    env = env_for("http://127.0.0.1:9/api/")
    del env["SLACK_BOT_TOKEN"]
    assert run_check(env)[0] == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_the_command_line_takes_slack(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in env_for(slack.api_url).items():
        monkeypatch.setenv(key, value)
    slack.scopes = [s for s in ALL_SCOPES if s != "im:write"]
    assert main(["check", "--slack"]) == 1
    assert slack.of("auth.test")
    slack.clear()
    assert main(["check"]) == 0  # without --slack, Slack is not asked
    assert slack.calls == []
    capsys.readouterr()


def _manifest_scopes(text: str) -> list[str]:
    block = text[text.index("oauth_config:") : text.index("\nsettings:")]
    return re.findall(r"^\s+- ([a-z.:]+)\s*$", block, re.M)


def _readme_table_scopes(text: str) -> list[str]:
    table = text[text.index("### Scopes, and what breaks without each") :]
    table = table[: table.index("\n\n", table.index("| scope |"))]
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([a-z.:]+)`", row.split("|")[1])]


def test_manifest_readme_and_fake_slack_list_the_same_scopes() -> None:
    manifest = _manifest_scopes((ROOT / "slack-app-manifest.yml").read_text())
    readme = (ROOT / "README.md").read_text()
    assert sorted(manifest) == sorted(NAMES)
    assert sorted(_readme_table_scopes(readme)) == sorted(NAMES)
    # The fake grants the bot's scopes unless a test narrows them.
    assert sorted(ALL_SCOPES) == sorted(NAMES)
    assert f"`all {len(NEEDED)} scopes granted`" in readme
    setup = readme[readme.index("## Setting up the Slack app") : readme.index("## Deployment")]
    listed = re.findall(r"`([a-z]+:[a-z.:]+|commands)`", setup[setup.index("Scopes: ") :])
    assert sorted(set(listed)) == sorted(NAMES)
