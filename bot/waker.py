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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), max(0.0, seconds))
        ev.clear()
