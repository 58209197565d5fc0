"""ACK, Resolve and Escalate now on page messages and page DMs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.domain.incident import Incident, TransitionError
from bot.services.paging import PagingService
from bot.slack import ids
from bot.slack.blocks.page import fill
from bot.slack.listeners.guard import Listener, guarded

# (service, incident id, who, now) → the incident after the transition
Verb = Callable[[PagingService, str, str, datetime], Awaitable[Incident]]

VERBS: dict[str, tuple[str, Verb]] = {
    ids.ACTION_PAGE_ACK: ("ACK", PagingService.ack),
    ids.ACTION_PAGE_RESOLVE: ("resolve", PagingService.resolve),
    ids.ACTION_PAGE_ESCALATE: ("escalate", PagingService.escalate),
}


def _listener(deps: Deps, name: str, verb: Verb) -> Listener:
    async def page_button(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        cfg = deps.config
        member = cfg.member_by_slack_id(body["user"]["id"])
        if member is None:
            roster = ", ".join(m.initials for m in cfg.members)
            await _tell(
                respond, f"Only members of the on-call roster ({roster}) can {name} a page."
            )
            return
        try:
            await verb(deps.paging, str(action.get("value", "")), member.initials, deps.clock.now())
        except TransitionError as exc:
            await _tell(respond, fill(cfg, f"Nothing changed: {exc}."))

    return guarded(page_button)


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id, (name, verb) in VERBS.items():
        app.action(action_id)(_listener(deps, name, verb))


async def _tell(respond: Any, text: str) -> None:
    await respond(text=f":warning: {text}", response_type="ephemeral", replace_original=False)
