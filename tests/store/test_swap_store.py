"""The swap store against fakeredis and, when REDIS_URL is set, a real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.swaps import SwapError, SwapStatus, Window
from bot.services.swaps import SwapService
from bot.store.outbox import Outbox
from bot.store.swaps import SwapStore
from tests.conftest import ist

MEMBERS = ["CW", "SK", "AM"]


async def test_many_racing_approvals_have_exactly_one_winner(
    store_redis: Redis, config: TeamConfig
) -> None:
    clock = FakeClock(ist("2025-08-28 10:00"))
    service = SwapService(
        config,
        HolidayCalendar(config.policy.holidays),
        SwapStore(store_redis, Outbox(store_redis)),
        clock,
    )
    # PR (Primary in week 2) asks three people for overlapping pieces of the same day, twice.
    swaps = []
    for hour in (9, 12):
        for who in MEMBERS:
            window = Window(start=ist(f"2025-09-03 {hour:02d}:00"), end=ist("2025-09-03 20:00"))
            swaps.append(await service.request("PR", who, window))

    # One warm connection per approver, as separate replicas would have: otherwise the first
    # approval finishes while the others are still connecting, and nothing races.
    await asyncio.gather(*(store_redis.ping() for _ in swaps))
    results = await asyncio.gather(
        *(service.approve(s.id, s.counterpart) for s in swaps), return_exceptions=True
    )

    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == len(swaps) - 1
    assert all(isinstance(e, SwapError) and "approved first" in str(e) for e in lost)
    statuses = [(await service.store.get(s.id)) for s in swaps]
    assert sum(s is not None and s.status is SwapStatus.APPROVED for s in statuses) == 1
    assert len(await service.store.approved_after(ist("2025-09-01 00:00"))) == 1


async def test_state_survives_a_new_client(store_redis: Redis, config: TeamConfig) -> None:
    clock = FakeClock(ist("2025-08-28 10:00"))
    cal = HolidayCalendar(config.policy.holidays)
    first = SwapService(config, cal, SwapStore(store_redis, Outbox(store_redis)), clock)
    swap = await first.request(
        "PR", "CW", Window(start=ist("2025-09-03 00:00"), end=ist("2025-09-04 00:00")), note="hi"
    )
    await first.approve(swap.id, "CW")
    await first.add_pto("CW", Window(start=ist("2025-09-10 00:00"), end=ist("2025-09-12 00:00")))

    again = SwapService(config, cal, SwapStore(store_redis, Outbox(store_redis)), clock)
    [kept] = await again.store.everything()
    assert kept.model_dump(exclude={"decided_at"}) == swap.model_copy(
        update={"status": SwapStatus.APPROVED, "decided_by": "CW"}
    ).model_dump(exclude={"decided_at"})
    assert [p.member for p in await again.store.all_ptos()] == ["CW"]
    assert len(await again.overrides(ist("2025-09-01 09:00"), ist("2025-09-08 09:00"))) == 1


async def test_a_replica_sees_another_ones_approval_and_cancel_at_once(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    # Each replica keeps the approved swaps in memory, filed under the version key that
    # every change bumps in the same transaction; a stale copy is never answered.
    clock = FakeClock(ist("2025-08-28 10:00"))
    cal = HolidayCalendar(config.policy.holidays)
    one = SwapService(config, cal, SwapStore(shared_redis[0], Outbox(shared_redis[0])), clock)
    two = SwapService(config, cal, SwapStore(shared_redis[1], Outbox(shared_redis[1])), clock)
    week = (ist("2025-09-01 09:00"), ist("2025-09-08 09:00"))
    assert await two.overrides(*week) == []  # cached, empty, at version 0
    swap = await one.request(
        "PR", "CW", Window(start=ist("2025-09-03 00:00"), end=ist("2025-09-04 00:00"))
    )
    assert await two.overrides(*week) == []  # a pending request changes nothing
    await one.approve(swap.id, "CW")
    [override] = await two.overrides(*week)
    assert (override.a, override.b) == ("PR", "CW")
    await two.cancel(swap.id, "PR")
    assert await one.overrides(*week) == []
    assert await two.overrides(*week) == []
    # Unchanged since: answered from memory, with one GET of the version.
    calls: list[str] = []
    real: Any = shared_redis[1].execute_command

    async def counting(*args: Any, **kw: Any) -> Any:
        calls.append(str(args[0]))
        return await real(*args, **kw)

    shared_redis[1].execute_command = counting  # type: ignore[method-assign]
    assert await two.overrides(*week) == []
    assert calls == ["GET"]
