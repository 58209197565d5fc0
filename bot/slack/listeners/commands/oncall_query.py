"""Parse `/oncall …` text into a query; pure, so the grammar is table-tested directly."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from bot.config.models import Member, Pipeline, TeamConfig
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.timefmt import stamp
from bot.domain.timeparse import TimeParseError, forms, parse_instant, split_zone
from bot.slack.blocks.common import extra_words

MAX_WEEKS = 52
# The most words an instant takes (`tomorrow 10:00 am Europe/London`): the search for where
# an instant ends stops there, so a long text costs a few parses, not one per word.
INSTANT_WORDS = 6
# Each subcommand's form, for the refusal of words after it (one line of `/oncall help`).
USAGE = {
    "help": "`/oncall help`",
    "now": "`/oncall now [pipeline]`, e.g. `/oncall now growth-agg`",
    "at": "`/oncall at <date time> [pipeline]`, e.g. `/oncall at 2025-10-20 08:00 growth-agg`",
    "week": "`/oncall week [date]`, e.g. `/oncall week 2025-10-20`",
    "schedule": f"`/oncall schedule [N]` (N weeks, 1 to {MAX_WEEKS}), e.g. `/oncall schedule 52`",
    "me": "`/oncall me`; for someone else's shifts `/oncall @PR` or `/oncall next @PR`",
    "next": "`/oncall next [@member]`, e.g. `/oncall next @CW`",
    "member": "`/oncall @member`, e.g. `/oncall @PR`",
}

T = TypeVar("T")


def longest_lead(
    words: list[str],
    most: int,
    parse: Callable[[str], T],
    error: type[Exception],
    skip: Callable[[str, str], bool] = lambda head, after: False,
) -> tuple[T, int] | None:
    """What the longest run of leading words parses as (at most `most` words, and at least
    one left after it), with how many words that took; None when no run parses. `parse`
    raises `error` for a run it cannot read; `skip(run, next word)` passes a cut over
    untried. How every command tells a date or window followed by more words from a bad
    date: the words after it are then a pipeline, or extra."""
    for cut in range(min(len(words) - 1, most), 0, -1):
        head = " ".join(words[:cut])
        if skip(head, words[cut]):
            continue
        try:
            return parse(head), cut
        except error:
            continue
    return None


def has_digit(word: str) -> bool:
    """A word with a digit after a date or window is a mistyped part of it (`2025-10-20
    1000`), not an extra word, so the date's own error stands."""
    return any(c.isdigit() for c in word)


QueryKind = Literal["now", "week", "schedule", "help", "shifts", "next"]


# A dataclass, not a model: built only here, from values already checked, on every
# `/oncall` (a model's construction was a fifth of the answer's own time, issue #14).
@dataclass(frozen=True, slots=True)
class OncallQuery:
    kind: QueryKind
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


def pipeline_prefix(cfg: TeamConfig, words: list[str]) -> tuple[Pipeline | None, int]:
    """The pipeline the longest run of leading words names (`growth agg`, `Growth —
    Aggregate`), and how many words that took; (None, 0) when none does."""
    for cut in range(min(len(words), 5), 0, -1):
        pipeline = find_pipeline(cfg, " ".join(words[:cut]))
        if pipeline is not None:
            return pipeline, cut
    return None, 0


def _only_pipeline(cfg: TeamConfig, command: str, words: list[str], usage: str) -> Pipeline:
    """The pipeline `words` name; words after a pipeline are refused as extra, and a name
    that is no pipeline gets the nearest one suggested."""
    pipeline, used = pipeline_prefix(cfg, words)
    if pipeline is None:
        raise QueryError(unknown_pipeline_message(cfg, " ".join(words)))
    if used < len(words):
        done = " ".join([command, *words[:used]])
        raise QueryError(extra_words(done, words[used:], usage))
    return pipeline


def _instant_and_pipeline(
    cfg: TeamConfig, command: str, words: list[str], now: datetime
) -> tuple[datetime, str, Pipeline | None]:
    text = " ".join(words)
    try:
        at, _ = parse_instant(text, now, cfg.zone)
        return at, resolved(cfg, at, text), None
    except TimeParseError as first_error:
        # The instant is the longest run of leading words that reads as one; what follows
        # is the pipeline, so a typo there (`/oncall at 2025-10-20 10:00 grwth`) blames the
        # pipeline, not the date, and words after the pipeline are refused as extra.
        found = longest_lead(
            words, INSTANT_WORDS, lambda head: parse_instant(head, now, cfg.zone)[0], TimeParseError
        )
        if found is None:
            raise QueryError(str(first_error)) from None
        at, cut = found
        head = " ".join(words[:cut])
        pipeline = _only_pipeline(cfg, f"{command} {head}".strip(), words[cut:], USAGE["at"])
        return at, resolved(cfg, at, head), pipeline


