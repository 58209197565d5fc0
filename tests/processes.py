"""Helpers for tests that run `oncall-bot serve` (or redis-server) as real processes."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_config(tmp: Path, backup_after: str = "2s", step: str = "1s") -> Path:
    """The shipped schedules with escalation in seconds and one repeat (the final page)."""
    target = tmp / "schedules"
    shutil.copytree(ROOT / "schedules", target)
    policy = target / "policy.toml"
    text = policy.read_text()
    for old, new in [
        ('backup_after = "10m"', f'backup_after = "{backup_after}"'),
        ('commander_after = "15m"', f'commander_after = "{step}"'),
        ('lead_after = "15m"', f'lead_after = "{step}"'),
        ('repeat_every = "15m"', f'repeat_every = "{step}"'),
        ("repeat_count = 4", "repeat_count = 1"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    policy.write_text(text)
    return target
