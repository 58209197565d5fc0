"""Wake the background loops early when a request queued work, instead of waiting a tick.

Each loop (escalation, delivery, …) waits under its own name, so one loop taking a wake-up
never swallows another's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Waker:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        # Called on every wake: how the escalation timers hear of it, on a thread
        # (bot/escalation_thread.py) or in a process (bot/escalation_process.py) of their own.
        self._calls: list[Callable[[], None]] = []

    def relay_to(self, loop: asyncio.AbstractEventLoop, other: Waker) -> None:
        """Wake `other`, whose loop `loop` runs on another thread, whenever this one wakes."""

        def wake_there() -> None:
            # An asyncio.Event belongs to its loop: set it from that loop's own thread. The
            # other side relays back with wake_here only, so a wake never echoes.
            with contextlib.suppress(RuntimeError):  # that loop has closed: nothing to wake
                loop.call_soon_threadsafe(other.wake_here)

        self.relay_call(wake_there)

    def relay_call(self, call: Callable[[], None]) -> None:
        """Call `call` (from this loop's thread) whenever this one wakes."""
        self._calls.append(call)

    def unrelay_call(self, call: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._calls.remove(call)

    def _ev(self, name: str) -> asyncio.Event:
        if name not in self._events:
            self._events[name] = asyncio.Event()
        return self._events[name]

    def wake(self) -> None:
        self.wake_here()
        for call in self._calls:
            call()

    def wake_here(self) -> None:
        """Wake this loop's waiters only, not the relays."""
        for ev in self._events.values():
            ev.set()

    async def wait(self, seconds: float, name: str = "main") -> None:
        ev = self._ev(name)
        # asyncio.timeout rather than wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that arrives together with the wake-up, and the loop never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await ev.wait()
        ev.clear()
