"""`python -m bot.escalation_worker`: the escalation timers as a process of their own.

`serve` starts it and talks to it (bot/escalation_process.py says why, and the protocol):
what serve loaded arrives pickled on stdin, then any byte on stdin is a wake-up and its end
means serve is gone; what the worker has to say leaves as JSON lines on stdout. Logs go to
stderr, which it shares with serve. Not meant to be run by hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import struct
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, BinaryIO

from bot.clock import SystemClock
from bot.config.models import TeamConfig
from bot.deps import build_deps
from bot.domain.runbook import Runbook
from bot.escalation_process import HEADER
from bot.launch import settle_gc
from bot.metrics import Metrics
from bot.runtime import Fired, escalation_job, run_job
from bot.settings import Settings
from bot.store.connection import connect

log = logging.getLogger("bot.escalation_worker")  # as -m, __name__ is "__main__"


def _read_exactly(fd: int, n: int) -> bytes:
    # os.read, not sys.stdin's buffered reader, which could swallow wake-up bytes that
    # the event loop should see.
    chunks: list[bytes] = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError("stdin closed before the start-up payload was complete")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send(message: dict[str, Any]) -> None:
    """One line to serve. Blocking: serve reads all the time, and a worker that could not
    tell serve what it fired should wait rather than drop it. Looped, since a long line
    (a storm's tick) may go out in parts."""
    data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    while data:
        data = data[os.write(1, data) :]


class RelayMetrics(Metrics):
    """The worker's counts, for serve's registry (its /metrics): kept until flush(), which
    sends them in one line (after each tick that fired, and with each heartbeat)."""

    def __init__(self, out: Callable[[dict[str, Any]], None]) -> None:
        self._out = out
        self._held: list[tuple[str, tuple[str | float, ...]]] = []

    def _relay(self, name: str, *args: str | float) -> None:
        self._held.append((name, args))

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, []
            self._out({"metrics": held})

    def rung_fired(self, pipeline: str) -> None:
        self._relay("rung_fired", pipeline)

    def acked(self, seconds: float) -> None:
        self._relay("acked", seconds)

    def timer_late(self, seconds: float) -> None:
        self._relay("timer_late", seconds)

    def redis_error(self, where: str) -> None:
        self._relay("redis_error", where)

    def page_opened(self, pipeline: str, severity: str) -> None:
        self._relay("page_opened", pipeline, severity)

    def alert_suppressed(self, pipeline: str) -> None:
        self._relay("alert_suppressed", pipeline)

    def slack_error(self, method: str, error: str) -> None:
        self._relay("slack_error", method, error)

    def deadline_missed(self, pipeline: str, stage: str) -> None:
        self._relay("deadline_missed", pipeline, stage)


def fired_message(fired: Fired, at: datetime) -> dict[str, Any]:
    stamp = at.timestamp()
    return {"fired": [[incident, due.timestamp(), stamp] for incident, due in fired]}


async def run(
    settings: Settings,
    config: TeamConfig,
    runbooks: dict[str, Runbook],
    heartbeat: float,
    stdin: BinaryIO,
) -> int:
    """The escalation job until `stdin` ends (serve stopped or died), an "alive" line every
    `heartbeat` seconds meanwhile."""
    assert settings.redis_url, "serve starts the worker only with REDIS_URL"
    redis = connect(settings.redis_url, settings.redis_max_connections, settings.redis_pool_timeout)
    try:
        metrics = RelayMetrics(send)
        deps = build_deps(settings, redis, SystemClock(), config, runbooks, metrics)
        # Serve's delivery is woken by the "fired" line, once a tick, not by the services.
        deps.paging.wake = lambda: None

        def fired(steps: Fired, at: datetime) -> None:
            send(fired_message(steps, at))
            metrics.flush()

        job = escalation_job(deps, fired)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        settle_gc()
        timers = asyncio.create_task(run_job(deps, job), name="escalation")
        send({"ready": True, "pid": os.getpid()})
        beat = asyncio.create_task(_heartbeat(heartbeat, metrics), name="heartbeat")
        try:
            while await reader.read(4096):
                deps.waker.wake_here()
        finally:
            for task in (timers, beat):
                task.cancel()
            await asyncio.gather(timers, beat, return_exceptions=True)
    finally:
        await redis.aclose()
    return 0


async def _heartbeat(every: float, metrics: RelayMetrics) -> None:
    # A task of this loop: its lines stop when the process is stopped or the loop blocked.
    while True:
        await asyncio.sleep(every)
        send({"alive": True})
        metrics.flush()  # what no tick sent (a Redis error, say)


def main() -> int:
    try:
        (size,) = HEADER.unpack(_read_exactly(0, HEADER.size))
        settings, config, runbooks, heartbeat = pickle.loads(_read_exactly(0, size))
    except (EOFError, pickle.UnpicklingError, struct.error, ValueError) as exc:
        print(f"escalation worker: no start-up payload on stdin ({exc})", file=sys.stderr)
        return 2
    _logging(settings)
    log.info("escalation worker %s running", os.getpid())
    try:
        # Unbuffered: the loop reads the descriptor itself.
        with open(0, "rb", buffering=0, closefd=False) as stdin:
            return asyncio.run(run(settings, config, runbooks, heartbeat, stdin))
    except KeyboardInterrupt:
        return 0


def _logging(settings: Settings) -> None:
    # As the CLI sets it up for serve (bot/cli/__init__.py), so both write one log.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_format == "json":
        from bot.logjson import use_json_logs

        use_json_logs()


if __name__ == "__main__":
    sys.exit(main())
