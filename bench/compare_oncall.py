"""`/oncall now` throughput, CPU and latency: the real bot against a bare Bolt app.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/compare_oncall.py \
        [-c 16] [-n 3000] [--runs 3] [--server-core 0] [--client-core 1]

Flushes that database (before and after). Runs `oncall-bot serve` (HTTP mode, REDIS_URL, the
fake Slack of bot/devtools/fakeslack.py, background jobs running as in production) and
bench/bare_bolt.py (same adapter, server setup, access-log setting and signing), one at a
time, each pinned to --server-core; the load generator (bench/load.py, closed loop: C
concurrent workers sharing N signed requests) runs as its own process pinned to
--client-core, and this driver (which hosts the fake Slack) sits on that core too, so the
server's core serves requests only. Each run starts a fresh server, waits for /healthz,
warms up (200 requests), measures, and stops it. The two alternate (bot, bare, bare, bot,
...) so drift on a shared machine falls on both alike.

Prints every run, then the medians of the runs and the ratios that matter for issue #14:
throughput bot/bare (goal >= 0.80), server CPU per request bot/bare, and the bot's max latency
(median of the runs' maxima, goal < 15 ms; the worst run is shown too). Exits 1 when a goal
is missed, 2 when a run failed; the figures are printed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from servers import LOG_DIR, SECRET, Kind, Server

from bot.devtools.fakeslack import FakeSlack

LOAD = Path(__file__).resolve().parent / "load.py"
RATIO_GOAL = 0.80
MAX_GOAL_MS = 15.0


@dataclass
class Run:
    kind: Kind
    figures: dict[str, Any]

    def line(self) -> str:
        f = self.figures
        return (
            f"  {self.kind:<4} {f['throughput']:7.0f} req/s  p50 {f['p50_ms']:6.2f} ms  "
            f"p99 {f['p99_ms']:6.2f} ms  max {f['max_ms']:7.2f} ms  "
            f"server CPU {f['server_cpu_ms_per_request']:.3f} ms/req  "
            f"load generator {100 * f['client_core_busy']:.0f}% of a core  "
            f"errors {f['errors']}"
        )


async def one_run(kind: Kind, slack: FakeSlack, redis_url: str, args: argparse.Namespace) -> Run:
    server = await Server(kind, slack.api_url, redis_url).start(core=args.server_core)
    try:
        await server.ready()
        await asyncio.sleep(args.settle)
        load = await asyncio.create_subprocess_exec(
            "taskset", "-c", str(args.client_core), sys.executable, str(LOAD), server.url,
            "--secret", SECRET, "--pid", str(server.pid), "-c", str(args.concurrency),
            "-n", str(args.requests), "--json",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await load.communicate()
    finally:
        await server.stop()
    if not out.strip():
        raise RuntimeError(f"the load generator printed nothing; {kind} log:\n{server.log_tail()}")
    return Run(kind, json.loads(out))


def median(runs: list[Run], key: str) -> float:
    return statistics.median(float(r.figures[key]) for r in runs)


async def main(args: argparse.Namespace) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    # The driver (fake Slack, health polls) stays off the server's core.
    os.sched_setaffinity(0, {args.client_core})
    redis = aioredis.Redis.from_url(url)
    await redis.flushdb()
    slack = FakeSlack()
    await slack.start()
    runs: list[Run] = []
    failed = False
    print(
        f"/oncall now, closed loop {args.concurrency} concurrent x {args.requests} requests, "
        f"server on core {args.server_core}, load generator on core {args.client_core}, "
        f"{args.runs} runs each (logs in {LOG_DIR})"
    )
    try:
        for i in range(args.runs):
            order: list[Kind] = ["bot", "bare"] if i % 2 == 0 else ["bare", "bot"]
            for kind in order:
                run = await one_run(kind, slack, url, args)
                runs.append(run)
                print(run.line(), flush=True)
                failed = failed or bool(run.figures["errors"])
    finally:
        await slack.stop()
        await redis.flushdb()
        await redis.aclose()
    bot = [r for r in runs if r.kind == "bot"]
    bare = [r for r in runs if r.kind == "bare"]
    ratio = median(bot, "throughput") / median(bare, "throughput")
    cpu_ratio = median(bot, "server_cpu_ms_per_request") / median(bare, "server_cpu_ms_per_request")
    bot_max = median(bot, "max_ms")
    worst = max(float(r.figures["max_ms"]) for r in bot)
    print(f"medians of {args.runs}:")
    for name, group in (("bot", bot), ("bare", bare)):
        print(
            f"  {name:<4} {median(group, 'throughput'):7.0f} req/s  "
            f"p50 {median(group, 'p50_ms'):6.2f} ms  p99 {median(group, 'p99_ms'):6.2f} ms  "
            f"max {median(group, 'max_ms'):7.2f} ms  "
            f"server CPU {median(group, 'server_cpu_ms_per_request'):.3f} ms/req"
        )
    ok_ratio, ok_max = ratio >= RATIO_GOAL, bot_max < MAX_GOAL_MS
    print(
        f"throughput bot/bare {ratio:.2f} (goal >= {RATIO_GOAL:.2f}: "
        f"{'PASS' if ok_ratio else 'FAIL'}); server CPU per request bot/bare {cpu_ratio:.2f}; "
        f"bot max latency {bot_max:.2f} ms (median of runs; worst run {worst:.2f} ms; goal "
        f"< {MAX_GOAL_MS:.0f} ms: {'PASS' if ok_max else 'FAIL'})"
    )
    if failed:
        print("some requests failed (see the errors column)")
        return 2
    return 0 if ok_ratio and ok_max else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-n", "--requests", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds from /healthz to the load, for both servers (default 2): the bot's "
        "first background sweep starts 0.25 s after its port opens (bot/cli/serve.py), and "
        "the timed run is meant to measure requests, not that sweep",
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
