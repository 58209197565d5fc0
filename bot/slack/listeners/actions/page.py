"""ACK, Resolve and Escalate now on page messages and page DMs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.domain.incident import Incident, TransitionError
from bot.services.paging import PagingService
from bot.slack import ids
from bot.slack.blocks.common import error_reply
from bot.slack.blocks.page import fill
from bot.slack.listeners.common import member_of, tell

# (service, incident id, who, now) → the incident after the transition
Verb = Callable[[PagingService, str, str, datetime], Awaitable[Incident]]
Listener = Callable[..., Awaitable[None]]

VERBS: dict[str, tuple[str, Verb]] = {
    ids.ACTION_PAGE_ACK: ("ACK", PagingService.ack),
    ids.ACTION_PAGE_RESOLVE: ("resolve", PagingService.resolve),
    ids.ACTION_PAGE_ESCALATE: ("escalate", PagingService.escalate),
}


def _listener(deps: Deps, name: str, verb: Verb) -> Listener:
    async def page_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        cfg = deps.config
        url = str(body.get("response_url", ""))
        member = member_of(context)
        if member is None:
            roster = ", ".join(m.initials for m in cfg.members)
            message = f"Only members of the on-call roster ({roster}) can {name} a page."
            await tell(deps, url, error_reply(message))
        else:
            try:
                await verb(
                    deps.paging, str(action.get("value", "")), member.initials, deps.clock.now()
                )
            except TransitionError as exc:
                await tell(deps, url, error_reply(fill(cfg, f"Nothing changed: {exc}.")))
        await ack()

    return page_button


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id, (name, verb) in VERBS.items():
        app.action(action_id)(_listener(deps, name, verb))
