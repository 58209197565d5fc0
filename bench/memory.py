"""Redis bytes per open and per closed incident, by key family.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/memory.py [--n 10000] \
        [--severity sev1|sev2|sev3|sev4]

Flushes that database (before and after). The real app (bot/devtools/harness.py: HTTP, Bolt,
services, real Redis, the fake Slack Web API, the runbooks of this repository) on the wall
clock, with Slack's pacing off so delivery takes seconds rather than hours:

1. opens N incidents through `POST /alerts` (batches of 500 alerts with distinct dedupe keys,
   round-robin over the three investor pipelines, which page at any hour), then delivers
   every notice (page posts, page DMs, thread notes);
2. presses "Open checklist" (PagingService.open_checklist) on every page the pipeline's
   once-per-30-min automatic checklist did not cover, and delivers the checklists and the
   page redraws, so every incident carries a posted checklist;
3. measures: `MEMORY USAGE key SAMPLES 0` (exact, nested values included) summed over every
   key of the database, divided by N, by key family (the key with each part holding a digit
   replaced by `*`); also the server's `used_memory` delta, which is noisier (other databases
   on the same server change it too) and counts the keyspace's own tables;
4. resolves every incident (PagingService.resolve: on an investor pipeline a Sev-1/2 then
   opens its RCA), delivers what that queued, and measures again, per closed incident.

Goals (issue #14): <= 1,500 B per open incident, <= 1,000 B per closed incident, by the
MEMORY USAGE sum of the incident's records. Two kinds of key are shown apart: a Sev-1/2's RCA
(its own record and index entries, kept beside the incident's) as a subtotal, and transient
keys (TTL <= 2 min, e.g. a message's chat.update pace bucket) not at all in the figure.
Exits 1 when a goal is missed; the figures are printed either way.
Quick run: `--n 1000` (under a minute; the per-incident figures come within about 2 % of
10,000's, which takes about 6 minutes, nearly all of it the bot's own delivery work).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from redis.asyncio import Redis

from bot.clock import SystemClock
from bot.config import load_config
from bot.deps import Deps
from bot.devtools.harness import Harness
from bot.store.connection import connect

ROOT = Path(__file__).resolve().parents[1]
INVESTOR = ["profit-agg", "growth-agg", "engagement-agg"]
BATCH = 250
# Requests, presses and resolves in flight at once, and delivery workers: the work is mostly
# Redis round trips, so concurrency is what keeps 10,000 incidents within minutes.
PARALLEL = 32
WORKERS = 64
OPEN_GOAL, CLOSED_GOAL = 1500, 1000
WHO = "PR"
T = TypeVar("T")


# Keys that live at most this long are working state of the moment, not what an incident
# keeps: a message's chat.update pace bucket outlives its last use by about a minute
# (scripts.PACE). Reported apart and left out of the goal figures.
TRANSIENT_TTL = 120
# A Sev-1/2's RCA: its own record, kept beside the incident's, shown as its own subtotal.
RCA_FAMILIES = ("oncall:rca:", "oncall:rcas:")


@dataclass
class Family:
    keys: int = 0
    bytes: int = 0
    kind: str = ""
    longest_ttl: int = -1  # seconds; -1 when some key has no expiry

    @property
    def transient(self) -> bool:
        return 0 <= self.longest_ttl <= TRANSIENT_TTL


def family(key: str) -> str:
    # Ids, timestamps and counters all hold digits; names of pipelines and roles do not.
    return ":".join("*" if re.search(r"\d", part) else part for part in key.split(":"))


async def footprint(redis: Redis) -> dict[str, Family]:
    """Every key of the database, by family: how many and their MEMORY USAGE."""
    families: dict[str, Family] = collections.defaultdict(Family)
    keys = [k async for k in redis.scan_iter(count=1000)]
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        async with redis.pipeline(transaction=False) as pipe:
            for k in chunk:
                pipe.memory_usage(k, samples=0)
                pipe.ttl(k)
            got = await pipe.execute()
        for k, size, ttl in zip(chunk, got[::2], got[1::2], strict=True):
            f = families[family(k)]
            # -1 (no expiry) is sticky: one key that never expires makes the family kept.
            if f.keys == 0 or (f.longest_ttl >= 0 and int(ttl) != -1):
                f.longest_ttl = max(f.longest_ttl, int(ttl))
            else:
                f.longest_ttl = -1
            f.keys += 1
            f.bytes += int(size or 0)  # None: expired between SCAN and MEMORY USAGE
    for name, f in families.items():
        sample = next(k for k in keys if family(k) == name)
        f.kind = str(await redis.type(sample))
    return families


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


def report(title: str, n: int, families: dict[str, Family], delta: int, goal: int) -> bool:
    kept = {name: f for name, f in families.items() if not f.transient}
    total = sum(f.bytes for f in kept.values())
    rca = sum(f.bytes for name, f in kept.items() if name.startswith(RCA_FAMILIES))
    own = total - rca
    ok = own / n <= goal
    print(
        f"{title}: {own / n:,.0f} B per incident by MEMORY USAGE for the incident's records "
        f"(goal <= {goal:,} B: {'PASS' if ok else 'FAIL'})"
    )
    transient = sum(f.bytes for f in families.values()) - total
    print(
        f"  + RCA records (Sev-1/2 only) {rca / n:,.0f} B = {total / n:,.0f} B in all "
        f"({total:,} B over {sum(f.keys for f in kept.values()):,} keys); transient keys "
        f"(TTL <= {TRANSIENT_TTL} s, not counted) {transient / n:,.0f} B; used_memory delta "
        f"{delta / n:,.0f} B per incident"
    )
    print(f"  {'B/incident':>10} {'share':>6} {'keys':>7}  {'type':<6} family")
    for name, f in sorted(families.items(), key=lambda kv: -kv[1].bytes):
        note = " (transient)" if f.transient else " (RCA)" if name.startswith(RCA_FAMILIES) else ""
        print(
            f"  {f.bytes / n:10,.1f} {100 * f.bytes / max(total, 1):5.1f}% {f.keys:7,}  "
            f"{f.kind:<6} {name}{note}"
        )
    return ok


async def gather(aws: Iterable[Awaitable[T]]) -> list[T]:
    """Await them all, at most PARALLEL at a time, results in order."""
    slots = asyncio.Semaphore(PARALLEL)

    async def one(aw: Awaitable[T]) -> T:
        async with slots:
            return await aw

    return list(await asyncio.gather(*(one(aw) for aw in aws)))


async def open_batch(h: Harness, indexes: range, severity: str | None) -> list[str]:
    """POST /alerts with one new alert per index; the incidents it opened."""
    body = [
        {
            "pipeline": INVESTOR[i % len(INVESTOR)],
            "signal": "freshness",
            "summary": f"memory bench {i}",
            "dedupe_key": f"memory-{i}",
            **({"severity": severity} if severity else {}),
        }
        for i in indexes
    ]
    resp = await h.alert(body)
    accepted = resp.json.get("accepted", [])
    if resp.status != 200 or not all(a["created"] for a in accepted):
        raise RuntimeError(f"alerts refused: {resp.status} {resp.text[:300]}")
    return [str(a["incident"]) for a in accepted]


async def press_open_checklist(deps: Deps, incident_id: str) -> bool:
    """Press "Open checklist" on the page unless its checklist is already there."""
    stored = await deps.paging.stored(incident_id)
    if stored is None or stored.checklist:
        return False
    await deps.paging.open_checklist(incident_id, deps.clock.now())
    return True


async def drain(h: Harness) -> int:
    """Deliver until the outbox is empty (a delivery may queue follow-ups)."""
    assert h.deps is not None
    sent = 0
    for _ in range(100):
        sent += await h.deliver()
        if not await h.deps.outbox.pending():
            return sent
        await asyncio.sleep(0.05)
    raise RuntimeError(f"outbox still holds {await h.deps.outbox.pending()} notices")


async def main(n: int, severity: str | None, keep: bool = False) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    logging.getLogger().setLevel(logging.ERROR)
    redis = connect(url)
    await redis.flushdb()
    overrides = {"runbooks_dir": ROOT / "runbooks", "delivery_workers": WORKERS}
    h = await Harness(redis, SystemClock(), load_config(ROOT / "schedules"), overrides).start()
    assert h.deps is not None
    deps = h.deps
    # Checking every block against slack_sdk's models costs the fake more than the bot's
    # whole delivery; the tests check the blocks, this measures bytes.
    h.slack.validate_blocks = False
    t0 = time.perf_counter()
    try:
        base_used = await used_memory(redis)
        batches = [range(i, min(n, i + BATCH)) for i in range(0, n, BATCH)]
        ids = [i for got in await gather(open_batch(h, b, severity) for b in batches) for i in got]
        sent = await drain(h)
        opened = time.perf_counter()
        pressed = sum(await gather(press_open_checklist(deps, i) for i in ids))
        sent += await drain(h)
        missing = [i for i in ids if not (s := await deps.paging.stored(i)) or not s.checklist]
        print(
            f"{n:,} incidents opened and delivered in {opened - t0:.0f} s; checklists: "
            f"{n - pressed:,} automatic, {pressed:,} opened by the button, "
            f"{len(missing):,} without one; {sent:,} notices delivered, "
            f"{len(h.slack.calls):,} Slack calls"
        )
        open_ok = report(
            f"open ({n:,} incidents)",
            n,
            await footprint(redis),
            await used_memory(redis) - base_used,
            OPEN_GOAL,
        )
        await gather(deps.paging.resolve(i, WHO, deps.clock.now()) for i in ids)
        sent = await drain(h)
        print(f"resolved all; {sent:,} notices delivered ({time.perf_counter() - t0:.0f} s in all)")
        closed_ok = report(
            f"closed ({n:,} incidents)",
            n,
            await footprint(redis),
            await used_memory(redis) - base_used,
            CLOSED_GOAL,
        )
    finally:
        await h.stop()
        if not keep:
            await redis.flushdb()
        await redis.aclose()
    return 0 if open_ok and closed_ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="incidents (default 10,000)")
    parser.add_argument(
        "--keep", action="store_true", help="leave the keys in Redis to inspect them"
    )
    parser.add_argument("--severity", help="every alert's severity (default: the pipeline's)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.n, args.severity, args.keep)))
