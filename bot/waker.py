"""Wake the background loop early when a request queued work, instead of waiting a tick."""

from __future__ import annotations

import asyncio
import contextlib


class Waker:
    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def _ev(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def wake(self) -> None:
        self._ev().set()

    async def wait(self, seconds: float) -> None:
        ev = self._ev()
        # asyncio.timeout rather than wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that arrives together with the wake-up, and the loop never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await ev.wait()
        ev.clear()
