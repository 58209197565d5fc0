"""`/swap`: ask someone to take your shift, list swaps, cancel one, or open the form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.swaps import SwapError, TransitionRefused
from bot.slack import ids
from bot.slack.blocks.common import error_reply
from bot.slack.blocks.swaps import (
    cancelled_reply,
    help_reply,
    list_reply,
    refusal,
    requested_reply,
    swap_modal,
)
from bot.slack.listeners.commands.swap_query import parse_swap
from bot.slack.listeners.common import member_of

NOT_ON_ROSTER = (
    "You are not on the on-call roster (schedules/team.toml), so you have no shift to swap. "
    "`/swap list` shows the team's swaps."
)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(ids.COMMAND_SWAP)
    async def swap(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        cfg = deps.config
        member = member_of(context)
        me = member.initials if member else None
        try:
            query = parse_swap(cfg, command.get("text", ""), deps.clock.now())
        except SwapError as exc:
            await ack(**error_reply(str(exc)).body())
            return
        if query.kind == "help":
            await ack(**help_reply(cfg).body())
            return
        if query.kind == "list":
            pending, upcoming = await deps.swaps.listing()
            await ack(**list_reply(cfg, pending, upcoming, me).body())
            return
        if me is None:
            await ack(**error_reply(NOT_ON_ROSTER).body())
            return
        if query.kind == "modal":
            # The one Web API call allowed on the request path: a trigger_id expires in 3 s.
            await client.views_open(trigger_id=command["trigger_id"], view=swap_modal(cfg, me))
            await ack()
            return
        if query.kind == "cancel":
            assert query.swap_id is not None
            try:
                done, _ = await deps.swaps.cancel(query.swap_id, me)
            except TransitionRefused as exc:
                await ack(**refusal(str(exc)).body())
                return
            deps.waker.wake()
            await ack(**cancelled_reply(cfg, done).body())
            return
        assert query.counterpart is not None and query.window is not None
        try:
            created = await deps.swaps.request(me, query.counterpart, query.window, query.back)
        except SwapError as exc:
            await ack(**error_reply(str(exc)).body())
            return
        deps.waker.wake()
        # The asked person's PTO in the window: the requester hears of it at once.
        _, _, ptos = await deps.swaps.request_context(created)
        await ack(**requested_reply(cfg, created, ptos).body())
