"""ACK, Resolve and Escalate now on page messages and page DMs."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.domain.incident import TransitionError
from bot.slack import ids
from bot.slack.blocks.page import fill
from bot.slack.listeners.guard import guarded


def register(app: AsyncApp, deps: Deps) -> None:
    async def _handle(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, verb: str
    ) -> None:
        await ack()
        cfg = deps.config
        member = cfg.member_by_slack_id(body["user"]["id"])
        if member is None:
            roster = ", ".join(m.initials for m in cfg.members)
            await _tell(
                respond, f"Only members of the on-call roster ({roster}) can {verb} a page."
            )
            return
        incident_id = str(action.get("value", ""))
        now = deps.clock.now()
        try:
            if verb == "ACK":
                await deps.paging.ack(incident_id, member.initials, now)
            elif verb == "resolve":
                await deps.paging.resolve(incident_id, member.initials, now)
            else:
                await deps.paging.escalate(incident_id, member.initials, now)
        except TransitionError as exc:
            await _tell(respond, fill(cfg, f"Nothing changed: {exc}."))

    @app.action(ids.ACTION_PAGE_ACK)
    @guarded
    async def page_ack(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await _handle(ack, body, action, respond, "ACK")

    @app.action(ids.ACTION_PAGE_RESOLVE)
    @guarded
    async def page_resolve(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await _handle(ack, body, action, respond, "resolve")

    @app.action(ids.ACTION_PAGE_ESCALATE)
    @guarded
    async def page_escalate(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await _handle(ack, body, action, respond, "escalate")


async def _tell(respond: Any, text: str) -> None:
    await respond(text=f":warning: {text}", response_type="ephemeral", replace_original=False)
