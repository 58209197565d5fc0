"""The pure suppression rules, table-tested: parsing, the policy's errors, and `covers`."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import TeamConfig
from bot.domain.suppressions import (
    ALL,
    Suppression,
    SuppressionError,
    SuppressRequest,
    check_request,
    covers,
    parse_id,
    parse_suppress,
)
from tests.conftest import ist

NOW = ist("2025-10-20 10:00")  # a Monday, in IST


@pytest.mark.parametrize(
    ("text", "pipeline", "end", "reason"),
    [
        ("growth-agg 2h backfill", "growth-agg", "2025-10-20 12:00", "backfill"),
        ("growth agg 90m warehouse upgrade", "growth-agg", "2025-10-20 11:30", "warehouse upgrade"),
        ("Growth — Aggregate 1h x", "growth-agg", "2025-10-20 11:00", "x"),
        ("engagement-agg for 30m reindex", "engagement-agg", "2025-10-20 10:30", "reindex"),
        ("profit-unit 1h30m", "profit-unit", "2025-10-20 11:30", ""),
        ("profit-unit 2 h 30 min  noisy   test", "profit-unit", "2025-10-20 12:30", "noisy test"),
        ("growth-daily 2d", "growth-daily", "2025-10-22 10:00", ""),
        ("growth-agg until 14:00 maintenance", "growth-agg", "2025-10-20 14:00", "maintenance"),
        ("growth-agg until 2025-10-20 14:00 db move", "growth-agg", "2025-10-20 14:00", "db move"),
        ("growth-agg until 2025-10-20 05:00 UTC x", "growth-agg", "2025-10-20 10:30", "x"),
        ("growth-agg until 06:00 UTC patch", "growth-agg", "2025-10-20 11:30", "patch"),
        ("profit-unit until tomorrow 09:00", "profit-unit", "2025-10-21 09:00", ""),
        ("profit-unit until 2pm", "profit-unit", "2025-10-20 14:00", ""),
        ("ALL 1h deploy", ALL, "2025-10-20 11:00", "deploy"),
        ("all 4h cluster upgrade", ALL, "2025-10-20 14:00", "cluster upgrade"),
    ],
)
def test_parses(config: TeamConfig, text: str, pipeline: str, end: str, reason: str) -> None:
    assert parse_suppress(text, config, NOW) == SuppressRequest(
        pipeline=pipeline, starts_at=NOW, ends_at=ist(end), reason=reason
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Say what to suppress and for how long: `/oncall suppress <pipeline|all>"),
        ("growht-agg 2h x", "Unknown pipeline `growht-agg`. Did you mean `growth-agg`?"),
        ("zzz 2h x", "Unknown pipeline `zzz`. Valid: `profit-unit`, `profit-agg`"),
        ("growth-agg", "Say for how long to suppress `growth-agg`: `90m`, `2h`"),
        (
            "growth-agg soon x",
            "`soon` is not a duration or an end time: use `90m`, `2h`, `1h30m`, `until 14:00`",
        ),
        ("growth-agg 90 x", "`90` needs a unit, e.g. `90m` or `90h`"),
        ("growth-agg 0m x", "must last longer than zero"),
        ("growth-agg until", "`until` needs a time: `90m`"),
        ("growth-agg until 25:00 x", "`until 25:00` is not a time I can read: use"),
        (
            "growth-agg until 2025-10-21 x",
            "`until 2025-10-21` needs a time of day, e.g. `until 2025-10-21 14:00`",
        ),
        ("profit-unit until tomorrow", "`until tomorrow` needs a time of day"),
        (
            "growth-agg until 09:00 x",
            "The end, Mon 20 Oct 2025, 09:00 IST, has already passed (it is now Mon 20 Oct 2025, 10:00 IST)",
        ),
        (
            "growth-agg until 2025-10-19 14:00 x",
            "The end, Sun 19 Oct 2025, 14:00 IST, has already passed",
        ),
        ("profit-unit until now", "has already passed"),
        (
            "growth-agg 2h",
            "`growth-agg` is an investor pipeline: say why it is suppressed, e.g. `/oncall suppress growth-agg 2h warehouse maintenance`",
        ),
        (
            "all 30m",
            "`all` includes investor pipelines (`profit-agg`, `growth-agg`, `engagement-agg`): say why",
        ),
        (
            "growth-agg 5h backfill",
            "`growth-agg` is an investor pipeline: a suppression may last at most 4 h (`investor_cap` in policy.toml); you asked for 5 h, until Mon 20 Oct 2025, 15:00 IST",
        ),
        ("growth-agg until 15:00 backfill", "may last at most 4 h"),
        (
            "all 4h1m deploy",
            "`all` includes investor pipelines (`profit-agg`, `growth-agg`, `engagement-agg`): a suppression may last at most 4 h",
        ),
        ("profit-unit 91d", "may last at most 90 d (`limits.window_max` in policy.toml)"),
    ],
)
def test_errors_say_what_is_valid(config: TeamConfig, text: str, error: str) -> None:
    with pytest.raises(SuppressionError) as info:
        parse_suppress(text, config, NOW)
    assert error in str(info.value)


def test_the_cap_comes_from_the_policy(config: TeamConfig) -> None:
    suppression = config.policy.suppression.model_copy(update={"investor_cap": timedelta(hours=6)})
    policy = config.policy.model_copy(update={"suppression": suppression})
    roomy = config.model_copy(update={"policy": policy})
    assert parse_suppress("growth-agg 5h backfill", roomy, NOW).ends_at == ist("2025-10-20 15:00")
    with pytest.raises(SuppressionError, match="at most 6 h"):
        parse_suppress("growth-agg 7h backfill", roomy, NOW)


def test_a_hard_dependency_of_an_investor_pipeline_is_held_to_the_same_rule(
    config: TeamConfig,
) -> None:
    pipelines = [
        p.model_copy(update={"hard_dependency_of": ["growth-agg"]})
        if p.slug == "growth-daily"
        else p
        for p in config.pipelines
    ]
    strict = config.model_copy(update={"pipelines": pipelines})
    with pytest.raises(SuppressionError, match="hard dependency of investor pipeline `growth-agg`"):
        parse_suppress("growth-daily 2h", strict, NOW)
    with pytest.raises(SuppressionError, match="at most 4 h"):
        parse_suppress("growth-daily 5h backfill", strict, NOW)


def test_times_read_in_the_zone_given(config: TeamConfig) -> None:
    utc = ZoneInfo("UTC")
    got = parse_suppress("profit-unit until 14:00", config, NOW, utc)
    assert got.ends_at == ist("2025-10-20 19:30")


def test_requests_from_elsewhere_get_the_same_policy(config: TeamConfig) -> None:
    def req(pipeline: str, hours: float, reason: str = "x") -> SuppressRequest:
        return SuppressRequest(
            pipeline=pipeline, starts_at=NOW, ends_at=NOW + timedelta(hours=hours), reason=reason
        )

    check_request(config, req("growth-agg", 4), NOW)
    with pytest.raises(SuppressionError, match="Unknown pipeline `growth agg`"):
        check_request(config, req("growth agg", 1), NOW)
    with pytest.raises(SuppressionError, match="say why"):
        check_request(config, req("profit-agg", 1, " "), NOW)
    with pytest.raises(SuppressionError, match="already passed"):
        check_request(config, req("profit-unit", 1), NOW + timedelta(hours=2))


def _s(pipeline: str, start: str, end: str, **extra: object) -> Suppression:
    return Suppression.model_validate(
        {
            "id": "S-1",
            "pipeline": pipeline,
            "starts_at": ist(start),
            "ends_at": ist(end),
            "created_by": "CW",
            "created_at": ist(start),
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("suppression", "pipeline", "at", "covered"),
    [
        (
            _s("growth-agg", "2025-10-20 10:00", "2025-10-20 12:00"),
            "growth-agg",
            "2025-10-20 10:00",
            True,
        ),
        (
            _s("growth-agg", "2025-10-20 10:00", "2025-10-20 12:00"),
            "growth-agg",
            "2025-10-20 11:59",
            True,
        ),
        (
            _s("growth-agg", "2025-10-20 10:00", "2025-10-20 12:00"),
            "growth-agg",
            "2025-10-20 12:00",
            False,
        ),
        (
            _s("growth-agg", "2025-10-20 10:00", "2025-10-20 12:00"),
            "growth-agg",
            "2025-10-20 09:59",
            False,
        ),
        (
            _s("growth-agg", "2025-10-20 10:00", "2025-10-20 12:00"),
            "profit-agg",
            "2025-10-20 11:00",
            False,
        ),
        (_s(ALL, "2025-10-20 10:00", "2025-10-20 12:00"), "profit-unit", "2025-10-20 11:00", True),
        (_s(ALL, "2025-10-20 10:00", "2025-10-20 12:00"), "growth-agg", "2025-10-20 12:01", False),
        (
            _s(
                "growth-agg",
                "2025-10-20 10:00",
                "2025-10-20 12:00",
                cancelled_by="PR",
                cancelled_at=ist("2025-10-20 11:00"),
            ),
            "growth-agg",
            "2025-10-20 11:00",
            False,
        ),
    ],
)
def test_covers(suppression: Suppression, pipeline: str, at: str, covered: bool) -> None:
    assert covers(suppression, pipeline, ist(at)) is covered


@pytest.mark.parametrize(
    ("text", "want"), [("S-3", "S-3"), ("s3", "S-3"), ("3", "S-3"), (" S-12 ", "S-12")]
)
def test_ids(text: str, want: str) -> None:
    assert parse_id(text) == want


def test_bad_id() -> None:
    with pytest.raises(SuppressionError, match="`INC-3` is not a suppression id"):
        parse_id("INC-3")
