"""Timer lateness: arq's deferred jobs against the bot's escalation timers, same machine.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/arq_timers.py \
        [--n 10000] [--window 60] [--only arq,bot]
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/arq_timers.py --only arq,delivery

Flushes that database (before and after each part). arq pins an older redis client than the
bot, so it runs from its own virtualenv, bench/.arq-venv, created here on first use (the same
as `python3 -m venv bench/.arq-venv && bench/.arq-venv/bin/pip install arq`). Three parts, one
after the other, each with N timers due uniformly over WINDOW seconds (after a set-up margin,
so that all are in place before the first falls due; a line warns when set-up ran past it):

- arq: bench/arq_worker.py in that virtualenv: N jobs enqueued with `_defer_until`, one
  Worker at arq's defaults (poll_delay 0.5 s); lateness = job start - due.
- bot: the escalation machinery of bench/timer_lateness.py (its incidents, opened silently in
  the store, and its loop: `PagingService.tick`, then a wait until the next due time, at most
  50 ms, on one Redis client); lateness = when tick returned the step - due.
- delivery: bench/delivery.py's rungs scenario: the complete bot (`bot.runtime.run_forever`:
  the escalation job as `serve` runs it, the delivery pool, housekeeping) with a fake Slack
  answering message calls in 50 ms and the production pacing; each rung DMs its person and
  replies in the page's thread. Lateness = when the rung was committed - due.

Prints p50/p99/max of each part and the ratios bot p99 / arq p99 (goal <= 0.05, for both bot
parts), each against the arq part of the same run. Exits 1 when a ratio misses the goal or a
timer did not fire exactly once; the figures are printed either way. At 10,000 over 60 s each
part takes 1.2 to 1.8 min, so the default runs arq and bot (about 2.5 min) and the delivery
variant is a second run with its own arq part (about 3 min). Quick run of all three:
`--n 1000 --window 10 --only arq,bot,delivery` (under a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ARQ_VENV = HERE / ".arq-venv"
GOAL = 0.05
# Rung lateness under delivery: the fake Slack's answer time (bench/delivery.py's default).
SLACK_SECONDS = 0.05
DELIVERY = f"bot escalation with delivery (run_forever, fake Slack {SLACK_SECONDS * 1000:.0f} ms)"


def pct(ms: list[float], q: float) -> float:
    ms = sorted(ms)
    return ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")


def figures(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": pct(ms, 0.5),
        "p99_ms": pct(ms, 0.99),
        "max_ms": max(ms, default=float("nan")),
    }


def ensure_arq_venv() -> Path:
    python = ARQ_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {ARQ_VENV} (pip install arq) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(ARQ_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "arq"], check=True)
    return python


async def run_arq(url: str, n: int, window: float) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        str(ARQ_VENV / "bin" / "python"), str(HERE / "arq_worker.py"), str(n), str(window),
        env={**os.environ, "REDIS_URL": url},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench/arq_worker.py failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


async def run_bot(url: str, n: int, window: float) -> dict[str, Any]:
    """bench/timer_lateness.py with one escalation loop and this N and window."""
    from timer_lateness import _loop, _open_all, _service

    from bot.store.connection import connect

    redis = connect(url)
    await redis.flushdb()
    service = _service(redis, ROOT)
    # Leave time to open them all first (about 7 s for 10,000 on the shared 2-core machine).
    start = time.time() + 5 + n / 1000
    await _open_all(service, n, start, window)
    opened_late = time.time() > start
    late: list[float] = []
    await _loop(service, start + window + 3, late)
    await redis.flushdb()
    await redis.aclose()
    ms = [x * 1000 for x in late]
    return {"timers": n, "ran": len(ms), **figures(ms), "opened_after_first_due": opened_late}


async def run_delivery(url: str, n: int, window: float) -> dict[str, Any]:
    """bench/delivery.py's rungs: N rungs due over the window, the whole bot running."""
    import delivery

    delivery.SLACK_SECONDS = SLACK_SECONDS
    fired: list[tuple[str, float, float]] = []
    with delivery.observe(fired):
        return await _run_delivery(delivery, fired, url, n, window)


