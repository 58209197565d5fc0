"""Parse `/oncall …` text into a query; pure, so the grammar is table-tested directly."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.config.models import Member, Pipeline, TeamConfig
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.timefmt import stamp
from bot.domain.timeparse import FORMS, TimeParseError, parse_instant, split_zone

MAX_WEEKS = 52


class OncallQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["now", "week", "schedule", "help", "shifts", "next"]
    at: datetime
    asked: str = "now"
    pipeline: Pipeline | None = None
    count: int = 8
    # For "shifts" and "next": whose, by initials; None means the person asking.
    member: str | None = None


class QueryError(ValueError):
    def __init__(self, message: str, show_usage: bool = False) -> None:
        super().__init__(message)
        self.show_usage = show_usage


def resolved(cfg: TeamConfig, at: datetime, typed: str) -> str:
    """How a header names the instant asked about: as resolved, in the rotation's zone with
    the weekday (`at Mon 20 Oct 2025, 19:30 IST`), and as typed in another zone when one was
    given (`… (10:00 America/New_York)`), never the words typed (`tomorrow 10:00`)."""
    label = f"at {stamp(at, cfg.zone)}"
    _, zone = split_zone(typed.strip(), cfg.zone)
    if zone != cfg.zone:
        label += f" ({at.astimezone(zone):%H:%M} {zone})"
    return label


def _instant_and_pipeline(
    cfg: TeamConfig, words: list[str], now: datetime
) -> tuple[datetime, str, Pipeline | None]:
    text = " ".join(words)
    try:
        at, _ = parse_instant(text, now, cfg.zone)
        return at, resolved(cfg, at, text), None
    except TimeParseError as first_error:
        # The pipeline, if any, is the tail: try the longest tail that names one.
        for cut in range(1, min(4, len(words))):
            pipeline = find_pipeline(cfg, " ".join(words[-cut:]))
            if pipeline is not None:
                head = " ".join(words[:-cut])
                at, _ = parse_instant(head, now, cfg.zone)
                return at, resolved(cfg, at, head), pipeline
        # A date that parses without its last word: that word is a mistyped pipeline
        # (`/oncall at 2025-10-20 10:00 grwth`), not a bad date.
        if len(words) > 1:
            try:
                parse_instant(" ".join(words[:-1]), now, cfg.zone)
            except TimeParseError:
                pass
            else:
                raise QueryError(unknown_pipeline_message(cfg, words[-1])) from None
        raise QueryError(str(first_error)) from None


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")


def roster_list(cfg: TeamConfig) -> str:
    return ", ".join(f"`@{m.initials}` ({m.name})" for m in cfg.members)


def find_member(cfg: TeamConfig, token: str, bare: bool = True) -> Member | None:
    """`@PR`, `<@U0PRRAO002>` (Slack's mention form) and, when `bare`, `PR` or `pr`;
    None when `token` names no member of the roster."""
    mention = _MENTION.match(token)
    if mention:
        return cfg.member_by_slack_id(mention.group(1))
    if token.startswith("@"):
        token = token[1:]
    elif not bare:
        return None
    return next((m for m in cfg.members if m.initials == token.upper()), None)


def looks_like_member(token: str) -> bool:
    return token.startswith("@") or _MENTION.match(token) is not None


def _member(cfg: TeamConfig, words: list[str], usage: str) -> str | None:
    if not words:
        return None
    token = " ".join(words)
    if len(words) == 1 and token.casefold() == "me":
        return None
    found = find_member(cfg, token) if len(words) == 1 else None
    if found is None:
        raise QueryError(f"Unknown member `{token}` in `{usage}`. The roster: {roster_list(cfg)}.")
    return found.initials


def parse_oncall(cfg: TeamConfig, text: str, now: datetime) -> OncallQuery:
    words = text.split()
    sub = words[0].casefold() if words else "now"
    rest = words[1:]
    try:
        if sub == "help":
            return OncallQuery(kind="help", at=now)
        if sub == "now":
            if not rest:
                return OncallQuery(kind="now", at=now)
            pipeline = find_pipeline(cfg, " ".join(rest))
            if pipeline is None:
                raise QueryError(unknown_pipeline_message(cfg, " ".join(rest)))
            return OncallQuery(kind="now", at=now, pipeline=pipeline)
        if sub == "at":
            if not rest:
                raise QueryError(f"`/oncall at` needs a date or time: {FORMS}")
            at, asked, pipeline = _instant_and_pipeline(cfg, rest, now)
            return OncallQuery(kind="now", at=at, asked=asked, pipeline=pipeline)
        if sub == "week":
            at = parse_instant(" ".join(rest), now, cfg.zone)[0] if rest else now
            return OncallQuery(kind="week", at=at)
        if sub == "schedule":
            count = 8
            if rest:
                if not rest[0].isdecimal() or not 1 <= int(rest[0]) <= MAX_WEEKS:
                    raise QueryError(
                        f"`/oncall schedule {rest[0]}`: give a number of weeks from 1 to "
                        f"{MAX_WEEKS} (default 8)"
                    )
                count = int(rest[0])
            if len(rest) > 1:
                raise QueryError(
                    f"`/oncall schedule` takes one number of weeks; "
                    f"`{' '.join(rest[1:])[:40]}` is more than it understands."
                )
            return OncallQuery(kind="schedule", at=now, count=count)
        if sub == "me":
            if rest:
                raise QueryError(
                    "`/oncall me` takes nothing more: for someone else's shifts use "
                    "`/oncall @PR` or `/oncall next @PR`."
                )
            return OncallQuery(kind="shifts", at=now)
        if sub == "next":
            member = _member(cfg, rest, "/oncall next [@member]")
            return OncallQuery(kind="next", at=now, member=member)
    except TimeParseError as exc:
        raise QueryError(str(exc)) from None
    pipeline = find_pipeline(cfg, text)
    if pipeline is not None:
        return OncallQuery(kind="now", at=now, pipeline=pipeline)
    if len(words) == 1:
        member_ = find_member(cfg, words[0])
        if member_ is not None:
            return OncallQuery(kind="shifts", at=now, member=member_.initials)
        if looks_like_member(words[0]):
            raise QueryError(
                f"Unknown member `{words[0]}`: not on the on-call roster. "
                f"The roster: {roster_list(cfg)}."
            )
    # `/oncall <date> [pipeline]` is `/oncall at <date> [pipeline]`.
    try:
        at, asked, pipeline = _instant_and_pipeline(cfg, words, now)
        return OncallQuery(kind="now", at=at, asked=asked, pipeline=pipeline)
    except (TimeParseError, QueryError) as exc:
        if _DATE_LIKE.match(words[0]):
            raise QueryError(str(exc)) from None
    raise QueryError(f"Unknown subcommand `{words[0]}`.", show_usage=True)
