"""Configuration errors name the file, the field and the bad value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.conftest import ROOT


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    target = tmp_path / "schedules"
    shutil.copytree(ROOT / "schedules", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _problems(confdir: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(confdir)
    return "\n".join(info.value.problems)


def test_shipped_config_matches_the_policy() -> None:
    cfg = load_config(ROOT / "schedules")
    assert [m.initials for m in cfg.members] == ["AM", "PR", "CW", "SK"]
    assert [p.slug for p in cfg.pipelines] == [
        "profit-unit",
        "profit-agg",
        "growth-agg",
        "growth-daily",
        "engagement-agg",
    ]
    assert [(w.primary, w.backup) for w in cfg.rotation.weeks] == [
        ("AM", "PR"),
        ("PR", "CW"),
        ("CW", "SK"),
        ("SK", "AM"),
        ("AM", "CW"),
        ("PR", "SK"),
        ("CW", "AM"),
        ("SK", "PR"),
    ]
    owners = {p.slug: (p.primary, p.secondary, p.type.value) for p in cfg.pipelines}
    assert owners == {
        "profit-unit": ("PR", "CW", "experiment"),
        "profit-agg": ("AM", "PR", "investor"),
        "growth-agg": ("CW", "SK", "investor"),
        "growth-daily": ("SK", "AM", "experiment"),
        "engagement-agg": ("PR", "AM", "investor"),
    }
    esc = cfg.policy.escalation
    assert (esc.backup_after.seconds, esc.commander_after.seconds, esc.lead_after.seconds) == (
        600,
        900,
        900,
    )
    assert cfg.policy.slo.completeness_min_percent == 99.5
    assert cfg.policy.rca_business_days == 5


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("team.toml", 'initials = "AM"', 'initials = "A"', "team.toml: members[0].initials"),
        (
            "team.toml",
            'tz = "Asia/Kolkata"',
            'tz = "Mars/Olympus"',
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "pipelines.toml",
            'primary = "PR"',
            'primary = "ZZ"',
            "pipelines[0].primary: unknown member 'ZZ' (valid: AM, PR, CW, SK)",
        ),
        (
            "pipelines.toml",
            'type = "experiment"',
            'type = "research"',
            "pipelines.toml: pipelines[0].type",
        ),
        (
            "pipelines.toml",
            'channel = "#investor-kpis"',
            'channel = "investor kpis"',
            "pipelines[1].channel",
        ),
        (
            "pipelines.toml",
            'slug = "growth-agg"',
            'slug = "profit-agg"',
            "slug 'profit-agg' used twice",
        ),
        (
            "rotation.toml",
            '{ primary = "PR", backup = "CW" }',
            '{ primary = "PR", backup = "QQ" }',
            "rotation.toml: weeks[1].backup: unknown member 'QQ'",
        ),
        (
            "rotation.toml",
            '{ primary = "PR", backup = "CW" }',
            '{ primary = "PR", backup = "PR" }',
            "rotation.toml: weeks[1]: primary and backup are both PR",
        ),
        (
            "rotation.toml",
            "start = 2025-08-25T09:00:00",
            "start = 2025-08-26T09:00:00",
            "is not a handoff (monday 09:00)",
        ),
        (
            "policy.toml",
            'backup_after = "10m"',
            'backup_after = "soon"',
            "policy.toml: escalation.backup_after: expected a duration",
        ),
        (
            "policy.toml",
            "start = 09:00:00",
            "start = 20:00:00",
            "business hours must end after they start",
        ),
        ("team.toml", "[[members]]", "[[members]\n", "team.toml: not valid TOML"),
    ],
)
def test_errors_name_file_field_and_value(
    confdir: Path, file: str, old: str, new: str, expected: str
) -> None:
    _edit(confdir / file, old, new)
    assert expected in _problems(confdir)


def test_missing_file(confdir: Path) -> None:
    (confdir / "rotation.toml").unlink()
    assert "rotation.toml: file not found" in _problems(confdir)


def test_policy_file_is_optional(confdir: Path) -> None:
    (confdir / "policy.toml").unlink()
    cfg = load_config(confdir)
    assert cfg.policy.escalation.backup_after.seconds == 600
