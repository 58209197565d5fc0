"""`/oncall handover`: the next Monday handover's digest as it would read now."""

from __future__ import annotations

from bot.deps import Deps
from bot.slack.blocks.common import Reply, error_reply
from bot.slack.blocks.handover import preview_reply


async def preview(deps: Deps, user_id: str, args: str) -> Reply:
    if args.strip():
        return error_reply(
            f"`/oncall handover` takes no arguments (got `{args.strip()[:50]}`); it previews "
            "the next handover's digest."
        )
    return preview_reply(deps.config, await deps.handover.preview())
