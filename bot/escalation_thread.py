"""The escalation timers on a thread of their own, with their own event loop and Redis client.

In one event loop a due rung waits for whatever else holds the loop: a delivery pool
working through a backlog of paced notices, a burst of requests, a Home tab being drawn.
Measured in issue #14, that put rungs hundreds of milliseconds late under an alert storm
while the same timers alone were a few milliseconds late. On a thread, a rung waits for the
interpreter lock at most a switch interval (set to SWITCH_INTERVAL while the thread runs),
however busy the main loop is.

The thread builds its own Deps on its own Redis connection (asyncio clients belong to one
loop) from the app's settings, configuration and runbooks, and counts into the app's metrics.
A request that queues work wakes the timers (a relay between the wakers), and each tick,
once all its rungs are committed, wakes delivery: waking it per rung would send the first
of a burst of pages to one person before the rest were queued, in more DMs than needed.
Nothing else is shared; every claim and commit goes through Redis exactly as from another
replica, so running it here changes no guarantee.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable

from bot.deps import Deps, build_deps
from bot.store.connection import connect

log = logging.getLogger(__name__)

# How long the main thread may keep the interpreter lock when the timer thread wants it
# (CPython's default is 5 ms). Only matters while both threads have work.
SWITCH_INTERVAL = 0.001
STOP_WITHIN = 5.0  # seconds to wait for the thread at shutdown


class EscalationThread:
    """Runs `job(deps, wake_app)` (the escalation job, bot/runtime.py) with Deps of its own;
    `wake_app` wakes the app's loop (its delivery) from the thread. Made and started from the
    app's event loop."""

    def __init__(
        self, deps: Deps, job: Callable[[Deps, Callable[[], None]], Awaitable[None]]
    ) -> None:
        if not deps.settings.redis_url:
            raise ValueError("the escalation thread needs REDIS_URL (its own connection)")
        self._app = deps
        self._app_loop = asyncio.get_running_loop()
        self._job = job
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="escalation", daemon=True)
        self._switch = sys.getswitchinterval()

    async def start(self) -> None:
        """Start the thread; RuntimeError when it could not set itself up. Its set-up (Deps,
        a Redis pool) is waited for off the app's loop, which keeps answering meanwhile."""
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._task is None:
            raise RuntimeError("the escalation thread did not start (see the log)")
        sys.setswitchinterval(SWITCH_INTERVAL)

    async def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                loop.call_soon_threadsafe(task.cancel)
        await asyncio.to_thread(self._thread.join, STOP_WITHIN)
        sys.setswitchinterval(self._switch)

    def _wake_app(self) -> None:
        with contextlib.suppress(RuntimeError):  # the app's loop has closed
            self._app_loop.call_soon_threadsafe(self._app.waker.wake_here)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception:
            log.exception("the escalation thread stopped")
        finally:
            self._ready.set()

    async def _run(self) -> None:
        app = self._app
        settings = app.settings
        assert settings.redis_url  # checked in __init__
        redis = connect(
            settings.redis_url, settings.redis_max_connections, settings.redis_pool_timeout
        )
        try:
            deps = build_deps(settings, redis, app.clock, app.config, app.runbooks, app.metrics)
        except Exception:
            await redis.aclose()
            raise
        loop = asyncio.get_running_loop()
        app.waker.relay_to(loop, deps.waker)
        self._loop = loop
        self._task = asyncio.current_task()
        self._ready.set()
        try:
            await self._job(deps, self._wake_app)
        except asyncio.CancelledError:
            pass
        finally:
            await redis.aclose()
