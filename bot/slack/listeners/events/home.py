"""`app_home_opened`: queue a redraw of the person's Home tab and return.

The tab is drawn and published by delivery (bot/slack/home_sender.py), so the event is
answered at once; a person who flips between tabs queues one redraw, not one per visit,
since queued HomeRefresh notices for one person collapse.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.domain.notices import HomeRefresh


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        user = str(event.get("user") or "")
        # The Messages and About tabs send this event too; only Home is ours to draw.
        if event.get("tab") != "home" or not user:
            return
        await deps.outbox.enqueue([HomeRefresh(user=user)], deps.clock.now())
        deps.waker.wake()
