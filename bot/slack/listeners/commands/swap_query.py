"""Parse `/swap …` text into a query; pure, so the grammar is table-tested directly."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.config.models import TeamConfig
from bot.domain.swaps import SwapError, Window, parse_swap_window
from bot.slack.blocks.common import extra_words
from bot.slack.listeners.commands.oncall_query import INSTANT_WORDS, has_digit, longest_lead

# Slack sends `<@U123|name>` or `<@U123>`; the console and people type `@CW` or `CW`.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_FOR = re.compile(r"\s+for\s+", re.I)
# Each subcommand's form, for the refusal of words after it (one line of `/swap help`).
USAGE = {
    "help": "`/swap help`",
    "list": "`/swap list`",
    "cancel": "`/swap cancel <id>`, e.g. `/swap cancel 12`",
    "request": "`/swap @member <window> [for <window>]`, e.g. `/swap @CW 2025-09-03`",
}


class ExtraWords(SwapError):
    """Words after a complete window: the message is whole, usage included."""


class SwapQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["modal", "list", "cancel", "request", "help"]
    swap_id: int | None = None
    counterpart: str | None = None
    window: Window | None = None
    back: Window | None = None


def find_member(cfg: TeamConfig, token: str) -> str | None:
    """Initials for a mention, `@CW`, `cw` or a first name; None when nobody matches."""
    m = _MENTION.match(token)
    if m:
        member = cfg.member_by_slack_id(m.group(1))
        return member.initials if member else None
    word = token.lstrip("@").casefold()
    for member in cfg.members:
        if word in (member.initials.casefold(), member.name.split()[0].casefold()):
            return member.initials
    return None


def roster(cfg: TeamConfig) -> str:
    return ", ".join(f"@{m.initials} ({m.name})" for m in cfg.members)


def parse_swap(cfg: TeamConfig, text: str, now: datetime) -> SwapQuery:
    words = text.split()
    if not words:
        return SwapQuery(kind="modal")
    head = words[0].casefold()
    if head in ("help", "list") and len(words) > 1:
        raise SwapError(extra_words(f"/swap {head}", words[1:], USAGE[head]))
    if head == "help":
        return SwapQuery(kind="help")
    if head == "list":
        return SwapQuery(kind="list")
    if head == "cancel":
        if len(words) < 2 or not words[1].lstrip("#").isdecimal():
            raise SwapError("Say which swap to cancel by its number, e.g. `/swap cancel 12`.")
        if len(words) > 2:
            raise SwapError(extra_words(f"/swap cancel {words[1]}", words[2:], USAGE["cancel"]))
        return SwapQuery(kind="cancel", swap_id=int(words[1].lstrip("#")))
    who = find_member(cfg, words[0])
    if who is None:
        raise SwapError(
            f"`{words[0]}` is not on the roster. Name one of {roster(cfg)}, e.g. "
            "`/swap @CW 2025-09-03`; or use `/swap list`, `/swap cancel <id>`, `/swap help`.",
            "counterpart",
        )
    rest = " ".join(words[1:])
    if not rest:
        raise SwapError(
            f"Say when: `/swap {words[0]} <window>`, e.g. `/swap {words[0]} 2025-09-03`."
        )
    parts = _FOR.split(rest, maxsplit=1)
    done = f"/swap {words[0]}"
    window = whole_window(cfg, parts[0], now, done, USAGE["request"])
    back = None
    if len(parts) == 2:
        try:
            back = whole_window(cfg, parts[1], now, f"{done} {parts[0]} for", USAGE["request"])
        except ExtraWords:
            raise
        except SwapError as exc:
            raise SwapError(f"After `for`: {exc}", "back") from None
    return SwapQuery(kind="request", counterpart=who, window=window, back=back)


def whole_window(cfg: TeamConfig, text: str, now: datetime, before: str, usage: str) -> Window:
    """The window `text` names, all of it: a window followed by words (`2025-09-03 please`)
    is refused as extra words rather than blamed as a bad date. Words with a digit after a
    window are a mistyped part of it (`2025-09-03 0900..18:00`), so its own error stands."""
    try:
        return parse_swap_window(cfg, text, now)
    except SwapError:
        words = text.split()
        found = longest_lead(
            words,
            # A window is at most a few words more than an instant (`week …`, `… .. …`).
            INSTANT_WORDS + 2,
            lambda head: parse_swap_window(cfg, head, now),
            SwapError,
            skip=lambda head, after: head.casefold() == "week" or has_digit(after),
        )
        if found is None:
            raise
        head = " ".join(words[: found[1]])
        raise ExtraWords(extra_words(f"{before} {head}", words[found[1] :], usage)) from None
