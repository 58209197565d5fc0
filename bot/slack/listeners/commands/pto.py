"""`/oncall pto <window>`: record your leave and see whether you are on call during it."""

from __future__ import annotations

from bot.deps import Deps
from bot.domain.swaps import SwapError, parse_swap_window
from bot.slack.blocks.common import Reply, error_reply
from bot.slack.blocks.swaps import pto_list_reply, pto_reply

USAGE = "`/oncall pto <window>`, e.g. `/oncall pto 2025-09-03..2025-09-05`"


async def answer(deps: Deps, user_id: str, args: str) -> Reply:
    cfg = deps.config
    member = cfg.member_by_slack_id(user_id)
    if member is None:
        return error_reply("Only members of the on-call roster (schedules/team.toml) record PTO.")
    if not args.strip() or args.strip().casefold() == "list":
        return pto_list_reply(cfg, await deps.swaps.ptos_of(member.initials))
    try:
        window = parse_swap_window(cfg, args, deps.clock.now())
        pto = await deps.swaps.add_pto(member.initials, window)
    except SwapError as exc:
        return error_reply(f"{exc} Usage: {USAGE}.")
    clashes = [
        c
        for c in await deps.swaps.conflicts(pto.start, pto.end)
        if c.member == member.initials and c.reason == "PTO"
    ]
    return pto_reply(cfg, pto, clashes)
