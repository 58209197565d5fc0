"""CPU time of every command's worst input, against the goal of 50 ms each.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/worst_inputs.py [ROUNDS]

Flushes that database. The real app answers each input of `bot.devtools.worst_inputs.WORST`
through signed HTTP requests with a fake Slack, in this process, so `time.process_time`
counts the server's work too. The first answer of each kind ("cold") pays for lazy imports;
the others (default 20 rounds) give the median and max. The calls counted by `count_work`,
which `tests/e2e/test_worst_inputs.py` holds to a budget, are printed beside the times.
Exits non-zero when an answer took 50 ms of CPU or more.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.clock import FakeClock
from bot.config import load_config
from bot.devtools.harness import Harness
from bot.devtools.worst_inputs import WORST, count_work
from bot.store.connection import connect

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 50.0
USER = "U0PRRAO002"  # PR, on the roster
NOW = "2025-09-03T12:00:00+05:30"


async def main(rounds: int) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")

    redis = connect(url)
    clock = FakeClock(datetime.fromisoformat(NOW))
    overrides = {"runbooks_dir": ROOT / "runbooks"}
    worst = 0.0
    print(f"{'cold ms':>8} {'median':>7} {'max':>7} {'calls':>7}  input")
    for command, text in WORST:
        await redis.flushdb()
        h = await Harness(redis, clock, load_config(ROOT / "schedules"), overrides).start()
        try:
            await h.command("/oncall", "", USER)  # warm-up: auth.test, the first answer
            h.autodeliver = False
            times = []
            for _ in range(rounds + 1):
                started = time.process_time()
                resp = await h.command(command, text, USER)
                times.append((time.process_time() - started) * 1000)
                if resp.status != 200:
                    raise SystemExit(f"{command} {text[:40]}: HTTP {resp.status}")
            with count_work() as work:
                await h.command(command, text, USER)
        finally:
            await h.stop()
        cold, warm = times[0], times[1:]
        worst = max(worst, *times)
        print(
            f"{cold:8.1f} {statistics.median(warm):7.1f} {max(warm):7.1f} {work.calls:7d}"
            f"  {command} {text[:50]}"
        )
    await redis.aclose()
    print(f"slowest answer {worst:.1f} ms of CPU (goal < {GOAL_MS:.0f} ms)")
    return 1 if worst >= GOAL_MS else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
