"""The examples in README.md and docs/*.md run as written, from the repository, as someone
who followed README's install runs them: the venv exists but is not activated, so `python`
is not the venv's and `oncall-bot` is `.venv/bin/oncall-bot`.

Examples are the commands of ```sh blocks and the `$ ` lines of console blocks, and the
`oncall-bot …` commands named inline in the prose (run as `.venv/bin/oncall-bot …`). Each
runs in a fresh shell with none of the bot's settings in its environment. The few that
cannot run here are listed in NOT_RUN with the reason; a new example runs unless it is.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT
from tests.processes import free_port

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = ROOT / ".venv" / "bin"
REDIS_URL = os.environ.get("REDIS_URL")

# Searched in each command; the first match says why it is not run.
NOT_RUN = {
    r"^docker ": "needs a Docker daemon and builds an image (minutes)",
    r"> \.env$": "writes .env for docker compose, the first step of that walk-through",
    r"^\.venv/bin/pytest": "the whole suite (about 8 minutes), this test among it",
    r"^bash \.ci/run": "what CI runs: the whole suite and the lint gates",
    r"^\.venv/bin/(ruff|mypy)": "the lint gates, which CI runs: a lint problem is no docs problem",
    r"members --resolve": "asks a real Slack workspace (needs its SLACK_BOT_TOKEN)",
    r"check --slack": "asks a real Slack workspace (needs its SLACK_BOT_TOKEN)",
    r"^oncall-bot serve( --embedded-store)?$": "runs until stopped; the curl examples run "
    "against `serve --embedded-store`",
    r"export --rca INC-7": "needs an incident INC-7 with an RCA in Redis",
    r"<id>": "a placeholder to fill in",
}
# README's install, done already: this test runs in the venv it made.
INSTALLED = re.compile(r"^python3 -m venv \.venv && \.venv/bin/pip install -q -e \S+ && ")
NEEDS_REDIS = re.compile(r"oncall-bot (export|outbox)\b")
# Console sessions must do what their script asks; these are its complaints.
CONSOLE_ERRORS = ("No element `", "Unknown console command", "No form is open", "[HTTP ")
# What the prose around a session says it shows (a substring of the command → the output).
EXPECT = {
    "/swap @CW 2025-09-03": [
        "[1: Approve] [2: Decline]",
        "Primary: Chen Wu (@CW)\nBackup: Priya Rao (@PR)",
        "CW⇄PR",
    ],
    "tick 1\\nas CW\\ntick 2": ["[x] 1. Stream lag  (✓ Alex Mehta", "[x] 2. Ingestion rate"],
    "/oncall now growth-agg": ["for Growth — Aggregate ==", "4. Data Platform Lead"],
}


# `NAME=value` alone on its line (the value may be `$(a command)`), then maybe a comment.
_ASSIGNMENT = re.compile(r"([A-Za-z_]\w*=(?:\$\([^)]*\)|\S+))\s*(?:#.*)?")


@dataclass(frozen=True)
class Example:
    where: str  # README.md:51
    command: str
    inline: bool = False

    def __str__(self) -> str:
        return self.where


def _commands(block: str, prompt: bool) -> Iterator[str]:
    """The commands of a block: every line of a shell block, the `$ ` lines of a console
    block; a command continues over `\\` and over lines inside an open quote. A bare
    assignment (`DAY=$(date +%F)`) is kept for the block's later commands, as a shell would."""
    assignments = ""
    pending = ""
    for line in block.splitlines():
        if not pending:
            if prompt:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        assignment = _ASSIGNMENT.fullmatch(pending)
        if assignment:
            assignments += assignment.group(1) + "; "
        else:
            yield assignments + pending
        pending = ""


