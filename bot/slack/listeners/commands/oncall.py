"""`/oncall`: who is on call now, at an instant, this week, the next N weeks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.domain.schedule import BeforeRotation
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply
from bot.slack.blocks.oncall import help_reply, schedule_reply, shift_reply
from bot.slack.listeners.commands.oncall_query import QueryError, parse_oncall

# An extra `/oncall <word> …` subcommand from another feature: (deps, user_id, args) → Reply.
Subcommand = Callable[[Deps, str, str], Awaitable[Reply]]
VALID = "now, at, week, schedule, help"


async def answer(
    deps: Deps, text: str, user_id: str, extra: Mapping[str, Subcommand] | None = None
) -> Reply:
    extra = extra or {}
    words = text.split()
    if words and words[0].casefold() in extra:
        return await extra[words[0].casefold()](deps, user_id, " ".join(words[1:]))
    cfg = deps.config
    try:
        query = parse_oncall(cfg, text, deps.clock.now())
    except QueryError as exc:
        if not exc.show_usage:
            return error_reply(str(exc))
        valid = ", ".join([VALID, *extra])
        return error_reply(f"{exc} Valid: `/oncall` {valid} (try `/oncall help`).")
    if query.kind == "help":
        return help_reply([f"• `/oncall {name}` …" for name in extra])
    try:
        if query.kind == "now":
            seg, rungs = await deps.schedule.ladder(query.at, query.pipeline)
            return shift_reply(cfg, seg, query.at, query.asked, query.pipeline, rungs)
        if query.kind == "week":
            weeks = await deps.schedule.weeks(query.at, 1)
            return schedule_reply(cfg, weeks, f"Rotation week {weeks[0].cycle_week}")
        weeks = await deps.schedule.weeks(query.at, query.count)
        return schedule_reply(cfg, weeks, f"On-call schedule: next {query.count} weeks")
    except BeforeRotation as exc:
        return error_reply(f"{exc}: ask about a later time.")


def register(app: AsyncApp, deps: Deps, extra: Mapping[str, Subcommand] | None = None) -> None:
    @app.command(ids.COMMAND_ONCALL)
    async def oncall(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = await answer(deps, command.get("text", ""), command["user_id"], extra)
        await ack(**reply.body())