def _instant(cfg: TeamConfig, command: str, words: list[str], now: datetime) -> datetime:
    """The instant `words` name, all of them: a date followed by more words (`/oncall week
    2025-10-20 please`) is refused as extra words, not blamed as a bad date."""
    try:
        return parse_instant(" ".join(words), now, cfg.zone)[0]
    except TimeParseError:
        found = longest_lead(
            words,
            INSTANT_WORDS,
            lambda head: parse_instant(head, now, cfg.zone),
            TimeParseError,
            skip=lambda _, after: has_digit(after),
        )
        if found is None:
            raise
        head = " ".join(words[: found[1]])
        raise QueryError(
            extra_words(f"{command} {head}", words[found[1] :], USAGE["week"])
        ) from None


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
    if words[0].casefold() == "me":
        found: Member | None = None
    else:
        found = find_member(cfg, words[0])
        if found is None:
            raise QueryError(
                f"Unknown member `{words[0]}` in `{usage}`. The roster: {roster_list(cfg)}."
            )
    if len(words) > 1:
        raise QueryError(extra_words(f"/oncall next {words[0]}", words[1:], USAGE["next"]))
    return found.initials if found else None


def parse_oncall(cfg: TeamConfig, text: str, now: datetime) -> OncallQuery:
    words = text.split()
    sub = words[0].casefold() if words else "now"
    rest = words[1:]
    try:
        if sub == "help":
            if rest:
                raise QueryError(extra_words("/oncall help", rest, USAGE["help"]))
            return OncallQuery(kind="help", at=now)
        if sub == "now":
            if not rest:
                return OncallQuery(kind="now", at=now)
            named = _only_pipeline(cfg, "/oncall now", rest, USAGE["now"])
            return OncallQuery(kind="now", at=now, pipeline=named)
        if sub == "at":
            if not rest:
                raise QueryError(f"`/oncall at` needs a date or time: {forms(cfg.zone)}")
            at, asked, pipeline = _instant_and_pipeline(cfg, "/oncall at", rest, now)
            return OncallQuery(kind="now", at=at, asked=asked, pipeline=pipeline)
        if sub == "week":
            at = _instant(cfg, "/oncall week", rest, now) if rest else now
            return OncallQuery(kind="week", at=at)
        if sub == "schedule":
            count = 8
            if rest:
                # The length first: int() refuses a string of thousands of digits.
                n = rest[0]
                if not n.isdecimal() or len(n) > 3 or not 1 <= int(n) <= MAX_WEEKS:
                    raise QueryError(
                        f"`/oncall schedule {rest[0][:40]}`: give a number of weeks from 1 to "
                        f"{MAX_WEEKS} (default 8)"
                    )
                count = int(rest[0])
            if len(rest) > 1:
                raise QueryError(
                    extra_words(f"/oncall schedule {rest[0]}", rest[1:], USAGE["schedule"])
                )
            return OncallQuery(kind="schedule", at=now, count=count)
        if sub == "me":
            if rest:
                raise QueryError(extra_words("/oncall me", rest, USAGE["me"]))
            return OncallQuery(kind="shifts", at=now)
        if sub == "next":
            member = _member(cfg, rest, "/oncall next [@member]")
            return OncallQuery(kind="next", at=now, member=member)
    except TimeParseError as exc:
        raise QueryError(str(exc)) from None
    pipeline = find_pipeline(cfg, text)
    if pipeline is not None:
        return OncallQuery(kind="now", at=now, pipeline=pipeline)
    member_ = find_member(cfg, words[0])
    if member_ is not None:
        if len(words) > 1:
            raise QueryError(extra_words(f"/oncall {words[0]}", words[1:], USAGE["member"]))
        return OncallQuery(kind="shifts", at=now, member=member_.initials)
    if len(words) == 1 and looks_like_member(words[0]):
        raise QueryError(
            f"Unknown member `{words[0]}`: not on the on-call roster. "
            f"The roster: {roster_list(cfg)}."
        )
    # `/oncall <pipeline> extra`: the pipeline was understood, the rest is extra.
    pipeline, used = pipeline_prefix(cfg, words)
    if pipeline is not None:
        done = "/oncall " + " ".join(words[:used])
        raise QueryError(extra_words(done, words[used:], USAGE["now"]))
    # `/oncall <date> [pipeline]` is `/oncall at <date> [pipeline]`.
    try:
        at, asked, pipeline = _instant_and_pipeline(cfg, "/oncall", words, now)
        return OncallQuery(kind="now", at=at, asked=asked, pipeline=pipeline)
    except (TimeParseError, QueryError) as exc:
        if _DATE_LIKE.match(words[0]):
            raise QueryError(str(exc)) from None
    raise QueryError(f"Unknown subcommand `{words[0][:40]}`.", show_usage=True)
