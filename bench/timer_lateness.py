"""Escalation timer lateness with N open incidents on a real Redis, and memory per incident.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/timer_lateness.py [N] [REPLICAS]

Flushes that database. Opens N incidents whose next step falls due uniformly over a 20 s
window, runs REPLICAS escalation loops (each with its own Redis client, as separate bot
processes would) on the wall clock, and reports fire time minus due time for every step,
plus Redis `used_memory` per open incident (incident hash, due-index entry, open-set entry,
dedupe key, ack-window key; the outbox excluded).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import SystemClock
from bot.config import load_config
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.domain.calendar import HolidayCalendar
from bot.services.paging import PagingService
from bot.services.schedule import ScheduleService
from bot.store.connection import connect
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox
from bot.waker import Waker

WINDOW = 20.0
ROOT = Path(__file__).resolve().parents[1]


def _service(redis: Redis, root: Path) -> PagingService:
    cfg = load_config(root / "schedules")
    cal = HolidayCalendar(cfg.policy.holidays)
    store = IncidentStore(redis, cfg.policy.retention, Outbox(redis))
    return PagingService(cfg, cal, ScheduleService(cfg, cal), store, lambda: None, False)


async def _open_all(service: PagingService, n: int, start: float, window: float = WINDOW) -> None:
    cfg = service.config
    now = datetime.now(UTC)
    _, ladder = await service.schedule.ladder(now, cfg.pipeline("growth-agg"))
    rng = random.Random(7)
    # Several at once: each open is one atomic script, so only the round trips overlap, and
    # opening 10,000 takes seconds instead of eating into the window on a loaded machine.
    slots = asyncio.Semaphore(32)

    async def one(i: int, due: datetime) -> None:
        inc, _ = esc.open_incident(
            id="pending",
            pipeline="growth-agg",
            severity=sm.Severity.SEV2,
            summary=f"bench {i}",
            signal=sm.Signal.FRESHNESS,
            dedupe_key=f"bench-{i}",
            mode=sm.Mode.PAGE,
            ladder=ladder,
            now=now,
            opened_by="alert",
            policy=cfg.policy.escalation,
            checklist=False,
        )
        inc.next_at = due
        async with slots:
            await service.store.open_or_join(inc, [], now)

    dues = [datetime.fromtimestamp(start + rng.random() * window, UTC) for _ in range(n)]
    await asyncio.gather(*(one(i, due) for i, due in enumerate(dues)))


async def _loop(service: PagingService, stop: float, late: list[float]) -> None:
    clock, waker = SystemClock(), Waker()
    while time.time() < stop:
        for _, due in await service.tick(clock.now()):
            late.append(time.time() - due.timestamp())
        known, nxt = service.take_next_due()
        if not known:
            nxt = await service.store.next_due()
        await waker.wait(min(0.05, max(0.0, (nxt or time.time() + 1) - time.time())))


async def main(n: int, replicas: int) -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    clients = [connect(url) for _ in range(replicas)]
    await clients[0].flushdb()
    base = int((await clients[0].info("memory"))["used_memory"])
    start = time.time() + 5 + n / 2000  # leave time to open them all first
    await _open_all(_service(clients[0], ROOT), n, start)
    per_incident = (int((await clients[0].info("memory"))["used_memory"]) - base) / n
    late: list[float] = []
    await asyncio.gather(*(_loop(_service(c, ROOT), start + WINDOW + 3, late) for c in clients))
    fired = len(late)
    late.sort()
    ms = [x * 1000 for x in late]
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]  # noqa: E731
    print(
        f"{n} open incidents, {replicas} replica(s), real Redis: {fired} steps fired "
        f"(expected {n}); lateness p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {ms[-1]:.1f} ms; "
        f"Redis memory {per_incident:.0f} bytes per open incident"
    )
    for c in clients:
        await c.flushdb()
        await c.aclose()
    if fired != n:
        raise SystemExit("some steps did not fire exactly once")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(args[0] if args else 10_000, args[1] if len(args) > 1 else 2))
