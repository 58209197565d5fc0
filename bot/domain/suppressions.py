"""Maintenance-window suppressions (issue #10): the rules, as pure functions over pydantic models.

`/oncall suppress <pipeline|all> <duration or until-time> <reason>` silences paging for a
pipeline (or every pipeline) for a while: its alerts are still recorded and counted, and the
start and the end (with the count) are announced in the pipeline's channel. Investor
pipelines are read by investors every morning, so silencing one (or `all`, which includes
them) needs a reason and may last at most `policy.suppression.investor_cap`; an experiment
pipeline that is a hard dependency of an investor one pages like one, so it is held to the
same rule. Times are read in the team's zone unless a zone is given.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from pydantic import BaseModel, ConfigDict

from bot.config.models import Pipeline, TeamConfig, parse_duration
from bot.domain.durations import human_duration
from bot.domain.names import find_pipeline, suggest_pipeline
from bot.domain.timefmt import stamp
from bot.domain.timeparse import TimeParseError, parse_instant, split_zone

ALL = "all"
USAGE = (
    "`/oncall suppress <pipeline|all> <duration or until-time> <reason>`, "
    "e.g. `/oncall suppress growth-agg 2h warehouse maintenance`"
)
END_FORMS = (
    "`90m`, `2h`, `1h30m`, `until 14:00`, `until tomorrow 09:00` or "
    "`until 2025-10-20 14:00` (in the team's zone unless a zone is given, e.g. `until 14:00 UTC`)"
)
REASON_MAX = 300
# A pipeline's name may be several words (`growth agg`, `Growth — Aggregate`).
_NAME_WORDS = 4
_END_WORDS = 4  # `until 2025-10-20 14:00 UTC` is three words after `until`
_DURATION = re.compile(r"(?:\d+(?:d|h|min|m|sec|s))+")
_DURATION_PART = re.compile(r"\d+(?:d|h|min|m|sec|s)")
_TIME_OF_DAY = re.compile(r"\d{1,2}(?::\d{2})?\s*(?:am|pm)?", re.I)
_ID = re.compile(r"s-?(\d+)", re.I)


class SuppressionError(ValueError):
    """A request the rules refuse; the message says what was wrong and what is valid."""


class SuppressRequest(BaseModel):
    """What `/oncall suppress` asked for, checked against the policy."""

    model_config = ConfigDict(frozen=True)

    pipeline: str  # a slug, or ALL
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


class Suppression(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str  # "S-3"
    pipeline: str  # a slug, or ALL
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    created_by: str  # initials
    created_at: datetime
    # Alerts it kept from paging; the store's counter is the truth while it is live.
    suppressed: int = 0
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None

    @property
    def ended_at(self) -> datetime:
        """When it stopped: its end, or earlier when cancelled."""
        if self.cancelled_at is not None and self.cancelled_at < self.ends_at:
            return self.cancelled_at
        return self.ends_at

    @property
    def covers_all(self) -> bool:
        return self.pipeline == ALL


def covers(suppression: Suppression, pipeline: str, at: datetime) -> bool:
    """Whether `suppression` silences `pipeline` (a slug) at `at`: end exclusive."""
    if suppression.pipeline not in (ALL, pipeline):
        return False
    return suppression.starts_at <= at < suppression.ended_at


def parse_id(text: str) -> str:
    """`S-3`, `s3` and `3` all name suppression S-3."""
    m = _ID.fullmatch(text.strip()) or re.fullmatch(r"(\d+)", text.strip())
    if not m:
        raise SuppressionError(
            f"`{text}` is not a suppression id: use the id `/oncall suppressions` shows, "
            "e.g. `/oncall unsuppress S-3`."
        )
    return f"S-{int(m.group(1))}"


def needs_guard(cfg: TeamConfig, pipeline: str) -> list[Pipeline]:
    """The investor-grade pipelines a suppression of `pipeline` silences: investor ones, and
    experiment ones that are a hard dependency of one (they page like investor ones)."""
    chosen = cfg.pipelines if pipeline == ALL else [cfg.pipeline(pipeline)]
    return [p for p in chosen if p.investor or p.hard_dependency_of]


def _pipeline(cfg: TeamConfig, words: list[str]) -> tuple[str, list[str]]:
    """The pipeline the leading words name (the longest match wins), and the words left."""
    if words[0].casefold() == ALL:
        return ALL, words[1:]
    for n in range(min(_NAME_WORDS, len(words)), 0, -1):
        p = find_pipeline(cfg, " ".join(words[:n]))
        if p is not None:
            return p.slug, words[n:]
    raise _unknown(cfg, words[0])


def _unknown(cfg: TeamConfig, word: str) -> SuppressionError:
    hint = suggest_pipeline(cfg, word)
    did = f" Did you mean `{hint}`?" if hint else ""
    valid = ", ".join(f"`{p.slug}`" for p in cfg.pipelines)
    return SuppressionError(f"Unknown pipeline `{word}`.{did} Valid: {valid}, or `all`.")


def _duration(words: list[str]) -> tuple[timedelta, int] | None:
    """A duration from the leading words (`2h`, `1h30m`, `2 h 30 min`) and how many it took."""
    for n in range(min(_END_WORDS, len(words)), 0, -1):
        text = "".join(words[:n]).casefold()
        if _DURATION.fullmatch(text):
            total = sum((parse_duration(p) for p in _DURATION_PART.findall(text)), timedelta())
            return total, n
    return None


def _until(words: list[str], now: datetime, zone: tzinfo) -> tuple[datetime, int]:
    """The end instant from the words after `until`, and how many it took (the longest that
    reads as a time wins, so the reason may follow)."""
    if not words:
        raise SuppressionError(f"`until` needs a time: {END_FORMS}.")
    for n in range(min(_END_WORDS, len(words)), 0, -1):
        text = " ".join(words[:n])
        body, _ = split_zone(text, zone)
        # A bare time of day means today: rolling over to tomorrow would silently suppress
        # for almost a day when someone types a time that has just passed.
        if _TIME_OF_DAY.fullmatch(body):
            text = "today " + text
        try:
            at, has_time = parse_instant(text, now, zone)
        except TimeParseError:
            continue
        if not has_time:
            raise SuppressionError(
                f"`until {' '.join(words[:n])}` needs a time of day, e.g. `until {words[0]} 14:00`."
            )
        return at, n
    raise SuppressionError(f"`until {words[0]}` is not a time I can read: use {END_FORMS}.")


def parse_suppress(
    text: str, cfg: TeamConfig, now: datetime, zone: tzinfo | None = None
) -> SuppressRequest:
    """Parse the arguments of `/oncall suppress` and apply the policy; raise
    SuppressionError saying what was wrong and what is valid."""
    zone = zone or cfg.zone
    words = text.split()
    if not words:
        raise SuppressionError(f"Say what to suppress and for how long: {USAGE}.")
    pipeline, rest = _pipeline(cfg, words)
    if rest and rest[0].casefold() == "for":
        rest = rest[1:]
    if not rest:
        raise SuppressionError(f"Say for how long to suppress `{pipeline}`: {END_FORMS}.")

    if rest[0].casefold() == "until":
        ends_at, used = _until(rest[1:], now, zone)
        rest = rest[1 + used :]
    else:
        found = _duration(rest)
        if found is None:
            word = rest[0]
            if word.isdigit():
                raise SuppressionError(
                    f"`{word}` needs a unit, e.g. `{word}m` or `{word}h`: use {END_FORMS}."
                )
            raise SuppressionError(f"`{word}` is not a duration or an end time: use {END_FORMS}.")
        length, used = found
        if length <= timedelta(0):
            raise SuppressionError(f"A suppression must last longer than zero: use {END_FORMS}.")
        ends_at = now + length
        rest = rest[used:]
    request = SuppressRequest(
        pipeline=pipeline, starts_at=now, ends_at=ends_at, reason=" ".join(rest)[:REASON_MAX]
    )
    check_request(cfg, request, now, zone)
    return request


def check_request(
    cfg: TeamConfig, request: SuppressRequest, now: datetime, zone: tzinfo | None = None
) -> None:
    """Apply the policy to a request however it was made (command text or a form): a known
    pipeline, an end still ahead, and for investor-grade pipelines a reason and the cap."""
    zone = zone or cfg.zone
    if request.pipeline != ALL and request.pipeline not in {p.slug for p in cfg.pipelines}:
        raise _unknown(cfg, request.pipeline)
    if request.ends_at <= now:
        raise SuppressionError(
            f"The end, {stamp(request.ends_at, zone)}, has already passed (it is now "
            f"{stamp(now, zone)}): give a later time, e.g. `until tomorrow 09:00`, or a "
            "duration such as `2h`."
        )
    if request.ends_at <= request.starts_at:
        raise SuppressionError("A suppression must end after it starts.")
    length = request.ends_at - request.starts_at
    guarded = needs_guard(cfg, request.pipeline)
    if guarded:
        what = _guarded_what(request.pipeline, guarded)
        if not request.reason.strip():
            example = human_duration(min(length, cfg.policy.suppression.investor_cap))
            raise SuppressionError(
                f"{what}: say why it is suppressed, e.g. `/oncall suppress "
                f"{request.pipeline} {example.replace(' ', '')} warehouse maintenance`."
            )
        cap = cfg.policy.suppression.investor_cap
        if length > cap:
            raise SuppressionError(
                f"{what}: a suppression may last at most {human_duration(cap)} "
                f"(`investor_cap` in policy.toml); you asked for {human_duration(length)}, "
                f"until {stamp(request.ends_at, zone)}. Suppress for {human_duration(cap)} "
                "or less and renew it if the work runs over."
            )
    limit = cfg.policy.limits.window_max
    if length > limit:
        raise SuppressionError(
            f"A suppression may last at most {human_duration(limit)} "
            f"(`limits.window_max` in policy.toml); you asked for {human_duration(length)}."
        )


def _guarded_what(pipeline: str, guarded: list[Pipeline]) -> str:
    if pipeline == ALL:
        names = ", ".join(f"`{p.slug}`" for p in guarded)
        return f"`all` includes investor pipelines ({names})"
    p = guarded[0]
    if p.investor:
        return f"`{p.slug}` is an investor pipeline"
    deps = ", ".join(f"`{d}`" for d in p.hard_dependency_of)
    return f"`{p.slug}` is a hard dependency of investor pipeline {deps}"
