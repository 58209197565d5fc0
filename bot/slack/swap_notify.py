"""Tell people about swaps: DMs, in-place edits of the request, the team-channel notice.

Shared by the listeners and the background job; the messages themselves come from the pure
builders in bot.slack.blocks.swaps.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.pto import Conflict
from bot.domain.swaps import Swap, SwapStatus
from bot.slack.blocks.common import Reply
from bot.slack.blocks.swaps import (
    announcement,
    decided_dm,
    outcome_dm,
    reminder_dm,
    request_dm,
)
from bot.slack.dm import send_dm

log = logging.getLogger(__name__)


async def dm(client: AsyncWebClient, deps: Deps, initials: str, reply: Reply) -> tuple[str, str]:
    """DM a member; ("", "") when they have no Slack account to DM."""
    return await send_dm(client, deps.config, initials, reply.text, reply.blocks)


async def ask_counterpart(client: AsyncWebClient, deps: Deps, swap: Swap) -> None:
    channel, ts = await dm(client, deps, swap.counterpart, request_dm(deps.config, swap))
    if channel:
        await deps.swaps.store.set_dm(swap.id, channel, ts)


async def _edit_request(client: AsyncWebClient, deps: Deps, swap: Swap) -> None:
    # Re-read: the DM's location is written after the request is created.
    current = await deps.swaps.store.get(swap.id) or swap
    if current.dm_channel and current.dm_ts:
        reply = decided_dm(deps.config, swap)
        await client.chat_update(
            channel=current.dm_channel, ts=current.dm_ts, text=reply.text, blocks=reply.blocks
        )


async def tell_outcome(
    client: AsyncWebClient, deps: Deps, swap: Swap, was_approved: bool = False
) -> None:
    """After a transition: edit the request, tell the other party, announce schedule changes."""
    await _edit_request(client, deps, swap)
    other = swap.counterpart if swap.status is SwapStatus.CANCELLED else swap.requester
    await dm(client, deps, other, outcome_dm(deps.config, swap))
    if swap.status is SwapStatus.APPROVED or was_approved:
        segs = await deps.swaps.segments_of(swap) if swap.status is SwapStatus.APPROVED else []
        reply = announcement(deps.config, swap, segs)
        await client.chat_postMessage(
            channel=deps.config.policy.team_channel, text=reply.text, blocks=reply.blocks
        )


async def remind(client: AsyncWebClient, deps: Deps, conflict: Conflict) -> None:
    await dm(client, deps, conflict.member, reminder_dm(deps.config, conflict, deps.clock.now()))
