"""`/oncall incidents [page N]`: open incidents, most urgent first, a page at a time, with
their status and time to the next step; the "Next 20" button shows the following page."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply, extra_words
from bot.slack.blocks.page import INCIDENTS_PER_PAGE, incidents_reply
from bot.slack.listeners.common import answer_click

USAGE = "Try `/oncall incidents` or `/oncall incidents page 2`."


def parse_page(args: str) -> int | str:
    """The page asked for (1-based), or what is wrong with `args`."""
    words = args.split()
    if not words:
        return 1
    if len(words) >= 2 and words[0].casefold() == "page" and words[1].isdecimal():
        if len(words) > 2:
            done = f"/oncall incidents page {words[1]}"
            return extra_words(done, words[2:], "`/oncall incidents [page N]`")
        page = int(words[1])
        return page if page >= 1 else f"Pages start at 1. {USAGE}"
    return f"`{args.strip()[:60]}` is not a page of incidents. {USAGE}"


async def incidents_page(deps: Deps, page: int) -> Reply:
    total, rows = await deps.paging.open_page((page - 1) * INCIDENTS_PER_PAGE, INCIDENTS_PER_PAGE)
    drawn = [
        (
            s.incident,
            s.count,
            await deps.checklists.progress_of_record(record) if s.checklist else None,
            s.window_ms,
        )
        for s, record in rows
    ]
    return incidents_reply(deps.config, drawn, deps.clock.now(), total, page)


async def incidents(deps: Deps, user_id: str, args: str) -> Reply:
    page = parse_page(args)
    if isinstance(page, str):
        return error_reply(page)
    return await incidents_page(deps, page)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ids.ACTION_INCIDENTS_PAGE)
    async def next_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: Any
    ) -> None:
        value = str(action.get("value", ""))
        page = int(value) if value.isdecimal() and int(value) >= 1 else 1
        await answer_click(deps, body, context, await incidents_page(deps, page))
        await ack()
