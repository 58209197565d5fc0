"""Approve / Decline on a swap request, and the reminder's "Arrange a swap" button."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.swaps import TransitionRefused, Window, fields_from_window
from bot.slack import ids
from bot.slack.blocks.swaps import refusal, swap_modal
from bot.slack.listeners.common import actor_name, answer_click, member_of


def register(app: AsyncApp, deps: Deps) -> None:
    async def decide(body: dict[str, Any], context: AsyncBoltContext, approve: bool) -> None:
        value = str(body["actions"][0].get("value", ""))
        # The same buttons sit in the request DM and on the App Home tab (no response URL).
        if not value.isdecimal():
            await answer_click(deps, body, context, refusal("That button does not name a swap."))
            return
        swap_id, actor = int(value), actor_name(context)
        try:
            if approve:
                await deps.swaps.approve(swap_id, actor)
            else:
                await deps.swaps.decline(swap_id, actor)
        except TransitionRefused as exc:
            await answer_click(deps, body, context, refusal(str(exc)))
            return
        deps.waker.wake()

    @app.action(ids.ACTION_SWAP_APPROVE)
    async def approve(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await decide(body, context, approve=True)
        await ack()

    @app.action(ids.ACTION_SWAP_DECLINE)
    async def decline(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await decide(body, context, approve=False)
        await ack()

    @app.action(ids.ACTION_SWAP_OPEN_MODAL)
    async def open_modal(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        cfg = deps.config
        member = member_of(context)
        prefill = None
        try:
            raw = json.loads(str(body["actions"][0].get("value", "")))
            window = Window(
                start=datetime.fromisoformat(raw["start"]), end=datetime.fromisoformat(raw["end"])
            )
            prefill = fields_from_window(window, cfg.zone)
        except (ValueError, KeyError, TypeError):
            prefill = None  # an old or hand-made button: open the form empty
        view = swap_modal(cfg, member.initials if member else None, prefill)
        # The one Web API call allowed on the request path: a trigger_id expires in 3 s.
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        await ack()
