"""The tour: one scripted console session through every flow a new user meets, written out
as docs/tour.md.

    .venv/bin/python -m bot.devtools.tour > docs/tour.md

The same run is what tests/e2e/test_readable.py checks message by message (Block Kit
validity, readability), so the tour a user reads and the messages the tests review are one
and the same.

It is deterministic: a fake clock from a fixed instant, a fresh store, message timestamps
taken from the fake clock (they show in the permalinks of page DMs), and one delivery worker:
with several, notices claimed together reach Slack in an order that depends on scheduling
(a page DM and its checklist trade places on a busy machine), and the console numbers
buttons in the order messages arrive.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig, load_config
from bot.console import Console
from bot.devtools.fakeslack import Call, FakeSlack
from bot.devtools.harness import Harness, Response
from bot.domain.timefmt import stamp
from bot.domain.timeparse import parse_instant

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python -m bot.devtools.tour > docs/tour.md"
# Diwali and the first Monday of a rotation cycle: a holiday exchange is in every answer.
START = "2025-10-20 10:00"


@dataclass(frozen=True)
class Step:
    title: str
    intro: str
    lines: tuple[str, ...]


STEPS = (
    Step(
        "What the bot can do",
        "Every command has a help; `/oncall help` lists the questions it answers.",
        ("/oncall help",),
    ),
    Step(
        "Who is on call",
        "`/oncall` answers only you. Today is Diwali, a critical holiday: the week's Backup "
        "is Primary until midnight.",
        ("/oncall", "/oncall now growth-agg", "/oncall at 2025-10-22 03:00 UTC", "/oncall week"),
    ),
    Step(
        "A page that escalates",
        "`/page` posts the page in the pipeline's channel, its runbook checklist in the "
        "thread, and DMs the Primary. Nobody answers for 12 minutes, so it escalates to the "
        "Backup.",
        ("/page growth-agg sev1 DAU table is 2 h late", "advance 12m"),
    ),
    Step(
        "Working the checklist, then ACK",
        "Priya ticks a step before anyone has ACKed: only she is reminded that the page "
        "keeps escalating. She ACKs from that reminder and ticks on.",
        ("as PR", "tick 6", "press 16", "tick 7", "press 2"),
    ),
    Step(
        "A swap, approved",
        "Alex is Primary on Thursday and asks Chen, who is off duty, to take it. Chen approves "
        "from the DM; the team channel is told.",
        ("as AM", "/swap @CW 2025-10-23", "as CW", "press 17"),
    ),
    Step(
        "A swap asked with the form, declined",
        "`/swap` alone opens a form; each field is filled by number.",
        (
            "as PR",
            "/swap",
            "fill 1 SK",
            "fill 2 2025-10-24",
            "fill 4 2025-10-25",
            "submit",
            "as SK",
            "press 20",
        ),
    ),
    Step(
        "PTO",
        "Priya records leave; the answer says she is on call during it. She lists her leave, "
        "and the 52-week schedule shows the conflict next to the holiday exchanges and the "
        "swap; then she cancels it.",
        (
            "as PR",
            "/oncall pto 2025-10-28..2025-10-29",
            "/oncall pto",
            "/oncall schedule 52",
            "/oncall pto cancel 1",
            "/oncall pto",
        ),
    ),
)


@dataclass
class TourSlack(FakeSlack):
    """The fake Slack, with message timestamps from the fake clock rather than the wall
    clock: they appear in permalinks, and the tour must read the same on every run."""

    clock: FakeClock | None = None
    _tour_ts: int = 0

    def _next_ts(self) -> str:
        assert self.clock is not None
        us = max(int(self.clock.now().timestamp()) * 1_000_000, self._tour_ts + 1)
        self._tour_ts = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"


@dataclass
class RecordingHarness(Harness):
    """The harness, keeping every HTTP answer the app gave Slack (the ack bodies: an
    ephemeral reply to a command, a modal's field errors), which the fake Slack never sees."""

    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def signed(self, body: str, timestamp: int | None = None) -> Response:
        resp = await super().signed(body, timestamp)
        if resp.status == 200 and resp.text.startswith("{"):
            self.answers.append((_request_label(body), resp.json))
        return resp


def _request_label(body: str) -> str:
    """What a request was, to say which answer a finding is in: `/oncall pto`, a button."""
    form = dict(parse_qsl(body))
    if "command" in form:
        return f"{form['command']} {form.get('text', '')}".strip()
    payload = json.loads(form.get("payload", "{}"))
    if payload.get("type") == "view_submission":
        return f"submit {payload.get('view', {}).get('callback_id', '')}"
    actions = payload.get("actions") or [{}]
    return f"{payload.get('type', '')} {actions[0].get('action_id', '')}".strip()


@dataclass
class TourRun:
    transcript: list[tuple[Step, str]]
    # Everything the fake Slack received, in order, including calls it rejected as invalid.
    calls: list[Call]
    rejected: list[tuple[str, str]]
    # The app's HTTP answers to Slack (ack bodies) with the request each answered.
    answers: list[tuple[str, dict[str, Any]]]
    started: str  # the first instant, as the bot writes instants


def start_instant(config: TeamConfig) -> datetime:
    """START as `oncall-bot console --at` reads it (in the rotation's zone); it names no
    relative day, so the `now` it is read against does not matter."""
    return parse_instant(START, datetime.fromisoformat(f"{START}+00:00"), config.zone)[0]


async def run_tour(redis: Redis, config: TeamConfig | None = None) -> TourRun:
    cfg = config or load_config(ROOT / "schedules")
    start = start_instant(cfg)
    clock = FakeClock(start)
    overrides = {
        "config_dir": ROOT / "schedules",
        "runbooks_dir": ROOT / "runbooks",
        "delivery_workers": 1,
    }
    slack = TourSlack(clock=clock)
    harness = RecordingHarness(redis, clock, cfg, settings_overrides=overrides, slack=slack)
    await harness.start()
    out = io.StringIO()
    console = Console(harness, clock, cfg, out, color=False, tickers=[harness.run_jobs])
    transcript: list[tuple[Step, str]] = []
    try:
        for step in STEPS:
            out.seek(0)
            out.truncate()
            for line in step.lines:
                console.say(f"{console.user}> {line}")
                await console.handle(line)
            transcript.append((step, out.getvalue()))
    finally:
        await harness.stop()
    calls = sorted([*slack.calls, *slack.failed_calls], key=lambda c: c.at)
    started = stamp(start, cfg.zone)
    return TourRun(transcript, calls, list(slack.invalid), harness.answers, started)


def _fence(text: str) -> str:
    # Longer than any run of backticks in the transcript (Slack code blocks are ```).
    ticks = 3
    while "`" * ticks in text:
        ticks += 1
    return "`" * ticks


def markdown(run: TourRun) -> str:
    out = [
        "# A tour of oncall-bot",
        "",
        "What a new user sees, step by step: a console session (`oncall-bot console`) on the "
        f"shipped configuration, starting on {run.started}. Each `XX>` line is "
        "typed by the member named; the rest is what the bot posts, as Slack would show it "
        "(`[1: ACK]` is a button, `press 1` presses it; `tick 5` toggles checkbox 5). To "
        f'try it yourself, run `.venv/bin/oncall-bot console --at "{START}"` and type the '
        "same lines; messages sent at the same moment may print there in another order, and "
        "buttons are numbered in the order they print.",
        "",
        f"This file is generated: `{COMMAND}`.",
    ]
    for step, text in run.transcript:
        fence = _fence(text)
        out += ["", f"## {step.title}", "", step.intro, "", f"{fence}text", text.rstrip(), fence]
    return "\n".join(out) + "\n"


async def _main() -> int:
    from bot.store.connection import embedded

    redis = embedded()
    try:
        run = await run_tour(redis)
    finally:
        await redis.aclose()
    sys.stdout.write(markdown(run))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
