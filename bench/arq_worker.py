"""The arq side of bench/arq_timers.py; runs in bench/.arq-venv (arq pins its own redis client).

    REDIS_URL=redis://127.0.0.1:6379/14 bench/.arq-venv/bin/python bench/arq_worker.py N WINDOW

Flushes that database. Enqueues N jobs deferred (`_defer_until`) to due times spread
uniformly over WINDOW seconds, starting once they are all enqueued, then runs one arq Worker
with every setting at arq's default (poll_delay 0.5 s, max_jobs 10, ...) in this process until
every job has run. Each job records when it started minus when it was due. Prints one JSON
object: the count and the lateness p50/p99/max in ms, and the arq and redis-py versions.

Imports only the standard library and arq: this virtualenv has no `bot`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from arq import Worker
from arq.connections import RedisSettings, create_pool

late: list[float] = []


async def fire(ctx: dict[str, Any], due: float) -> None:
    # The first thing the job does: arq's own work before it (fetching the job, counting the
    # try) is part of the lateness, as the bot's is.
    late.append(time.time() - due)


def pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def main(n: int, window: float) -> dict[str, Any]:
    settings = RedisSettings.from_dsn(os.environ["REDIS_URL"])
    pool = await create_pool(settings)
    await pool.flushdb()
    # Leave time to enqueue them all before the first falls due: well over 2,000/s on a quiet
    # machine, under 1,000/s on a busy one (set-up ran past the first due time at n / 1000).
    start = time.time() + 5 + n / 400
    rng = random.Random(7)
    for i in range(n):
        due = start + rng.random() * window
        await pool.enqueue_job(
            "fire", due, _job_id=f"bench-{i}", _defer_until=datetime.fromtimestamp(due, UTC)
        )
    enqueued_late = time.time() > start
    worker = Worker(functions=[fire], redis_pool=pool, handle_signals=False)
    run = asyncio.create_task(worker.async_run())
    # Late jobs still count, up to 30 s past the window.
    for _ in range(int((start + window + 30 - time.time()) * 10)):
        if len(late) >= n:
            break
        await asyncio.sleep(0.1)
    run.cancel()
    await worker.close()
    pool = await create_pool(settings)
    await pool.flushdb()
    await pool.aclose()
    ms = sorted(x * 1000 for x in late)
    return {
        "jobs": n,
        "ran": len(ms),
        "p50_ms": pct(ms, 0.5),
        "p99_ms": pct(ms, 0.99),
        "max_ms": ms[-1] if ms else float("nan"),
        "enqueued_after_first_due": enqueued_late,
        "arq": version("arq"),
        "redis": version("redis"),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))))
