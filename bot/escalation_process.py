"""The escalation timers in a process of their own (bot/escalation_worker.py), started and
watched by `serve`.

On a thread (bot/escalation_thread.py) the timers share the interpreter lock with delivery
and requests. Every socket write, Redis reply and zlib call of a tick gives the lock up,
and taking it back from a busy main thread costs up to a switch interval each time. In
issue #14's bench (bench/arq_timers.py --only delivery: 10,000 rungs over 60 s, each with a
DM and a thread reply through a fake Slack answering in 50 ms) rung lateness p99 was 31 ms
on the thread and 11 ms in a process.

How the two talk, over the worker's stdin and stdout:

- serve → worker: first the pickled settings, configuration and runbooks serve loaded and
  checked (start_payload); then any byte is a wake-up (a request queued work the timers
  should look at now). End of file means serve is gone, and the worker exits.
- worker → serve, one JSON object per line: `{"ready": true}` once it runs, `{"alive":
  true}` every WATCHDOG / 6 seconds (silent for WATCHDOG, it is killed and replaced); `{"fired":
  [[incident, due, committed], ...]}` after a tick that fired (serve wakes its delivery);
  `{"metrics": [[name, args], ...]}` for serve's /metrics (one line a tick, or a heartbeat).

The worker gets its own Redis connection and commits exactly as another replica would, so
nothing about the guarantees changes. If it dies, serve logs it and starts another: the
timers are in Redis, and a step the dead worker had claimed is claimed again when its
lease runs out. If workers keep failing to start, the timers run in serve's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pickle
import struct
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.config.models import TeamConfig
from bot.deps import Deps
from bot.domain.runbook import Runbook
from bot.metrics import Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

WORKER = "bot.escalation_worker"
READY_WITHIN = 60.0  # seconds for the worker to import, connect and say so
STOP_WITHIN = 5.0  # seconds for it to exit once its stdin closed, before it is killed
RESTART_FIRST, RESTART_CAP = 1.0, 30.0  # seconds before starting a dead worker again
STABLE_AFTER = 60.0  # seconds a worker must have run for its successor to start at once
RESPAWN_TRIES = 8  # failed starts in a row (about 4 min) before the timers run in serve
WATCHDOG = 30.0  # seconds without a line before serve kills the worker (and starts another)
BEATS_PER_WATCHDOG = 6  # "alive" lines a worker sends per WATCHDOG
LINE_LIMIT = 1 << 22  # bytes: a "fired" line lists every step of a tick
# The hooks a worker may call on serve's metrics: Metrics' own, nothing else.
METRICS = frozenset(name for name in vars(Metrics) if not name.startswith("_"))
HEADER = struct.Struct(">Q")  # the length of the pickled start-up payload, before it


def start_payload(
    settings: Settings, config: TeamConfig, runbooks: dict[str, Runbook], heartbeat: float
) -> bytes:
    """What serve writes first on the worker's stdin; `heartbeat`: seconds between its
    "alive" lines."""
    start = (settings, config, runbooks, heartbeat)
    body = pickle.dumps(start, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


class EscalationProcess:
    """Start it from the app's event loop; `stop()` at shutdown. `fallback()` makes the
    coroutine that runs the timers in this loop instead: run when workers keep failing to
    start (RESPAWN_TRIES in a row), so that the timers never stop for good."""

    def __init__(self, deps: Deps, fallback: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if not deps.settings.redis_url:
            raise ValueError("the escalation process needs REDIS_URL (its own connection)")
        self._app = deps
        self._fallback = fallback
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Start the worker and wait until it runs; RuntimeError when it could not start."""
        self._proc = await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name="escalation-process")
        self._watch.add_done_callback(_log_end)
        self._app.waker.relay_call(self._poke)

    async def stop(self) -> None:
        self._stopping = True
        self._app.waker.unrelay_call(self._poke)
        if self._proc is not None:
            await _end(self._proc)
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)

    def fired(self, fired: list[list[Any]]) -> None:
        """What a tick of the worker committed: [incident, due, committed at] (epoch
        seconds) each. The timers' metrics came on a line of their own; this is for logs."""
        log.debug("escalation worker fired %d step(s)", len(fired))

    def _poke(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b"w")

    async def _spawn(self) -> asyncio.subprocess.Process:
        """A worker that said it runs; RuntimeError, with the reason, for anything else."""
        app = self._app
        try:
            heartbeat = WATCHDOG / BEATS_PER_WATCHDOG
            payload = start_payload(app.settings, app.config, app.runbooks, heartbeat)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                WORKER,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
                # Its own session: a Ctrl-C or a process-group signal meant for serve does
                # not end it behind serve's back; serve ends it (its stdin closes).
                start_new_session=True,
            )
        except Exception as exc:  # fork, pipes, pickling: nothing started
            raise RuntimeError(f"the escalation process could not be started: {exc!r}") from exc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(payload)
            async with asyncio.timeout(READY_WITHIN):
                await proc.stdin.drain()
                line = await proc.stdout.readline()
            ready = json.loads(line or b"{}").get("ready") is True
        except (OSError, TimeoutError, ValueError, AttributeError):
            ready = False
        except asyncio.CancelledError:
            proc.kill()  # serve stopped while it started: leave no worker behind
            raise
        if not ready:
            await _end(proc)
            raise RuntimeError(
                f"the escalation process did not start (exit code {proc.returncode}; see the log)"
            )
        log.info("escalation timers running in process %s", proc.pid)
        return proc

    async def _supervise(self) -> None:
        wait = RESTART_FIRST
        while True:
            proc = self._proc
            assert proc is not None and proc.stdout is not None
            started = time.monotonic()
            while line := await self._next_line(proc):
                try:
                    self._handle(line)
                except Exception:
                    # A line this serve cannot take must not stop it reading the next:
                    # a worker whose stdout is not read blocks on it.
                    log.exception("could not take a line from the escalation process: %r", line)
            code = await proc.wait()
            if self._stopping:
                return
            log.warning("the escalation process exited (code %s)", code)
            # One that crashes soon after starting is not restarted every second forever.
            wait = RESTART_FIRST if time.monotonic() - started > STABLE_AFTER else wait
            respawned = await self._respawn(wait)
            if respawned is None:
                break
            self._proc, wait = respawned
        log.error(
            "%d escalation processes in a row failed to start; the timers run in serve's "
            "loop from now on (restart serve to try the process again)",
            RESPAWN_TRIES,
        )
        await self._fallback()

    async def _next_line(self, proc: asyncio.subprocess.Process) -> bytes:
        """The worker's next line; b"" at its end. A worker silent for WATCHDOG seconds is
        killed, and so replaced: stopped, or with its event loop blocked, it would page
        nobody while looking alive. (A tick waiting on Redis does not silence it: its
        heartbeat is another task of the same loop, and Redis calls time out.)"""
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(WATCHDOG):
                return await proc.stdout.readline()
        except TimeoutError:
            log.warning(
                "no word from the escalation process %s for %.0f s; killing it", proc.pid, WATCHDOG
            )
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            return b""

    async def _respawn(self, wait: float) -> tuple[asyncio.subprocess.Process, float] | None:
        """A new worker and the wait before the next restart; None after RESPAWN_TRIES
        failures in a row."""
        for _ in range(RESPAWN_TRIES):
            log.warning("starting another escalation process in %.0f s", wait)
            await asyncio.sleep(wait)
            wait = min(RESTART_CAP, wait * 2)
            try:
                return await self._spawn(), wait
            except RuntimeError as exc:
                log.warning("%s", exc)
        return None

    def _handle(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("the escalation process wrote a line that is not JSON: %r", line[:200])
            return
        if not isinstance(message, dict):
            return
        if "fired" in message:
            self.fired(message["fired"])
            self._app.waker.wake_here()
        for name, args in message.get("metrics", ()):
            if name in METRICS:
                getattr(self._app.metrics, name)(*args)


def _log_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the escalation process's supervisor stopped", exc_info=task.exception())


async def _end(proc: asyncio.subprocess.Process) -> None:
    """Close its stdin, which tells it to stop; kill it if it has not within STOP_WITHIN
    (or if this is cancelled meanwhile)."""
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_WITHIN):
                await proc.wait()
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
