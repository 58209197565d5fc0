"""Approve / Decline on a swap request, and the reminder's "Arrange a swap" button."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.domain.swaps import Window, fields_from_window
from bot.slack import ids
from bot.slack.blocks.swaps import refusal, swap_modal
from bot.slack.listeners.guard import guarded
from bot.slack.swap_notify import tell_outcome
from bot.store.swaps import TransitionRefused


def _actor(deps: Deps, body: dict[str, Any]) -> str:
    # Someone off the roster is named by Slack ID: they never match a counterpart.
    user = str(body["user"]["id"])
    member = deps.config.member_by_slack_id(user)
    return member.initials if member else user


async def _refuse(respond: Any, message: str) -> None:
    reply = refusal(message)
    await respond(
        text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
    )


def register(app: AsyncApp, deps: Deps) -> None:
    async def decide(body: dict[str, Any], respond: Any, client: Any, approve: bool) -> None:
        value = str(body["actions"][0].get("value", ""))
        if not value.isdecimal():
            await _refuse(respond, "That button does not name a swap.")
            return
        swap_id, actor = int(value), _actor(deps, body)
        try:
            if approve:
                done = await deps.swaps.approve(swap_id, actor)
            else:
                done = await deps.swaps.decline(swap_id, actor)
        except TransitionRefused as exc:
            await _refuse(respond, str(exc))
            return
        await tell_outcome(client, deps, done)

    @app.action(ids.ACTION_SWAP_APPROVE)
    @guarded
    async def approve(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        await decide(body, respond, client, approve=True)

    @app.action(ids.ACTION_SWAP_DECLINE)
    @guarded
    async def decline(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        await decide(body, respond, client, approve=False)

    @app.action(ids.ACTION_SWAP_OPEN_MODAL)
    @guarded
    async def open_modal(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        cfg = deps.config
        member = cfg.member_by_slack_id(str(body["user"]["id"]))
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
        await client.views_open(trigger_id=body["trigger_id"], view=view)
