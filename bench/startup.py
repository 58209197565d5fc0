"""Start-up time: `oncall-bot serve` against bench/bare_bolt.py, to the first 200 on /healthz.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/startup.py [--runs 5] \
        [--server-core 0] [--client-core 1]

Flushes that database (before and after). Spawns each server (bench/servers.py: HTTP mode,
the fake Slack of bot/devtools/fakeslack.py for auth.test, REDIS_URL for the bot) pinned to
--server-core and times from the spawn to the first 200 from `GET /healthz`, polled every
5 ms from this driver on --client-core. The bot's time covers the interpreter, its imports,
settings, configuration and runbooks, the Redis pool, auth.test, the web app and its first
health check (which pings Redis); the bare app's, the interpreter, slack-bolt and aiohttp.

One untimed start of each warms the file cache; then RUNS starts of each, alternating (bot,
bare, bare, bot, ...). Prints every start, the medians and the ratio bot/bare (goal <= 1.3);
exits 1 when the goal is missed, the figures printed either way.

Then where the difference goes: the imports alone, each set timed in a fresh interpreter on
the server's core (median of RUNS, alternating): the bare app's (slack-bolt, aiohttp); those
plus redis-py and pydantic, the two libraries of the design card that `/healthz` cannot
answer without (it pings Redis; the settings are a pydantic model), before a line of the
bot runs; and everything `serve` imports. "Floor" is the ratio a bot would have that only
imported those two libraries and otherwise started exactly as fast as the bare app.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys

import redis.asyncio as aioredis
from servers import LOG_DIR, ROOT, Kind, Server

from bot.devtools.fakeslack import FakeSlack

GOAL = 1.3
BARE_IMPORTS = "slack_bolt.async_app, slack_bolt.adapter.aiohttp, aiohttp.web"
IMPORT_SETS = {
    "bare app": BARE_IMPORTS,
    "+ redis-py and pydantic": f"{BARE_IMPORTS}, redis.asyncio, pydantic",
    # What `oncall-bot serve` imports before /healthz answers (bot/cli/serve.py _serve).
    "everything serve imports": f"{BARE_IMPORTS}, bot.cli, bot.cli.serve, bot.app, "
    "bot.server, bot.runtime, bot.store.connection",
}


def import_ms(modules: str, core: int) -> float:
    """Milliseconds to import `modules` in a fresh interpreter pinned to `core`. Isolated
    (-I): no current directory on the path, as the installed console script runs; the
    bytecode is written by the servers' starts above. With the collector off, as `serve`
    imports (bot/launch.py), so that the sets differ only in what they import."""
    code = f"import gc, time; gc.disable(); t = time.perf_counter(); import {modules}; "
    code += "print((time.perf_counter() - t) * 1000)"
    out = subprocess.run(
        ["taskset", "-c", str(core), sys.executable, "-I", "-c", code],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return float(out.stdout.split()[-1])


def import_breakdown(runs: int, core: int, bare_start_ms: float) -> None:
    times: dict[str, list[float]] = {name: [] for name in IMPORT_SETS}
    for _ in range(runs):
        for name, modules in IMPORT_SETS.items():
            times[name].append(import_ms(modules, core))
    med = {name: statistics.median(t) for name, t in times.items()}
    base = med["bare app"]
    print(f"imports alone (collector off), fresh interpreter on core {core}, medians of {runs}:")
    for name, ms in med.items():
        print(f"  {name:<26} {ms:6.0f} ms  (+{ms - base:4.0f} ms over the bare app's)")
    libraries = med["+ redis-py and pydantic"] - base
    floor = (bare_start_ms + libraries) / bare_start_ms
    print(
        f"floor: the bare app's start plus those two libraries' imports "
        f"{bare_start_ms + libraries:.0f} ms, ratio {floor:.2f}; the bot's own imports and "
        f"set-up add {med['everything serve imports'] - med['+ redis-py and pydantic']:.0f} ms"
        " of imports on top"
    )


async def start_once(kind: Kind, slack: FakeSlack, url: str, core: int) -> float:
    server = await Server(kind, slack.api_url, url).start(core=core)
    try:
        return await server.ready()
    finally:
        await server.stop()


async def main(args: argparse.Namespace) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    # The polling driver and the fake Slack stay off the server's core.
    os.sched_setaffinity(0, {args.client_core})
    redis = aioredis.Redis.from_url(url)
    await redis.flushdb()
    slack = FakeSlack()
    await slack.start()
    times: dict[Kind, list[float]] = {"bot": [], "bare": []}
    print(
        f"spawn to first 200 from /healthz, {args.runs} starts each, server on core "
        f"{args.server_core} (logs in {LOG_DIR})"
    )
    try:
        for kind in ("bot", "bare"):
            await start_once(kind, slack, url, args.server_core)  # warm the file cache
        for i in range(args.runs):
            order: list[Kind] = ["bot", "bare"] if i % 2 == 0 else ["bare", "bot"]
            for kind in order:
                seconds = await start_once(kind, slack, url, args.server_core)
                times[kind].append(seconds)
                print(f"  {kind:<4} {seconds * 1000:7.0f} ms", flush=True)
    finally:
        await slack.stop()
        await redis.flushdb()
        await redis.aclose()
    bot, bare = statistics.median(times["bot"]), statistics.median(times["bare"])
    ratio = bot / bare
    ok = ratio <= GOAL
    print(
        f"medians of {args.runs}: bot {bot * 1000:.0f} ms, bare {bare * 1000:.0f} ms; "
        f"ratio bot/bare {ratio:.2f} (goal <= {GOAL}: {'PASS' if ok else 'FAIL'})"
    )
    import_breakdown(args.runs, args.server_core, bare * 1000)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    sys.exit(asyncio.run(main(parser.parse_args())))
