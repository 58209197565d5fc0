"""Helpers for paging tests: read what the fake Slack was told, move the clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import FakeClock
from bot.devtools.fakeslack import Call
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload

IDS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}
INITIALS = {v: k for k, v in IDS.items()}


def dms(harness: Harness) -> list[tuple[str, str]]:
    """(initials, text) of every page DM, in order (swap reminders and RCA DMs are left
    out: a page DM names the page, `Page INC-n`, or lists several)."""
    return [
        (INITIALS[str(c.args["channel"])[1:]], str(c.args["text"]))
        for c in harness.slack.of("chat.postMessage")
        if str(c.args.get("channel", "")).startswith("D")
        and ("Page INC-" in str(c.args["text"]) or "You are paged for" in str(c.args["text"]))
    ]


def thread(harness: Harness) -> list[str]:
    return [
        str(c.args["text"])
        for c in harness.slack.of("chat.postMessage")
        if c.args.get("thread_ts") and "Diagnostics checklist" not in str(c.args.get("text"))
    ]


def page_posts(harness: Harness) -> list[Call]:
    return [
        c
        for c in harness.slack.of("chat.postMessage")
        if not str(c.args.get("channel", "")).startswith("D")
        and not c.args.get("thread_ts")
        and "Page INC-" in str(c.args.get("text"))
    ]


async def advance(harness: Harness, minutes: float, step: float = 0.5) -> None:
    """Move the fake clock in `step`-minute steps (30 s unless told), running the background
    jobs at each. A day in 30 s steps is 2,880 rounds of every job: half a minute of CI."""
    clock = harness.clock
    assert isinstance(clock, FakeClock)
    target = clock.now() + timedelta(minutes=minutes)
    while clock.now() < target:
        clock.set(min(clock.now() + timedelta(minutes=step), target))
        await harness.run_jobs()


def page_message(harness: Harness, incident_id: str) -> dict[str, Any]:
    """The page message as it now reads in its channel (after every chat.update)."""
    return next(
        m
        for (channel, _), m in reversed(list(harness.slack.messages.items()))
        if not channel.startswith("D")
        and not m.get("thread_ts")
        and f"Page {incident_id} " in str(m.get("text"))
    )


def button_value(message: dict[str, Any], action_id: str) -> str | None:
    for block in message.get("blocks") or []:
        for el in block.get("elements") or []:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return str(el.get("value"))
    return None


async def press(harness: Harness, user: str, action_id: str, incident_id: str) -> Any:
    """`user` presses a button on the page message as it reads now."""
    message = page_message(harness, incident_id)
    value = button_value(message, action_id) or incident_id
    payload = block_actions_payload(
        user_id=IDS.get(user, user),
        action={"type": "button", "action_id": action_id, "value": value},
        block_id="page_actions",
        response_url=harness.slack.response_url(),
        channel=str(message["channel"]),
    )
    return await harness.interact(payload)


def ephemeral_replies(harness: Harness) -> list[str]:
    return [str(c.args.get("text")) for c in harness.slack.of("response_url")]