def examples() -> list[Example]:
    found: list[Example] = []
    seen: set[str] = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        name = doc.relative_to(ROOT).as_posix()
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            lang = m.group(1)
            if lang not in ("sh", "shell", "bash", "console", ""):
                continue
            line = text.count("\n", 0, m.start()) + 1
            for command in _commands(m.group(2), prompt=lang in ("console", "")):
                found.append(Example(f"{name}:{line}", command))
        for m in re.finditer(r"(?<!`)`((?:\.venv/bin/)?oncall-bot(?: [^`]*)?)`", text):
            command = m.group(1).removeprefix(".venv/bin/")
            if command not in seen:
                seen.add(command)
                line = text.count("\n", 0, m.start()) + 1
                found.append(Example(f"{name}:{line} (inline)", command, inline=True))
    return found


EXAMPLES = examples()


def _fresh_env() -> dict[str, str]:
    """The environment of a new shell: the venv not activated, none of the bot's settings."""
    venv = str(VENV_BIN)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONCALL_", "SLACK_", "SMTP_", "PYTEST", "VIRTUAL_ENV"))
        and k not in ("REDIS_URL", "ALERTS_TOKEN", "CALENDAR_TOKEN", "PORT", "PYTHONPATH")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv)
    return env


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """`oncall-bot serve --embedded-store` for the curl examples, on a free port (3000 may
    be taken on a shared machine; PORT is the documented way to move it). Slack is out of
    reach, which serve warns about and runs anyway."""
    port = free_port()
    env = {
        **_fresh_env(),
        "PORT": str(port),
        "SLACK_BOT_TOKEN": "xoxb-docs-examples",
        "SLACK_SIGNING_SECRET": "docs-examples",
        "ALERTS_TOKEN": "docs-examples-token",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
    }
    proc = subprocess.Popen(
        [str(VENV_BIN / "oncall-bot"), "serve", "--embedded-store"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not come up (exit {proc.poll()})") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_examples_are_found() -> None:
    commands = [e.command for e in EXAMPLES]
    assert len(EXAMPLES) >= 20
    assert any(c.endswith("| .venv/bin/oncall-bot console") for c in commands)
    assert any("curl" in c and "/runs" in c and c.startswith("DAY=") for c in commands)
    assert any(e.where.startswith("docs/swaps.md") and "console" in e.command for e in EXAMPLES)
    assert "oncall-bot check" in commands


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_runs_as_written(example: Example, request: pytest.FixtureRequest) -> None:
    command = INSTALLED.sub("", example.command)
    for pattern, why in NOT_RUN.items():
        if re.search(pattern, command):
            pytest.skip(why)
    env = _fresh_env()
    if NEEDS_REDIS.search(command):
        if not REDIS_URL:
            pytest.skip("needs REDIS_URL")
        # The test's own database, never the one the example names.
        command = re.sub(r"REDIS_URL=redis://\S+", f"REDIS_URL={REDIS_URL}", command)
        env["REDIS_URL"] = REDIS_URL
    if "curl " in command:
        port = request.getfixturevalue("server")
        command = command.replace("http://localhost:3000", f"http://127.0.0.1:{port}")
        env["ALERTS_TOKEN"] = "docs-examples-token"
    if example.inline:
        command = f"{VENV_BIN.relative_to(ROOT)}/{command}"
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{example.where}: `{command}` exited {done.returncode}:\n{out}"
    assert "Traceback" not in out, f"{example.where}: `{command}`:\n{out}"
    if "console" in command:
        errors = [line for line in out.splitlines() if line.startswith(CONSOLE_ERRORS)]
        assert not errors, f"{example.where}: the session went wrong: {errors}\n{out}"
    for key, wanted in EXPECT.items():
        if key in command:
            missing = [w for w in wanted if w not in out]
            assert not missing, f"{example.where}: the docs promise {missing}; it printed:\n{out}"
    if "curl " in command:
        answer = json.loads(done.stdout)
        assert answer.get("ok") is True, f"{example.where}: {done.stdout}"


def test_no_example_calls_a_python_outside_the_venv() -> None:
    """`python -m bot …` fails outside the venv (no slack_bolt there): say `.venv/bin/…`."""
    bare = [
        e.where
        for e in EXAMPLES
        if re.search(r"(^|[|;&]\s*)python3? -m bot\b", e.command, re.M) and not e.inline
    ]
    assert not bare, bare
