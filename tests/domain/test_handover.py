"""The Monday handover's pure rules: boundaries, lateness, who hands over to whom, what the
digest lists, last week's numbers from hand-built incidents, and who still has to confirm."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.handover import (
    HandoverDigest,
    HandoverError,
    boundary_at_or_before,
    build_digest,
    is_late,
    last_week_stats,
    next_boundary,
    previous_boundary,
    reminder_at,
)
from bot.domain.handover_confirm import HandoverConfirmations
from bot.domain.incident import Incident, Mode, Paged, Severity, Status
from bot.domain.pto import Conflict
from bot.domain.rca import ActionItem, Rca, RcaStatus
from bot.domain.schedule import BeforeRotation, Override
from bot.domain.suppressions import Suppression
from tests.conftest import ist


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def inc(id: str, pipeline: str, opened: str, *pages: str, ack: str = "", **update: Any) -> Incident:
    """An incident opened at `opened` (IST); `pages` and `ack` read "SK 0 02:10" (who, rung
    index, time on the day it opened) and "AM 02:30"."""
    day = opened.split()[0]
    paged = [
        Paged(member=who, level=int(level), at=ist(f"{day} {hm}"))
        for who, level, hm in (p.split() for p in pages)
    ]
    if ack:
        who, hm = ack.split()
        update |= {"acked_by": who, "acked_at": ist(f"{day} {hm}"), "status": Status.ACKNOWLEDGED}
    base = Incident(
        id=id,
        pipeline=pipeline,
        severity=Severity.SEV1,
        summary=f"{pipeline} late",
        dedupe_key=id,
        mode=Mode.PAGE,
        opened_at=ist(opened),
        opened_by="alert",
        paged=paged,
    )
    return base.model_copy(update=update)


# ------------------------------------------------------------------------------ boundaries


@pytest.mark.parametrize(
    ("now", "at_or_before", "after"),
    [
        ("2025-10-22 12:00", "2025-10-20 09:00", "2025-10-27 09:00"),
        # Exactly 09:00 belongs to the new week; a moment before, to the old one.
        ("2025-10-20 09:00", "2025-10-20 09:00", "2025-10-27 09:00"),
        ("2025-10-20 08:59:59", "2025-10-13 09:00", "2025-10-20 09:00"),
        ("2025-10-19 23:00", "2025-10-13 09:00", "2025-10-20 09:00"),
        # Diwali (Monday 2025-10-20) is a critical holiday: the roles exchange for the day,
        # but the handover stays at 09:00 (the rotation defines it, not the calendar).
        ("2025-10-20 10:00", "2025-10-20 09:00", "2025-10-27 09:00"),
        ("2025-08-25 09:00", "2025-08-25 09:00", "2025-09-01 09:00"),
    ],
)
def test_boundaries(config: TeamConfig, now: str, at_or_before: str, after: str) -> None:
    assert boundary_at_or_before(ist(now), config) == ist(at_or_before)
    assert next_boundary(ist(now), config) == ist(after)


def test_boundaries_of_an_instant_given_in_utc(config: TeamConfig) -> None:
    at = datetime(2025, 10, 20, 3, 30, tzinfo=UTC)  # 09:00 IST
    assert boundary_at_or_before(at, config) == ist("2025-10-20 09:00")
    assert next_boundary(at - timedelta(seconds=1), config) == ist("2025-10-20 09:00")


def test_before_the_rotation(config: TeamConfig) -> None:
    with pytest.raises(BeforeRotation):
        boundary_at_or_before(ist("2025-08-20 12:00"), config)
    assert next_boundary(ist("2025-08-20 12:00"), config) == ist("2025-08-25 09:00")


def test_a_naive_instant_is_refused(config: TeamConfig) -> None:
    with pytest.raises(ValueError, match="aware"):
        next_boundary(datetime(2025, 10, 20, 9), config)


def test_boundaries_keep_local_time_across_a_clock_change(config: TeamConfig) -> None:
    # Europe/London moves to BST on Sunday 2025-03-30: the handoff stays at 09:00 local.
    london = ZoneInfo("Europe/London")
    rotation = config.rotation.model_copy(
        update={"zone": "Europe/London", "start": datetime(2025, 3, 17, 9)}
    )
    cfg = config.model_copy(update={"rotation": rotation})
    after = next_boundary(datetime(2025, 3, 28, 12, tzinfo=london), cfg)
    assert after == datetime(2025, 3, 31, 9, tzinfo=london)
    assert after.utcoffset() == timedelta(hours=1)
    assert previous_boundary(after, cfg) == datetime(2025, 3, 24, 9, tzinfo=london)
    assert previous_boundary(after, cfg).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("sent", "late"),
    [
        ("2025-10-20 08:55", False),  # a preview, before the boundary
        ("2025-10-20 09:00", False),
        ("2025-10-20 09:05", False),
        ("2025-10-20 09:05:01", True),
        ("2025-10-20 11:40", True),  # after an outage that spanned 09:00
    ],
)
def test_is_late(sent: str, late: bool) -> None:
    assert is_late(ist("2025-10-20 09:00"), ist(sent)) is late


def test_the_reminder_is_due_at_the_end_of_the_half_hour() -> None:
    assert reminder_at(ist("2025-10-20 09:00")) == ist("2025-10-20 09:30")


# ------------------------------------------------------------------------------ who and why


def test_diwali_monday_hands_over_between_the_weeks_holders(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 09:00"))
    # Week 8 (SK/PR) to week 1 (AM/PR); PR is Primary all day on either side of 09:00 by
    # the exchange, which the week's lines state instead of it deciding the handover.
    assert (d.outgoing_primary, d.outgoing_backup) == ("SK", "PR")
    assert (d.incoming_primary, d.incoming_backup) == ("AM", "PR")
    assert (d.cycle_week, d.cycle_length, d.late) == (1, 8, False)
    assert d.week_end == ist("2025-10-27 09:00")
    assert d.confirmers == ["SK", "AM"]
    assert d.recipients == ["SK", "PR", "AM"]
    [line] = d.week_lines
    assert (line.kind, line.primary, line.backup) == ("exchange", "PR", "AM")
    assert (line.start, line.end) == (ist("2025-10-20 09:00"), ist("2025-10-21 00:00"))
    assert "Diwali" in line.why and "PR⇄AM" in line.why


def test_a_swap_at_the_boundary_decides_who_takes_over(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    swap = Override(
        id=12, start=ist("2025-09-01 09:00"), end=ist("2025-09-03 09:00"), a="PR", b="SK"
    )
    pto = Conflict(
        member="CW",
        role="Backup",
        start=ist("2025-09-04 00:00"),
        end=ist("2025-09-05 00:00"),
        reason="PTO",
    )
    elsewhere = pto.model_copy(
        update={"start": ist("2025-09-10 00:00"), "end": ist("2025-09-11 00:00")}
    )
    d = build_digest(
        config,
        cal,
        ist("2025-09-01 09:00"),
        ist("2025-09-01 09:00"),
        overrides=[swap],
        conflicts=[pto, elsewhere],
    )
    assert (d.outgoing_primary, d.incoming_primary, d.incoming_backup) == ("AM", "SK", "CW")
    assert [(w.kind, w.primary, w.backup) for w in d.week_lines] == [
        ("swap", "SK", "CW"),
        ("conflict", None, None),
    ]
    assert "swap #12" in d.week_lines[0].why
    assert d.week_lines[1].why == "2025-09-04: CW is Backup on PTO with no swap"


def test_the_same_primary_on_both_sides_confirms_once(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # AM held week 1; a swap hands PR's first two days of week 2 to AM.
    swap = Override(
        id=3, start=ist("2025-09-01 09:00"), end=ist("2025-09-03 09:00"), a="PR", b="AM"
    )
    d = build_digest(
        config, cal, ist("2025-09-01 09:00"), ist("2025-09-01 09:00"), overrides=[swap]
    )
    assert d.confirmers == ["AM"]
    assert HandoverConfirmations(boundary=d.boundary).missing(d) == ["AM"]


def test_only_a_boundary_gets_a_digest(config: TeamConfig, cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="not a rotation boundary"):
        build_digest(config, cal, ist("2025-10-20 10:00"), ist("2025-10-20 10:00"))


def test_a_digest_sent_after_an_outage_says_it_is_late(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 11:40"))
    assert d.late and d.boundary == ist("2025-10-20 09:00")


# ------------------------------------------------------------------------------ what it lists


def test_open_incidents_suppressions_rcas_and_overdue_actions(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    sent = ist("2025-10-20 09:00")
    incidents = [
        inc("INC-1", "growth-agg", "2025-10-19 22:00", severity=Severity.SEV3),
        inc("INC-2", "profit-agg", "2025-10-20 07:00", ack="PR 07:04"),
        inc("INC-3", "profit-agg", "2025-10-18 07:00", status=Status.RESOLVED),
    ]
    sup = Suppression(
        id="S-1",
        pipeline="growth-agg",
        starts_at=ist("2025-10-20 08:00"),
        ends_at=ist("2025-10-20 11:00"),
        reason="warehouse upgrade",
        created_by="CW",
        created_at=ist("2025-10-20 08:00"),
        suppressed=3,
    )
    later = sup.model_copy(
        update={
            "id": "S-2",
            "starts_at": ist("2025-10-21 02:00"),
            "ends_at": ist("2025-10-21 04:00"),
        }
    )
    over = sup.model_copy(
        update={"id": "S-3", "cancelled_at": ist("2025-10-20 08:30"), "cancelled_by": "CW"}
    )
    rca = Rca(
        incident_id="INC-0",
        pipeline="profit-agg",
        severity=Severity.SEV1,
        title="late",
        zone="Asia/Kolkata",
        incident_opened_at=ist("2025-10-06 10:00"),
        resolved_at=ist("2025-10-06 12:00"),
        opened_at=ist("2025-10-06 12:00"),
        due_at=ist("2025-10-14 23:59:59"),
        owner="SK",
        action_items=[
            ActionItem(id=1, text="alert on FX lag", owner="AM", due=date(2025, 10, 17)),
            ActionItem(id=2, text="pin COGS", owner="PR", due=date(2025, 10, 30)),
        ],
    )
    posted = rca.model_copy(update={"incident_id": "INC-9", "status": RcaStatus.POSTED})
    d = build_digest(
        config,
        cal,
        sent,
        sent,
        incidents=incidents,
        checklists={"INC-2": (3, 8)},
        suppressions=[sup, later, over],
        rcas=[rca, posted],
    )
    # The worst first; a resolved one is not open.
    assert [(r.id, r.age, r.checklist) for r in d.incidents] == [
        ("INC-2", timedelta(hours=2), (3, 8)),
        ("INC-1", timedelta(hours=11), None),
    ]
    assert d.incidents[0].acked_by == "PR"
    assert [(s.id, s.active) for s in d.suppressions] == [("S-1", True), ("S-2", False)]
    assert [(r.incident_id, r.owner, r.overdue) for r in d.pending_rcas] == [("INC-0", "SK", True)]
    # A posted RCA's late items still count: posting is not doing the work.
    assert [(a.incident_id, a.item, a.owner) for a in d.overdue_actions] == [
        ("INC-0", 1, "AM"),
        ("INC-9", 1, "AM"),
    ]


# ------------------------------------------------------------------------------ last week


def test_last_week_stats_from_hand_built_incidents(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # Week 8: SK Primary, PR Backup. Business hours: Mon–Fri 09:00–19:00 IST.
    incidents = [
        # Tue 12:00, ACKed by the Primary after 3 min, in business hours.
        inc("INC-1", "profit-agg", "2025-10-14 12:00", "SK 0 12:00", ack="SK 12:03"),
        # Wed 02:00, walked to the Lead (the commander rung is empty: SK owns growth-agg
        # second and is Primary), ACKed by AM after 30 min: past the Backup.
        inc(
            "INC-2",
            "growth-agg",
            "2025-10-15 02:00",
            "SK 0 02:00",
            "PR 1 02:10",
            "AM 3 02:25",
            ack="AM 02:30",
        ),
        # Saturday daytime is outside business hours.
        inc("INC-3", "engagement-agg", "2025-10-18 11:00", "SK 0 11:00", ack="SK 11:08"),
        # A channel notification pages nobody: not a page.
        inc("INC-4", "profit-unit", "2025-10-16 10:00", mode=Mode.NOTIFY),
        # Never ACKed: resolved by the Backup.
        inc(
            "INC-5",
            "growth-daily",
            "2025-10-17 20:00",
            "SK 0 20:00",
            "PR 1 20:10",
            status=Status.RESOLVED,
        ),
        # Slack could not reach SK: SK was not woken, so it is not counted against SK.
        inc(
            "INC-6",
            "profit-agg",
            "2025-10-16 23:00",
            "SK 0 23:00",
            "PR 1 23:00",
            ack="PR 23:04",
            unreachable={"SK": "account_inactive"},
        ),
        # Opened the week before (08:00 Monday), escalated to the commander in this week.
        inc("INC-7", "profit-unit", "2025-10-13 08:00", "AM 0 08:00", "CW 2 09:10"),
        # Opened after the window.
        inc("INC-8", "profit-agg", "2025-10-20 09:30", "AM 0 09:30"),
    ]
    stats = last_week_stats(
        [*incidents, incidents[0]], ist("2025-10-13 09:00"), ist("2025-10-20 09:00"), config, cal
    )
    assert stats.pages_by_pipeline == {
        "profit-unit": 0,
        "profit-agg": 2,
        "growth-agg": 1,
        "growth-daily": 1,
        "engagement-agg": 1,
    }
    assert stats.pages == 5
    assert stats.outside_hours == {"PR": 3, "SK": 3, "AM": 1}
    assert list(stats.outside_hours) == ["PR", "SK", "AM"]
    # TTAs 3, 4, 8, 30 min: the nearest-rank median is an observed one, 4 min.
    assert (stats.tta_p50, stats.tta_max) == (timedelta(minutes=4), timedelta(minutes=30))
    assert (stats.acked, stats.unacked) == (4, 1)
    assert stats.past_backup == ["INC-7", "INC-2"]


def test_a_page_on_a_company_holiday_is_outside_business_hours(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # Thursday 2025-10-02 (Dussehra; Mahatma Gandhi's Birthday), 11:00.
    holiday = inc("INC-1", "profit-agg", "2025-10-02 11:00", "PR 0 11:00")
    working = inc("INC-2", "profit-agg", "2025-10-03 11:00", "PR 0 11:00")
    stats = last_week_stats(
        [holiday, working], ist("2025-09-29 09:00"), ist("2025-10-06 09:00"), config, cal
    )
    assert stats.outside_hours == {"PR": 1}


def test_a_quiet_week(config: TeamConfig, cal: HolidayCalendar) -> None:
    stats = last_week_stats([], ist("2025-10-13 09:00"), ist("2025-10-20 09:00"), config, cal)
    assert stats.pages == 0 and set(stats.pages_by_pipeline) == {p.slug for p in config.pipelines}
    assert stats.tta_p50 is None and stats.tta_max is None
    assert stats.outside_hours == {} and stats.past_backup == []


def test_the_digest_counts_the_week_before_its_boundary(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    one = inc("INC-1", "profit-agg", "2025-10-14 12:00", "SK 0 12:00")
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 09:00"), incidents=[one])
    assert (d.stats.start, d.stats.end, d.stats.pages) == (
        ist("2025-10-13 09:00"),
        ist("2025-10-20 09:00"),
        1,
    )


# ------------------------------------------------------------------------------ confirmations


def test_confirmations(config: TeamConfig, cal: HolidayCalendar) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 09:00"))
    none = HandoverConfirmations(boundary=d.boundary)
    assert none.missing(d) == ["SK", "AM"]
    one = none.confirm(d, "AM", ist("2025-10-20 09:20"))
    assert one.missing(d) == ["SK"]
    # A second press keeps the first time.
    again = one.confirm(d, "AM", ist("2025-10-20 09:40"))
    assert again.at("AM") == ist("2025-10-20 09:20")
    both = again.confirm(d, "SK", ist("2025-10-20 09:31"))
    assert both.missing(d) == []
    assert [(c.member, c.at) for c in both.confirmed] == [
        ("AM", ist("2025-10-20 09:20")),
        ("SK", ist("2025-10-20 09:31")),
    ]
    assert none.missing(d) == ["SK", "AM"]  # each step is a new value


def test_a_backup_cannot_confirm_for_the_primaries(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 09:00"))
    with pytest.raises(HandoverError, match=r"SK and AM"):
        HandoverConfirmations(boundary=d.boundary).confirm(d, "PR", ist("2025-10-20 09:10"))


def test_confirmations_belong_to_one_boundary(config: TeamConfig, cal: HolidayCalendar) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 09:00"))
    old = HandoverConfirmations(boundary=ist("2025-10-13 09:00"))
    with pytest.raises(HandoverError):
        old.missing(d)
    # The same instant written in another zone is the same boundary.
    utc = HandoverConfirmations(boundary=d.boundary.astimezone(UTC))
    assert utc.missing(d) == ["SK", "AM"]


def test_the_digest_survives_a_round_trip_through_json(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    d = build_digest(config, cal, ist("2025-10-20 09:00"), ist("2025-10-20 11:40"))
    back = HandoverDigest.model_validate_json(d.model_dump_json())
    assert back == d and back.tz == ZoneInfo("Asia/Kolkata")
