"""`oncall-bot check` validates runbooks too and names the file and line of a broken one."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest

from bot.cli import cmd_check, main
from bot.config import TeamConfig
from tests.conftest import ROOT


@pytest.fixture
def runbooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "runbooks"
    shutil.copytree(ROOT / "runbooks", copy)
    monkeypatch.setenv("ONCALL_CONFIG_DIR", str(ROOT / "schedules"))
    monkeypatch.setenv("ONCALL_RUNBOOKS_DIR", str(copy))
    return copy


def test_check_lists_runbooks(runbooks: Path) -> None:
    # cmd_check binds sys.stdout as a default at import, so pass the stream explicitly.
    stream = io.StringIO()
    assert cmd_check(dict(os.environ), out=stream) == 0
    out = stream.getvalue()
    assert "Runbooks (5)" in out
    assert re.search(r"^  growth-agg +8 steps", out, re.M)
    assert re.search(r"^  growth-daily +6 steps", out, re.M)


def test_check_fails_on_a_broken_runbook_with_file_and_line(
    runbooks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = runbooks / "growth-agg.md"
    lines = path.read_text().splitlines()
    number = lines.index(next(x for x in lines if x.startswith("3. ")))
    lines[number] = lines[number].replace("3. ", "5. ", 1)
    path.write_text("\n".join(lines) + "\n")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{number + 1}: checklist numbering skips ahead: expected 3, found 5" in err


def test_check_fails_when_a_pipeline_has_no_runbook(
    runbooks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (runbooks / "profit-unit.md").unlink()
    assert main(["check"]) == 1
    assert "pipeline 'profit-unit' has no runbook" in capsys.readouterr().err


def test_check_fails_on_an_unknown_dashboard(
    runbooks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = runbooks / "growth-agg.md"
    path.write_text(path.read_text().replace("[[Schema Contracts]]", "[[Schema Contrcts]]"))
    assert main(["check"]) == 1
    assert "step 6 links unknown dashboard [[Schema Contrcts]]" in capsys.readouterr().err


def test_check_warns_of_unreachable_members_and_undated_critical_holidays(
    runbooks: Path,
) -> None:
    from datetime import UTC, datetime

    from bot.cli import check_warnings
    from bot.config import load_config

    cfg = load_config(ROOT / "schedules")
    members = [
        m.model_copy(update={"slack_id": None}) if m.initials == "SK" else m for m in cfg.members
    ]
    cfg = cfg.model_copy(update={"members": members})
    # The library dates Holi and Diwali up to 2035: a year before, 2036 is within 52 weeks.
    warnings = check_warnings(cfg, datetime(2035, 6, 1, tzinfo=UTC))
    assert any(w.startswith("SK (Samir Kapoor) has no slack_id") for w in warnings)
    assert any("no 2036 date for Holi, Diwali" in w for w in warnings)
    resolved = _with_real_ids(load_config(ROOT / "schedules"))
    assert check_warnings(resolved, datetime(2026, 1, 1, tzinfo=UTC)) == []


def _with_real_ids(cfg: TeamConfig, keep: str = "") -> TeamConfig:
    """`cfg` with every slack_id but `keep`'s replaced, as a team that ran members --resolve."""
    members = [
        m if m.initials == keep else m.model_copy(update={"slack_id": f"U07{m.initials}REAL"})
        for m in cfg.members
    ]
    return cfg.model_copy(update={"members": members})


def test_check_warns_while_team_toml_has_the_shipped_placeholder_ids(runbooks: Path) -> None:
    from datetime import UTC, datetime

    from bot.cli import check_warnings
    from bot.config import load_config

    now = datetime(2026, 1, 1, tzinfo=UTC)
    shipped = load_config(ROOT / "schedules")
    [warning] = check_warnings(shipped, now)
    assert warning.startswith("team.toml still has the placeholder slack_id shipped")
    for who in (
        "AM (Alex Mehta, U0AMEHTA01)",
        "PR (Priya Rao, U0PRRAO002)",
        "CW (Chen Wu, U0CHENWU03)",
        "SK (Samir Kapoor, U0SKAPOOR4)",
    ):
        assert who in warning
    assert "`oncall-bot members --resolve`" in warning
    # One left behind is still named, and only that one.
    [warning] = check_warnings(_with_real_ids(shipped, keep="CW"), now)
    assert "CW (Chen Wu, U0CHENWU03)" in warning and "AM (" not in warning
    assert check_warnings(_with_real_ids(shipped), now) == []
    # `oncall-bot check` prints it under Warnings.
    stream = io.StringIO()
    assert cmd_check(dict(os.environ), out=stream) == 0
    assert "Warnings\n  ⚠ team.toml still has the placeholder slack_id" in stream.getvalue()


def test_check_says_whether_email_goes_out(runbooks: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SMTP_URL"}
    stream = io.StringIO()
    assert cmd_check(env, out=stream) == 0
    assert "\nemail: off (SMTP_URL unset)\n" in stream.getvalue()
    stream = io.StringIO()
    assert cmd_check({**env, "SMTP_URL": "smtp://relay.example:25"}, out=stream) == 0
    assert (
        "email: on, through smtp://relay.example:25 (no TLS), to data-eng-oncall@company.example"
        in stream.getvalue()
    )
