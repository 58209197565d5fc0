"""Table tests of the RCA domain: who needs one, who owns it, when it is due, reminders,
late action items, and the Markdown export. Incidents are walked with the real schedule and
escalation engine, so the owner rule is tested against what an Incident really records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.config import TeamConfig
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.domain.calendar import HolidayCalendar
from bot.domain.rca import (
    ActionItem,
    EventKind,
    IncidentEvent,
    Rca,
    RcaStatus,
    ReminderKind,
    incident_commander,
    needs_rca,
    open_rca,
    overdue_actions,
    reminder_dates,
    reminders_due,
)
from bot.domain.rca_render import rca_markdown, timeline_lines
from bot.domain.schedule import ladder, resolve
from tests.conftest import IST, ist


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def d(text: str) -> date:
    return date.fromisoformat(text)


def _incident(pipeline: str, severity: str, **update: Any) -> sm.Incident:
    inc = sm.Incident(
        id="INC-7",
        pipeline=pipeline,
        severity=sm.Severity(severity),
        summary="profit aggregate late",
        dedupe_key="k",
        mode=sm.Mode.PAGE,
        opened_at=ist("2025-10-17 14:05"),
        opened_by="alert",
    )
    return inc.model_copy(update=update)


def _page(
    config: TeamConfig,
    cal: HolidayCalendar,
    pipeline: str,
    severity: str,
    at: datetime,
    walk_minutes: int,
    unreachable: dict[str, str] | None = None,
) -> sm.Incident:
    """A page opened at `at` with the real schedule's ladder, escalated for `walk_minutes`."""
    rungs = ladder(config, resolve(config, cal, at), config.pipeline(pipeline))
    policy = config.policy.escalation
    inc, _ = esc.open_incident(
        id="INC-7",
        pipeline=pipeline,
        severity=sm.Severity(severity),
        summary="late",
        signal=None,
        dedupe_key="k",
        mode=sm.Mode.PAGE,
        ladder=rungs,
        now=at,
        opened_by="alert",
        policy=policy,
        checklist=False,
        unreachable=unreachable,
    )
    end = at + timedelta(minutes=walk_minutes)
    while inc.next_at is not None and inc.next_at <= end:
        inc, _ = esc.advance(inc, inc.next_at, policy, rungs, unreachable=unreachable)
    return inc


@pytest.mark.parametrize(
    ("pipeline", "severity", "resolved", "expected"),
    [
        ("profit-agg", "sev1", True, True),
        ("growth-agg", "sev2", True, True),
        ("engagement-agg", "sev1", True, True),
        ("profit-agg", "sev3", True, False),
        ("profit-agg", "sev4", True, False),
        ("profit-unit", "sev1", True, False),  # experiment-facing
        ("growth-daily", "sev2", True, False),
        ("profit-agg", "sev1", False, False),  # not resolved yet
        ("retired-pipeline", "sev1", True, False),  # no longer configured
    ],
)
def test_needs_rca(
    config: TeamConfig, pipeline: str, severity: str, resolved: bool, expected: bool
) -> None:
    inc = _incident(pipeline, severity)
    if resolved:
        inc, _ = sm.resolve(inc, "AM", ist("2025-10-17 16:00"))
    assert needs_rca(inc, config) is expected


@pytest.mark.parametrize(
    ("pipeline", "at", "walk", "unreachable", "acker", "resolver", "owner"),
    [
        # Week 8 (SK/PR) on profit-agg: PR is the secondary owner and already Backup, so
        # there is no commander rung. SK ACKs: SK owns it.
        ("profit-agg", "2025-10-17 14:05", 0, {}, "SK", "SK", "SK"),
        # Backup PR ACKs after the 10-minute step and AM resolves: the ACKer owns it.
        ("profit-agg", "2025-10-17 14:05", 12, {}, "PR", "AM", "PR"),
        # Week 2 (PR/CW) on growth-agg: SK is Incident Commander, paged at 25 min; CW ACKs
        # after that. The commander owns it.
        ("growth-agg", "2025-09-03 12:00", 26, {}, "CW", "CW", "SK"),
        # The commander was on the ladder but the Primary ACKed first: never involved.
        ("growth-agg", "2025-09-03 12:00", 3, {}, "PR", "PR", "PR"),
        # The commander could not be reached: the ACKer owns it.
        ("growth-agg", "2025-09-03 12:00", 26, {"SK": "account_inactive"}, "AM", "AM", "AM"),
        # Resolved without an ACK: the resolver.
        ("growth-agg", "2025-09-03 12:00", 3, {}, None, "CW", "CW"),
    ],
)
def test_owner(
    config: TeamConfig,
    cal: HolidayCalendar,
    pipeline: str,
    at: str,
    walk: int,
    unreachable: dict[str, str],
    acker: str | None,
    resolver: str,
    owner: str,
) -> None:
    start = ist(at)
    inc = _page(config, cal, pipeline, "sev1", start, walk, unreachable)
    now = start + timedelta(minutes=walk)
    if acker:
        inc, _ = sm.acknowledge(inc, acker, now)
    inc, _ = sm.resolve(inc, resolver, now + timedelta(hours=1))
    assert open_rca(inc, now + timedelta(hours=1), cal, config).owner == owner


