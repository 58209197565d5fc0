"""`/oncall`: who is on call now, at an instant, this week, the next N weeks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.domain.schedule import BeforeRotation
from bot.domain.shifts import HORIZON_WEEKS, Shift, horizon, shifts
from bot.domain.timefmt import plural
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply
from bot.slack.blocks.oncall import (
    help_reply,
    next_reply,
    schedule_reply,
    shift_reply,
    shifts_reply,
)
from bot.slack.listeners.commands.oncall_query import (
    OncallQuery,
    QueryError,
    parse_oncall,
    roster_list,
)

# An extra `/oncall <word> …` subcommand from another feature: (deps, user_id, args) → Reply.
Subcommand = Callable[[Deps, str, str], Awaitable[Reply]]
VALID = "now, at, week, schedule, help, me, next"


async def member_shifts(deps: Deps, member: str) -> list[Shift]:
    """`member`'s shifts over the next HORIZON_WEEKS rotation weeks, with their conflicts."""
    now = deps.clock.now()
    start, end = horizon(deps.config, now)
    overrides = await deps.swaps.overrides(start, end)
    clashes = await deps.swaps.conflicts(start, end)
    return shifts(deps.config, deps.calendar, member, now, overrides, clashes)


async def _shifts_answer(deps: Deps, query: OncallQuery, user_id: str) -> Reply:
    cfg = deps.config
    member = query.member
    if member is None:
        asker = cfg.member_by_slack_id(user_id)
        if asker is None:
            return error_reply(
                "You are not on the on-call roster (schedules/team.toml), so you have no "
                f"shifts. Ask about a member instead, e.g. `/oncall @PR`: {roster_list(cfg)}."
            )
        member = asker.initials
    you = cfg.member(member).slack_id == user_id
    found = await member_shifts(deps, member)
    now = deps.clock.now()
    if query.kind == "next":
        return next_reply(cfg, member, found[0] if found else None, now, you, HORIZON_WEEKS)
    return shifts_reply(cfg, member, found, now, you, HORIZON_WEEKS)


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
        return error_reply(
            f"{exc} Valid: `/oncall` {valid}, `@member` or a date (try `/oncall help`)."
        )
    if query.kind == "help":
        return help_reply(cfg, list(extra))
    if query.kind in ("shifts", "next"):
        return await _shifts_answer(deps, query, user_id)
    try:
        if query.kind == "now":
            seg, rungs = await deps.schedule.ladder(query.at, query.pipeline)
            slug = query.pipeline.slug if query.pipeline else None
            # Per minute: the header shows the instant asked about, to the minute.
            minute = int(query.at.timestamp()) // 60
            return deps.schedule.per_segment(
                seg,
                ("now", query.asked, slug, minute),
                lambda: shift_reply(cfg, seg, query.at, query.asked, query.pipeline, rungs),
            )
        if query.kind == "week":
            weeks = await deps.schedule.weeks(query.at, 1)
            return schedule_reply(cfg, weeks, f"Rotation week {weeks[0].cycle_week}")
        weeks = await deps.schedule.weeks(query.at, query.count)
        title = f"On-call schedule: next {plural(query.count, 'week')}"
        return schedule_reply(cfg, weeks, title)
    except BeforeRotation as exc:
        return error_reply(f"{exc}: ask about a later time.")


def register(app: AsyncApp, deps: Deps, extra: Mapping[str, Subcommand] | None = None) -> None:
    @app.command(ids.COMMAND_ONCALL)
    async def oncall(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = await answer(deps, command.get("text", ""), command["user_id"], extra)
        await ack(**reply.body())
