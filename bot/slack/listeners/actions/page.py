"""ACK, Resolve, Escalate now and Open checklist on page messages and page DMs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.domain.incident import AlreadyEscalated, Incident, TransitionError
from bot.services.paging import PagingService
from bot.slack import ids
from bot.slack.blocks.common import error_reply
from bot.slack.blocks.page import already_escalated, fill
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
            incident_id, _, seen = str(action.get("value", "")).partition("@")
            now = deps.clock.now()
            try:
                if verb is PagingService.escalate:
                    await deps.paging.escalate(incident_id, member.initials, now, seen or None)
                else:
                    await verb(deps.paging, incident_id, member.initials, now)
            except AlreadyEscalated as exc:
                await tell(deps, url, error_reply(fill(cfg, already_escalated(cfg, exc.incident))))
            except TransitionError as exc:
                await tell(deps, url, error_reply(fill(cfg, f"Nothing changed: {exc}.")))
        await ack()

    return page_button


def _open_checklist(deps: Deps) -> Listener:
    # Anyone in the channel may open it, as anyone may run /runbook.
    async def open_checklist(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident_id = str(action.get("value", ""))
        try:
            await deps.paging.open_checklist(incident_id, deps.clock.now())
        except TransitionError as exc:
            url = str(body.get("response_url", ""))
            await tell(deps, url, error_reply(fill(deps.config, f"Nothing changed: {exc}.")))
        await ack()

    return open_checklist


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id, (name, verb) in VERBS.items():
        app.action(action_id)(_listener(deps, name, verb))
    app.action(ids.ACTION_PAGE_CHECKLIST)(_open_checklist(deps))
