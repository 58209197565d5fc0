"""Direct messages to roster members: one way to open the DM and post, for every feature."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config.models import TeamConfig

log = logging.getLogger(__name__)


async def send_dm(
    client: AsyncWebClient, cfg: TeamConfig, initials: str, text: str, blocks: list[Any]
) -> tuple[str, str]:
    """DM a member; (channel, ts), or ("", "") when they have no Slack account to DM."""
    member = cfg.member(initials)
    if not member.slack_id:
        log.warning("cannot DM %s: no slack_id in team.toml", initials)
        return "", ""
    opened = await client.conversations_open(users=member.slack_id)
    channel = str(opened["channel"]["id"])
    posted = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    return channel, str(posted["ts"])
