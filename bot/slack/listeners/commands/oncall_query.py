"""Parse `/oncall …` text into a query; pure, so the grammar is table-tested directly."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.config.models import Pipeline, TeamConfig
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.timeparse import FORMS, TimeParseError, parse_instant

MAX_WEEKS = 52


class OncallQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["now", "week", "schedule", "help"]
    at: datetime
    asked: str = "now"
    pipeline: Pipeline | None = None
    count: int = 8


class QueryError(ValueError):
    def __init__(self, message: str, show_usage: bool = False) -> None:
        super().__init__(message)
        self.show_usage = show_usage


def _instant_and_pipeline(
    cfg: TeamConfig, words: list[str], now: datetime
) -> tuple[datetime, str, Pipeline | None]:
    text = " ".join(words)
    try:
        at, _ = parse_instant(text, now, cfg.zone)
        return at, text, None
    except TimeParseError as first_error:
        # The pipeline, if any, is the tail: try the longest tail that names one.
        for cut in range(1, min(4, len(words))):
            pipeline = find_pipeline(cfg, " ".join(words[-cut:]))
            if pipeline is not None:
                head = " ".join(words[:-cut])
                at, _ = parse_instant(head, now, cfg.zone)
                return at, head, pipeline
        raise QueryError(str(first_error)) from None


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
            return OncallQuery(kind="now", at=at, asked=f"at {asked}", pipeline=pipeline)
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
            return OncallQuery(kind="schedule", at=now, count=count)
    except TimeParseError as exc:
        raise QueryError(str(exc)) from None
    pipeline = find_pipeline(cfg, text)
    if pipeline is not None:
        return OncallQuery(kind="now", at=now, pipeline=pipeline)
    raise QueryError(f"Unknown subcommand `{words[0]}`.", show_usage=True)
