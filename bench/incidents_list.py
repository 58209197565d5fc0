"""`/oncall incidents` at scale: N open incidents, then signed requests through the real app.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/incidents_list.py [N] [ROUNDS]

Opens N incidents (default 10,000) through the paging service (distinct dedupe keys, all
severities, some ACKed), then times ROUNDS (default 50) `/oncall incidents` requests and 20
"page 50"-style requests over HTTP: p50, p99, max and the answer's size. Goal (issue #14):
under 20 ms at 10,000 open (p99). Flushes the database before and after.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import datetime, timedelta

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.domain.alerts import Alert
from bot.domain.incident import Severity, Signal
from bot.store.connection import connect

GOAL_MS = 20.0
PIPELINES = ("growth-agg", "profit-agg", "profit-unit")
AT = "2025-09-03T12:00:00+05:30"


async def _open(harness: Harness, n: int) -> None:
    assert harness.deps is not None
    paging, clock = harness.deps.paging, harness.clock
    assert isinstance(clock, FakeClock)
    severities = list(Severity)
    batch = []
    for i in range(n):
        alert = Alert(
            pipeline=PIPELINES[i % len(PIPELINES)],
            signal=Signal.FRESHNESS,
            summary=f"bench incident {i}",
            severity=severities[i % 2],  # sev1 and sev2 page
            dedupe_key=f"bench-{i}",
        )
        batch.append(paging.ingest(alert, clock.now()))
        if len(batch) == 64:
            await asyncio.gather(*batch)
            batch = []
            clock.set(clock.now() + timedelta(seconds=1))
    await asyncio.gather(*batch)


async def _time(harness: Harness, text: str, rounds: int) -> tuple[list[float], int]:
    samples, size = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        resp = await harness.command("/oncall", text, "U0PRRAO002")
        samples.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200 or "Open incidents" not in resp.text:
            raise SystemExit(f"bad answer: {resp.status} {resp.text[:200]}")
        size = len(resp.text)
    return sorted(samples), size


async def main(n: int, rounds: int) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    redis = connect(url)
    await redis.flushdb()
    harness = Harness(redis, FakeClock(datetime.fromisoformat(AT)), autodeliver=False)
    await harness.start()
    failed = False
    try:
        started = time.perf_counter()
        await _open(harness, n)
        print(f"opened {n:,} incidents in {time.perf_counter() - started:.1f} s")
        await harness.command("/oncall", "incidents", "U0PRRAO002")  # warm-up
        for text in ("incidents", f"incidents page {max(1, n // 40)}"):
            samples, size = await _time(harness, text, rounds)
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            print(
                f"/oncall {text} at {n:,} open: p50 {statistics.median(samples):.1f} ms, "
                f"p99 {p99:.1f} ms, max {samples[-1]:.1f} ms; answer {size:,} B "
                f"(goal p99 < {GOAL_MS:.0f} ms: {'PASS' if p99 < GOAL_MS else 'FAIL'})"
            )
            failed |= p99 >= GOAL_MS
    finally:
        await harness.stop()
        await redis.flushdb()
        await redis.aclose()
    return 1 if failed else 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(asyncio.run(main(*(args + [10_000, 50][len(args) :]))))