def test_commander_is_read_from_the_pages(config: TeamConfig, cal: HolidayCalendar) -> None:
    inc = _page(config, cal, "growth-agg", "sev1", ist("2025-09-03 12:00"), 26)
    assert [(p.member, inc.rungs[p.level]) for p in inc.paged] == [
        ("PR", "primary"),
        ("CW", "backup"),
        ("SK", "commander"),
    ]
    assert incident_commander(inc) == "SK"


def test_nobody_touched_it_falls_back_to_the_pipeline_owner(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    inc, _ = sm.resolve(_incident("growth-agg", "sev2"), sm.AUTO, ist("2025-10-17 16:00"))
    assert open_rca(inc, ist("2025-10-17 16:00"), cal, config).owner == "CW"


def test_sev1_profit_agg_resolved_friday_before_diwali(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # Fri 17 Oct 2025 afternoon IST; the weekend and Diwali (Mon 20) do not count, so the
    # 5th business day is Mon 27 Oct, and the RCA is due as that day ends in IST.
    resolved_at = ist("2025-10-17 15:30")
    inc = _page(config, cal, "profit-agg", "sev1", ist("2025-10-17 14:05"), 0)
    inc, _ = sm.acknowledge(inc, "SK", ist("2025-10-17 14:09"))
    inc, _ = sm.resolve(inc, "SK", resolved_at)
    assert needs_rca(inc, config)
    rca = open_rca(inc, resolved_at, cal, config)
    assert rca.due_day == d("2025-10-27")
    assert rca.due_at == datetime(2025, 10, 27, 23, 59, 59, 999999, tzinfo=IST)
    assert rca.due_at.astimezone(UTC) == datetime(2025, 10, 27, 18, 29, 59, 999999, tzinfo=UTC)
    assert (rca.owner, rca.status, rca.severity) == ("SK", RcaStatus.OPEN, sm.Severity.SEV1)
    assert (rca.opened_at, rca.resolved_at, rca.zone) == (resolved_at, resolved_at, "Asia/Kolkata")
    assert not rca.overdue(ist("2025-10-27 23:59"))
    assert rca.overdue(ist("2025-10-28 00:00"))


@pytest.mark.parametrize(
    ("resolved_at", "due"),
    [
        (ist("2025-10-17 15:30"), "2025-10-27"),
        (ist("2025-10-18 00:30"), "2025-10-27"),  # Saturday counts from Saturday
        # The day of resolution is taken in IST, not UTC: Thu 20:00 UTC is Fri 01:30 IST...
        (datetime(2025, 10, 16, 20, 0, tzinfo=UTC), "2025-10-27"),
        # ...while Thu 18:00 UTC is still Thursday 23:30 IST.
        (datetime(2025, 10, 16, 18, 0, tzinfo=UTC), "2025-10-24"),
        (ist("2025-09-26 10:00"), "2025-10-06"),  # Gandhi Jayanti, Thu 2 Oct
        (ist("2025-12-22 10:00"), "2025-12-30"),  # Christmas
    ],
)
def test_due_day(config: TeamConfig, cal: HolidayCalendar, resolved_at: datetime, due: str) -> None:
    inc = _incident("profit-agg", "sev1", acked_by="AM")
    rca = open_rca(inc, resolved_at, cal, config)
    assert rca.due_day == d(due)
    assert rca.due_at.astimezone(IST).time().isoformat() == "23:59:59.999999"


def test_due_day_survives_storage(config: TeamConfig, cal: HolidayCalendar) -> None:
    rca = open_rca(
        _incident("profit-agg", "sev1", acked_by="AM"), ist("2025-10-17 15:30"), cal, config
    )
    back = Rca.model_validate_json(rca.model_dump_json())
    assert back == rca
    assert back.due_day == d("2025-10-27")


@pytest.fixture
def rca(config: TeamConfig, cal: HolidayCalendar) -> Rca:
    """The Diwali-week RCA: resolved Fri 17 Oct 2025, due Mon 27 Oct."""
    return open_rca(
        _incident("profit-agg", "sev1", acked_by="SK"), ist("2025-10-17 15:30"), cal, config
    )


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (None, [("2025-10-23", "due_soon"), ("2025-10-27", "due_today")]),
        ("2025-10-27", [("2025-10-23", "due_soon"), ("2025-10-27", "due_today")]),
        (
            "2025-11-06",
            [
                ("2025-10-23", "due_soon"),
                ("2025-10-27", "due_today"),
                # No reminder on the weekend or on Guru Nanak's Birthday (Wed 5 Nov).
                *[
                    (day, "overdue")
                    for day in [
                        "2025-10-28",
                        "2025-10-29",
                        "2025-10-30",
                        "2025-10-31",
                        "2025-11-03",
                        "2025-11-04",
                        "2025-11-06",
                    ]
                ],
            ],
        ),
    ],
)
def test_reminder_dates(
    rca: Rca, cal: HolidayCalendar, until: str | None, expected: list[tuple[str, str]]
) -> None:
    got = reminder_dates(rca, cal, until=d(until) if until else None)
    assert [(day.isoformat(), kind.value) for day, kind in got] == expected


