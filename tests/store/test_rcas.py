"""RCAs in Redis, against fakeredis and, when REDIS_URL is set, a real Redis: opened once
per incident, listed by due day, reassigned, posted (closing it, with its messages queued in
the same transaction), reminders that go once across replicas, and action items.

The running example is the policy's: a Sev-1 on profit-agg resolved Fri 17 Oct 2025 15:30
IST, ACKed by SK; Diwali (Mon 20) and the weekend do not count, so it is due Mon 27 Oct,
and its owner is reminded Thu 23 Oct (2 business days before)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.domain import incident as sm
from bot.domain.calendar import HolidayCalendar
from bot.domain.notices import ChannelPost, HomeRefresh, MemberDM, Notice, ThreadReply
from bot.domain.rca import RcaStatus
from bot.services.rcas import NewAction, RcaError, RcaService
from bot.store import keys
from bot.store.outbox import Outbox
from bot.store.rcas import RcaStore
from tests.conftest import ist

RESOLVED = ist("2025-10-17 15:30")


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def _service(
    redis: Redis, config: TeamConfig, cal: HolidayCalendar, clock: FakeClock
) -> RcaService:
    store = RcaStore(redis, Outbox(redis), config.policy.retention, config.zone)
    return RcaService(config, cal, store, clock)


def _incident(
    number: int = 7,
    pipeline: str = "profit-agg",
    severity: str = "sev1",
    acker: str | None = "SK",
    resolved_at: datetime = RESOLVED,
) -> sm.Incident:
    inc = sm.Incident(
        id=f"INC-{number}",
        pipeline=pipeline,
        severity=sm.Severity(severity),
        summary="profit aggregate late",
        dedupe_key=f"k{number}",
        mode=sm.Mode.PAGE,
        opened_at=resolved_at - timedelta(hours=1),
        opened_by="alert",
    )
    if acker:
        inc, _ = sm.acknowledge(inc, acker, resolved_at - timedelta(minutes=50))
    inc, _ = sm.resolve(inc, acker or "AM", resolved_at)
    return inc


async def _queued(redis: Redis, clock: FakeClock) -> list[Notice]:
    """Every notice due now, in order, marked delivered (so a later call sees only new ones)."""
    outbox = Outbox(redis)
    claimed = await outbox.claim(clock.now(), 100)
    for c in claimed:
        await outbox.done(c, clock.now())
    return [c.notice for c in claimed if c.notice is not None]


def _dms(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.member, n.text) for n in notices if isinstance(n, MemberDM)]


async def _opened(
    redis: Redis, config: TeamConfig, cal: HolidayCalendar, clock: FakeClock
) -> RcaService:
    service = _service(redis, config, cal, clock)
    assert await service.open_for(_incident(), RESOLVED) is not None
    await _queued(redis, clock)  # the opening DM
    return service


async def test_opening_twice_keeps_the_first(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(RESOLVED)
    service = _service(store_redis, config, cal, clock)
    rca = await service.open_for(_incident(), RESOLVED)
    assert rca is not None
    assert (rca.incident_id, rca.owner, rca.status) == ("INC-7", "SK", RcaStatus.OPEN)
    assert rca.due_day == date(2025, 10, 27)
    [(member, text)] = _dms(await _queued(store_redis, clock))
    assert member == "SK"
    assert "as the one who ACKed it" in text
    assert "due Mon 27 Oct 2025, end of day IST" in text
    assert "`/rca write INC-7`" in text

    # A retried resolve (another owner, another instant) changes nothing and tells nobody.
    again = await service.open_for(
        _incident(acker="PR", resolved_at=RESOLVED + timedelta(days=3)),
        RESOLVED + timedelta(days=3),
    )
    assert again == rca
    assert await service.get("inc-7") == rca
    assert await _queued(store_redis, clock) == []


async def test_two_replicas_opening_at_once_open_one(
    shared_redis: tuple[Redis, Redis], config: TeamConfig, cal: HolidayCalendar
) -> None:
    a, b = shared_redis
    clock = FakeClock(RESOLVED)
    first, second = _service(a, config, cal, clock), _service(b, config, cal, clock)
    await asyncio.gather(a.ping(), b.ping())
    got = await asyncio.gather(
        *(s.open_for(_incident(), RESOLVED) for s in (first, second, first, second))
    )
    assert len({r.model_dump_json() for r in got if r is not None}) == 1
    assert len(_dms(await _queued(a, clock))) == 1


@pytest.mark.parametrize(
    ("pipeline", "severity"),
    [("profit-agg", "sev3"), ("profit-unit", "sev1"), ("growth-daily", "sev2")],
)
async def test_none_when_the_policy_requires_none(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar, pipeline: str, severity: str
) -> None:
    clock = FakeClock(RESOLVED)
    service = _service(store_redis, config, cal, clock)
    assert await service.open_for(_incident(pipeline=pipeline, severity=severity), RESOLVED) is None
    assert await service.open_rcas() == []
    assert await _queued(store_redis, clock) == []


async def test_open_rcas_are_listed_soonest_due_first(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(ist("2025-10-24 10:00"))
    service = _service(store_redis, config, cal, clock)
    for number, resolved in [
        (9, "2025-10-23 11:00"),
        (7, "2025-10-17 15:30"),
        (8, "2025-10-21 09:00"),
    ]:
        at = ist(resolved)
        await service.open_for(_incident(number, pipeline="growth-agg", resolved_at=at), at)
    listed = await service.open_rcas()
    assert [(r.incident_id, r.due_day.isoformat()) for r in listed] == [
        ("INC-7", "2025-10-27"),
        ("INC-8", "2025-10-28"),
        ("INC-9", "2025-10-30"),
    ]


async def test_assign_hands_it_over_and_tells_both(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(ist("2025-10-21 11:00"))
    service = await _opened(store_redis, config, cal, clock)
    rca = await service.assign("INC-7", "@pr", "AM")
    assert rca.owner == "PR"
    assert (await service.get("INC-7")) == rca
    dms = _dms(await _queued(store_redis, clock))
    assert [m for m, _ in dms] == ["PR", "SK"]
    assert dms[0][1].startswith("{AM} handed you the RCA for *INC-7*")
    assert "no longer yours" in dms[1][1]

    # Taking it oneself tells only the one who had it; handing it to its owner is a no-op.
    await service.assign("INC-7", "SK", "SK")
    assert [m for m, _ in _dms(await _queued(store_redis, clock))] == ["PR"]
    assert (await service.assign("INC-7", "SK", "AM")).owner == "SK"
    assert await _queued(store_redis, clock) == []

    with pytest.raises(RcaError, match="There is no RCA for INC-99"):
        await service.assign("INC-99", "PR", "AM")
    with pytest.raises(RcaError, match="`XY` is not on the roster"):
        await service.assign("INC-7", "XY", "AM")
    with pytest.raises(RcaError, match="not an incident id"):
        await service.assign("yesterday's", "PR", "AM")


async def test_submit_closes_it_and_queues_its_messages(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(ist("2025-10-24 16:00"))
    service = await _opened(store_redis, config, cal, clock)
    posted = await service.submit(
        "INC-7",
        summary="The profit aggregate ran 3 h late after a warehouse failover.",
        investor_impact="The 09:00 investor KPI refresh showed yesterday's numbers.",
        contributing_factors=["No alert on the failover itself", " "],
        action_items=[
            NewAction("Alert on warehouse failover", "PR", date(2025, 10, 31)),
            NewAction("Rehearse the failover runbook", "SK", date(2025, 11, 7)),
        ],
        actor="SK",
    )
    assert (posted.status, posted.posted_by, posted.posted_at) == (
        RcaStatus.POSTED,
        "SK",
        clock.now(),
    )
    assert posted.contributing_factors == ["No alert on the failover itself"]
    assert [(i.id, i.owner) for i in posted.action_items] == [(1, "PR"), (2, "SK")]
    assert await service.open_rcas() == []
    assert await service.get("INC-7") == posted
    ttl = await store_redis.ttl(keys.rca("INC-7"))
    # Kept for the retention past its last action item's due day (Fri 7 Nov, end of day).
    keep = ist("2025-11-07 23:59:59.999999") - clock.now() + config.policy.retention
    assert abs(ttl - keep.total_seconds()) < 5

    thread, summary, dm, *homes = await _queued(store_redis, clock)
    # The owner's Home tab drops the RCA; each item owner's lists their items.
    assert sorted(h.user for h in homes if isinstance(h, HomeRefresh)) == [
        "U0PRRAO002",
        "U0SKAPOOR4",
    ]
    assert isinstance(thread, ThreadReply) and thread.incident == "INC-7"
    assert thread.text.startswith("*RCA INC-7: profit aggregate late*")
    assert "☐ *A1* Alert on warehouse failover — PR, due 2025-10-31" in thread.text
    assert isinstance(summary, ChannelPost)
    assert (summary.about, summary.channel) == ("INC-7", "#investor-kpis")
    assert "posted by Samir Kapoor (SK) on time" in summary.text
    assert "*Investor impact:* The 09:00 investor KPI refresh" in summary.text
    assert (
        isinstance(dm, MemberDM)
        and dm.member == "PR"
        and "A1 Alert on warehouse failover" in dm.text
    )

    markdown = await service.markdown("INC-7")
    assert markdown.startswith("# RCA INC-7: profit aggregate late\n")
    assert "- **Status:** posted Fri 24 Oct 2025, 16:00 IST by Samir Kapoor (SK)" in markdown

    with pytest.raises(RcaError, match="already posted by SK on Fri 24 Oct 2025, 16:00 IST"):
        await service.submit("INC-7", summary="again", actor="SK")
    with pytest.raises(RcaError, match="already posted"):
        await service.assign("INC-7", "PR", "AM")
    assert await _queued(store_redis, clock) == []


async def test_submit_refuses_what_cannot_be_posted(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(ist("2025-10-24 16:00"))
    service = await _opened(store_redis, config, cal, clock)
    with pytest.raises(RcaError, match="needs a summary"):
        await service.submit("INC-7", summary="  ", actor="SK")
    late = NewAction("fix", "PR", date(2025, 10, 23))
    with pytest.raises(RcaError, match="A1 is due Thu 23 Oct 2025, in the past"):
        await service.submit("INC-7", summary="s", action_items=[late], actor="SK")
    stranger = NewAction("fix", "ZZ", date(2025, 10, 31))
    with pytest.raises(RcaError, match="A1's owner `ZZ` is not on the roster"):
        await service.submit("INC-7", summary="s", action_items=[stranger], actor="SK")
    assert [r.status for r in await service.open_rcas()] == [RcaStatus.OPEN]
    assert await _queued(store_redis, clock) == []


async def test_the_due_soon_reminder_goes_once(
    shared_redis: tuple[Redis, Redis], config: TeamConfig, cal: HolidayCalendar
) -> None:
    a, b = shared_redis
    clock = FakeClock(ist("2025-10-22 10:00"))
    first = await _opened(a, config, cal, clock)
    second = _service(b, config, cal, clock)
    assert await first.queue_reminders() == 0  # Wednesday: nothing yet

    clock.set(ist("2025-10-23 08:30"))
    assert await first.queue_reminders() == 0  # before business hours
    clock.set(ist("2025-10-23 09:00"))
    await asyncio.gather(a.ping(), b.ping())
    counts = await asyncio.gather(*(s.queue_reminders() for s in (first, second, first, second)))
    assert sum(counts) == 1
    assert await first.queue_reminders() == 0
    [(member, text)] = _dms(await _queued(a, clock))
    assert member == "SK"
    assert text.startswith("Reminder: the RCA for *INC-7*")
    assert "due Mon 27 Oct 2025, end of day IST, 2 business days from now" in text

    clock.set(ist("2025-10-24 12:00"))  # the day between: nothing
    assert await second.queue_reminders() == 0


async def test_due_day_then_overdue_every_business_day(
    store_redis: Redis, config: TeamConfig, cal: HolidayCalendar
) -> None:
    clock = FakeClock(ist("2025-10-27 10:00"))
    service = await _opened(store_redis, config, cal, clock)
    assert await service.queue_reminders() == 1  # the due-soon one was missed: due today wins
    assert await service.queue_reminders() == 0
    [(_, text)] = _dms(await _queued(store_redis, clock))
    assert "is due today, by the end of the day IST" in text

    expected = {"2025-10-28": 1, "2025-10-29": 1, "2025-11-01": 0, "2025-11-03": 1}
    for day, count in expected.items():
        clock.set(ist(f"{day} 09:30"))
        assert (await service.queue_reminders(), await service.queue_reminders()) == (count, 0)
    texts = [t for _, t in _dms(await _queued(store_redis, clock))]
    assert len(texts) == 3
    assert "overdue: it was due Mon 27 Oct 2025 (1 business day ago)" in texts[0]
    assert "(5 business days ago)" in texts[2]  # 28, 29, 30, 31 Oct and 3 Nov

    await service.submit("INC-7", summary="late but written", actor="SK")
    clock.set(ist("2025-11-04 10:00"))
    assert await service.queue_reminders() == 0


async def test_action_items_are_reminded_once_and_done_by_their_owner(
    shared_redis: tuple[Redis, Redis], config: TeamConfig, cal: HolidayCalendar
) -> None:
    a, b = shared_redis
    clock = FakeClock(ist("2025-10-24 16:00"))
    first = await _opened(a, config, cal, clock)
    second = _service(b, config, cal, clock)
    await first.submit(
        "INC-7",
        summary="s",
        action_items=[
            NewAction("Alert on failover", "PR", date(2025, 10, 31)),
            NewAction("Runbook drill", "CW", date(2025, 11, 1)),  # a Saturday
            NewAction("Dashboard tile", "PR", date(2025, 11, 10)),
        ],
        actor="SK",
    )
    await _queued(a, clock)
    assert [(r.incident_id, i.id) for r, i in await first.actions(owner="PR")] == [
        ("INC-7", 1),
        ("INC-7", 3),
    ]

    clock.set(ist("2025-10-30 10:00"))
    assert await first.queue_reminders() == 0
    clock.set(ist("2025-10-31 10:00"))  # A1's day, and the business day before A2's
    await asyncio.gather(a.ping(), b.ping())
    counts = await asyncio.gather(*(s.queue_reminders() for s in (first, second, first)))
    assert sum(counts) == 2
    dms = _dms(await _queued(a, clock))
    assert [m for m, _ in dms] == ["PR", "CW"] or [m for m, _ in dms] == ["CW", "PR"]
    texts = dict(dms)
    assert "*A1* from the RCA for *INC-7*" in texts["PR"] and "is due today" in texts["PR"]
    assert "`/rca done INC-7 A1`" in texts["PR"]
    assert "is due Sat 1 Nov 2025" in texts["CW"]
    clock.set(ist("2025-11-03 10:00"))
    assert await second.queue_reminders() == 0  # once per item

    with pytest.raises(RcaError, match="A1 of INC-7 is PR's: only its owner"):
        await first.complete_action("INC-7", "A1", "CW")
    rca, item = await second.complete_action("inc-7", "a1", "PR")
    assert (item.done_by, item.done_at) == ("PR", clock.now())
    assert rca.action_items[0] == item
    # Nobody is messaged; only the owner's Home tab is redrawn without it.
    [home] = await _queued(a, clock)
    assert isinstance(home, HomeRefresh) and home.user == "U0PRRAO002"
    with pytest.raises(RcaError, match="A1 of INC-7 was done already by PR"):
        await first.complete_action("INC-7", 1, "PR")
    with pytest.raises(RcaError, match="has no action item A9"):
        await first.complete_action("INC-7", "A9", "PR")
    assert [i.id for _, i in await first.actions(owner="PR")] == [3]
    assert [i.id for _, i in await first.actions(owner="PR", include_done=True)] == [1, 3]
