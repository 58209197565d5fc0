"""Latency of `/oncall now` over HTTP: N signed requests through the real app.

    .venv/bin/python bench/oncall_latency.py [N]

Uses REDIS_URL when set, else the embedded store. Sequential requests from one client, so
the figure is the server's per-request latency, not a throughput under contention.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime

from bot.clock import SystemClock
from bot.devtools.harness import Harness
from bot.store.connection import connect, embedded


async def main(n: int) -> None:
    url = os.environ.get("REDIS_URL")
    redis = connect(url) if url else embedded()
    harness = Harness(redis, SystemClock())
    await harness.start()
    try:
        await harness.command("/oncall", "now", "U0PRRAO002")  # warm-up (auth.test, imports)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            resp = await harness.command("/oncall", "now", "U0PRRAO002")
            samples.append((time.perf_counter() - t0) * 1000)
            if resp.status != 200 or "Primary" not in resp.json.get("text", ""):
                raise SystemExit(f"bad response: {resp.status} {resp.text[:200]}")
    finally:
        await harness.stop()
        await redis.aclose()
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    print(
        f"{n} signed /oncall now over HTTP ({'redis' if url else 'embedded'}) "
        f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms, max {samples[-1]:.2f} ms, "
        f"mean {statistics.fmean(samples):.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