@pytest.mark.parametrize(
    ("today", "last_sent", "expected"),
    [
        ("2025-10-22", None, None),  # before the first reminder
        ("2025-10-23", None, ReminderKind.DUE_SOON),  # 2 business days before Mon 27
        ("2025-10-23", "2025-10-23", None),  # once a day
        ("2025-10-24", "2025-10-23", None),  # nothing on the day between
        ("2025-10-24", None, ReminderKind.DUE_SOON),  # missed yesterday: catch up
        ("2025-10-25", None, None),  # never on a weekend, even to catch up
        ("2025-10-27", "2025-10-23", ReminderKind.DUE_TODAY),
        ("2025-10-27", "2025-10-27", None),
        ("2025-10-28", "2025-10-27", ReminderKind.OVERDUE),
        ("2025-10-28", "2025-10-23", ReminderKind.OVERDUE),  # missed the due day
        ("2025-10-29", "2025-10-28", ReminderKind.OVERDUE),  # every business day
        ("2025-11-01", "2025-10-31", None),  # Saturday
        ("2025-11-03", "2025-10-31", ReminderKind.OVERDUE),
        ("2025-11-05", "2025-11-04", None),  # Guru Nanak's Birthday
        ("2025-11-06", "2025-11-04", ReminderKind.OVERDUE),
    ],
)
def test_reminders_due(
    rca: Rca, cal: HolidayCalendar, today: str, last_sent: str | None, expected: str | None
) -> None:
    sent = d(last_sent) if last_sent else None
    assert reminders_due(rca, sent, d(today), cal) == expected


def test_posted_rca_is_not_reminded(rca: Rca, cal: HolidayCalendar) -> None:
    posted = rca.model_copy(
        update={
            "status": RcaStatus.POSTED,
            "posted_at": ist("2025-10-27 11:00"),
            "posted_by": "SK",
        }
    )
    assert reminders_due(posted, None, d("2025-10-28"), cal) is None
    assert not posted.overdue(ist("2025-10-29 12:00"))


