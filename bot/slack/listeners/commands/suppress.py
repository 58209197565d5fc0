"""`/oncall suppress`, `/oncall suppressions`, `/oncall unsuppress`: maintenance windows."""

from __future__ import annotations

from bot.deps import Deps
from bot.domain.suppressions import USAGE, SuppressionError
from bot.services.suppressions import channels
from bot.slack.blocks.common import Reply, error_reply, extra_words
from bot.slack.blocks.suppressions import cancelled_reply, created_reply, list_reply

ROSTER_ONLY = "Only members of the on-call roster (schedules/team.toml)"


def _member(deps: Deps, user_id: str) -> str | None:
    member = deps.config.member_by_slack_id(user_id)
    return None if member is None else member.initials


async def suppress(deps: Deps, user_id: str, args: str) -> Reply:
    who = _member(deps, user_id)
    if who is None:
        return error_reply(
            "Only members of the on-call roster (schedules/team.toml) suppress alerts."
        )
    if not args.strip():
        return error_reply(f"Say what to suppress, for how long and why: {USAGE}.")
    try:
        s = await deps.suppressions.create(args, who)
    except SuppressionError as exc:
        return error_reply(str(exc))
    return created_reply(deps.config, s, channels(deps.config, s.pipeline))


async def suppressions(deps: Deps, user_id: str, args: str) -> Reply:
    if args.strip():
        usage = "`/oncall suppressions`, which takes no arguments: it lists the active and upcoming"
        return error_reply(extra_words("/oncall suppressions", args, usage))
    active, upcoming = await deps.suppressions.listing()
    return list_reply(deps.config, active, upcoming)


async def unsuppress(deps: Deps, user_id: str, args: str) -> Reply:
    who = _member(deps, user_id)
    if who is None:
        return error_reply(
            "Only members of the on-call roster (schedules/team.toml) end suppressions."
        )
    words = args.split()
    if not words:
        return error_reply(
            "Say which suppression to end: `/oncall unsuppress S-3` "
            "(`/oncall suppressions` lists them)."
        )
    if len(words) > 1:
        usage = "`/oncall unsuppress <id>`, e.g. `/oncall unsuppress S-3`"
        return error_reply(extra_words(f"/oncall unsuppress {words[0]}", words[1:], usage))
    try:
        s = await deps.suppressions.cancel(words[0], who)
    except SuppressionError as exc:
        return error_reply(str(exc))
    return cancelled_reply(deps.config, s)
