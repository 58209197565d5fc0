"""`/oncall handover`: the next Monday handover's digest as it would read now."""

from __future__ import annotations

from bot.deps import Deps
from bot.slack.blocks.common import Reply, error_reply, extra_words
from bot.slack.blocks.handover import preview_reply


async def preview(deps: Deps, user_id: str, args: str) -> Reply:
    if args.strip():
        usage = "`/oncall handover`, which takes no arguments: it previews the next digest"
        return error_reply(extra_words("/oncall handover", args, usage))
    return preview_reply(deps.config, await deps.handover.preview())