def test_short_deadline_does_not_remind_before_it_opened(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    policy = config.policy.model_copy(update={"rca_business_days": 1})
    one_day = config.model_copy(update={"policy": policy})
    rca = open_rca(
        _incident("profit-agg", "sev1", acked_by="SK"), ist("2025-10-17 15:30"), cal, one_day
    )
    assert rca.due_day == d("2025-10-21")
    assert reminder_dates(rca, cal) == [(d("2025-10-21"), ReminderKind.DUE_TODAY)]


def _item(n: int, due: str, owner: str = "AM", done: bool = False) -> ActionItem:
    return ActionItem(
        id=n,
        text=f"action {n}",
        owner=owner,
        due=d(due),
        done_at=ist("2025-10-30 10:00") if done else None,
        done_by=owner if done else None,
    )


def test_overdue_actions(rca: Rca) -> None:
    first = rca.model_copy(
        update={
            "action_items": [
                _item(1, "2025-10-31"),  # late
                _item(2, "2025-11-03"),  # due today: not late yet
                _item(3, "2025-10-30", done=True),
            ]
        }
    )
    # A posted RCA's open items still count.
    second = rca.model_copy(
        update={
            "incident_id": "INC-9",
            "status": RcaStatus.POSTED,
            "action_items": [_item(1, "2025-10-29", owner="PR")],
        }
    )
    late = overdue_actions([first, second], d("2025-11-03"))
    assert [(r.incident_id, i.id, i.owner) for r, i in late] == [
        ("INC-9", 1, "PR"),
        ("INC-7", 1, "AM"),
    ]
    assert overdue_actions([first, second], d("2025-10-29")) == []


EVENTS = [
    # Deliberately out of order: the timeline sorts by time.
    IncidentEvent(at=ist("2025-10-17 14:09"), kind=EventKind.ACK, who="SK"),
    IncidentEvent(
        at=ist("2025-10-17 14:05"),
        kind=EventKind.OPENED,
        detail="freshness breach:\n  last partition 05:10",
    ),
    IncidentEvent(at=ist("2025-10-17 14:05"), kind=EventKind.RUNG, who="SK", detail="Primary"),
    IncidentEvent(at=datetime(2025, 10, 17, 10, 0, tzinfo=UTC), kind=EventKind.RESOLVE, who="SK"),
]


def test_timeline_lines() -> None:
    assert timeline_lines(EVENTS, IST) == [
        "Fri 17 Oct 2025, 14:05 IST — Incident opened by an alert: freshness breach: last partition 05:10",
        "Fri 17 Oct 2025, 14:05 IST — Paged SK: Primary",
        "Fri 17 Oct 2025, 14:09 IST — Acknowledged by SK",
        "Fri 17 Oct 2025, 15:30 IST — Resolved by SK",
    ]


@pytest.mark.parametrize(
    ("kind", "who", "line"),
    [
        (EventKind.ALERT_JOINED, None, "Alert joined the incident"),
        (EventKind.ESCALATE_NOW, "AM", "Escalated now by AM"),
        (EventKind.UNREACHABLE, "CW", "Could not reach CW"),
        (EventKind.STATUS_POST, "PR", "Status posted by PR"),
        (EventKind.CHECKLIST, "PR", "Checklist step ticked by PR"),
        (EventKind.RESOLVE, None, "Resolved automatically"),
    ],
)
def test_every_kind_reads(kind: EventKind, who: str | None, line: str) -> None:
    ev = IncidentEvent(at=ist("2025-10-07 09:03"), kind=kind, who=who)
    # A single-digit day is not zero-padded.
    assert timeline_lines([ev], IST) == [f"Tue 7 Oct 2025, 09:03 IST — {line}"]


HEADINGS = [
    "## Summary",
    "## Customer impact",
    "## Investor impact",
    "## Timeline",
    "## Contributing factors",
    "## What went well",
    "## Action items",
]


def test_markdown_draft(rca: Rca, config: TeamConfig) -> None:
    md = rca_markdown(rca, EVENTS, config)
    assert md.startswith("# RCA INC-7: profit aggregate late\n")
    positions = [md.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert "- **Pipeline:** Profit — Aggregate (`profit-agg`, investor-facing)" in md
    assert "- **Severity:** Sev-1" in md
    assert "- **RCA owner:** Samir Kapoor (SK)" in md
    assert "- **Due:** Mon 27 Oct 2025, end of day IST" in md
    assert "- **Status:** open" in md
    # The timeline comes from the log while nobody has curated one.
    assert "- Fri 17 Oct 2025, 14:09 IST — Acknowledged by SK\n" in md
    assert md.count("_Not written yet._") == 6  # every section but the timeline


def test_markdown_written(rca: Rca, config: TeamConfig) -> None:
    done = rca.model_copy(
        update={
            "summary": "Payments landed 2 h late.",
            "customer_impact": "None.",
            "investor_impact": "Dashboard stale until 15:30 IST.",
            "timeline": ["14:05 page", "15:30 backfill done"],
            "contributing_factors": ["No alert on upstream lag"],
            "went_well": ["ACK in 4 min"],
            "action_items": [
                _item(1, "2025-10-31", owner="SK"),
                _item(2, "2025-10-30", owner="PR", done=True),
            ],
            "status": RcaStatus.POSTED,
            "posted_at": ist("2025-10-27 11:00"),
            "posted_by": "PR",
        }
    )
    md = rca_markdown(done, EVENTS, config)
    assert "_Not written yet._" not in md
    assert "## Summary\n\nPayments landed 2 h late.\n" in md
    assert "## Timeline\n\n- 14:05 page\n- 15:30 backfill done\n" in md
    assert "Acknowledged by SK" not in md  # the curated timeline replaces the log
    assert "- [ ] **A1** action 1 — SK, due 2025-10-31" in md
    assert "- [x] **A2** action 2 — PR, due 2025-10-30; done Thu 30 Oct 2025, 10:00 IST by PR" in md
    assert "- **Status:** posted Mon 27 Oct 2025, 11:00 IST by Priya Rao (PR)" in md
    assert md.endswith("\n") and not md.endswith("\n\n")
