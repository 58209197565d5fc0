"""`/oncall incidents`: open incidents, their status and time to the next step."""

from __future__ import annotations

from bot.deps import Deps
from bot.slack.blocks.common import Reply
from bot.slack.blocks.page import incidents_reply


async def incidents(deps: Deps, user_id: str, args: str) -> Reply:
    rows = [
        (
            s.incident,
            s.count,
            await deps.checklists.progress_text(s.checklist) if s.checklist else None,
            s.window_ms,
        )
        for s in await deps.paging.open_incidents()
    ]
    return incidents_reply(deps.config, rows, deps.clock.now())