async def _run_delivery(
    delivery: Any, fired: list[tuple[str, float, float]], url: str, n: int, window: float
) -> dict[str, Any]:
    async with delivery.Apps(url, 1, runbooks=False) as apps:
        # open_rungs opens one at a time and seeds each page message: about 16 s for 10,000.
        start = time.time() + 5 + n / 400
        targets = await delivery.open_rungs(apps, n, start, window)
        opened_late = time.time() > start
        # Late rungs still count, up to 15 s past the window.
        for _ in range(int((start + window + 15 - time.time()) * 5)):
            if len(fired) >= n:
                break
            await asyncio.sleep(0.2)
        ended = time.time()
        sent = sum(h.pool.sent for h in apps.harnesses if h.pool is not None)
        backlog = await apps.pending()
    ms = [(at - due) * 1000 for _, due, at in fired]
    once = len({f[0] for f in fired}) == len(fired)
    result: dict[str, Any] = {
        "timers": n,
        "ran": len(ms),
        **figures(ms),
        "fired_once": once,
        "notices_sent": sent,
        "outbox_backlog": backlog,
        "opened_after_first_due": opened_late,
    }
    if len(ms) < n:
        # The percentiles of those that ran leave out the latest; counting each rung that never
        # fired as late as the wait's end gives a lower bound over all of them.
        done = {f[0] for f in fired}
        bound = ms + [(ended - due) * 1000 for i, (_, due) in targets.items() if i not in done]
        result["bound"] = figures(bound)
    return result


def line(name: str, r: dict[str, Any]) -> str:
    warn = (
        " (WARNING: set-up ran past the first due time)"
        if r.get("opened_after_first_due", r.get("enqueued_after_first_due"))
        else ""
    )
    return (
        f"{name}: {r['ran']}/{r.get('timers', r.get('jobs'))} ran; lateness p50 "
        f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms{warn}"
    )


async def main(args: argparse.Namespace) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    parts = args.only.split(",")
    if set(parts) - {"arq", "bot", "delivery"}:
        raise SystemExit("--only takes arq, bot, delivery")
    # delivery.py's bot logs a warning per refused DM etc.; the figures are what matters here.
    logging.getLogger().setLevel(logging.ERROR)
    print(f"{args.n} timers due uniformly over {args.window:g} s, one part after the other")
    results: dict[str, dict[str, Any]] = {}
    ok = True
    if "arq" in parts:
        r = results["arq"] = await run_arq(url, args.n, args.window)
        print(line(f"arq {r['arq']} (redis-py {r['redis']}), default poll 0.5 s", r), flush=True)
        ok = ok and r["ran"] == args.n
    if "bot" in parts:
        r = results["bot"] = await run_bot(url, args.n, args.window)
        print(line("bot escalation (timer_lateness.py loop, 1 replica)", r), flush=True)
        ok = ok and r["ran"] == args.n
    if "delivery" in parts:
        r = results["delivery"] = await run_delivery(url, args.n, args.window)
        print(
            line(DELIVERY, r)
            + f"; each once: {'yes' if r['fired_once'] else 'NO'}; {r['notices_sent']} notices "
            f"sent, {r['outbox_backlog']} still queued at the end (pacing)",
            flush=True,
        )
        if "bound" in r:
            b = r["bound"]
            print(
                f"  {args.n - r['ran']} rungs had not fired 15 s after the window; counting "
                f"them as late as that: lateness p50 >= {b['p50_ms']:.0f} ms, p99 >= "
                f"{b['p99_ms']:.0f} ms, max >= {b['max_ms']:.0f} ms"
            )
        ok = ok and r["ran"] == args.n and r["fired_once"]
    if "arq" in results:
        arq_p99 = results["arq"]["p99_ms"]
        for name in ("bot", "delivery"):
            if name in results:
                # With timers left unrun, the lower bound over all of them is the fair figure.
                bot = results[name].get("bound", results[name])
                ratio = bot["p99_ms"] / arq_p99
                passed = ratio <= GOAL
                ok = ok and passed
                label = "bot" if name == "bot" else "bot with delivery"
                at_least = ">= " if "bound" in results[name] else ""
                print(
                    f"{label} p99 / arq p99 = {at_least}{bot['p99_ms']:.1f} / {arq_p99:.1f} = "
                    f"{at_least}{ratio:.3f} (goal <= {GOAL}: {'PASS' if passed else 'FAIL'})"
                )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="timers (default 10,000)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument(
        "--only",
        default="arq,bot",
        help="parts, comma-separated: arq, bot, delivery (default arq,bot)",
    )
    arguments = parser.parse_args()
    if "arq" in arguments.only:
        ensure_arq_venv()
    sys.exit(asyncio.run(main(arguments)))
