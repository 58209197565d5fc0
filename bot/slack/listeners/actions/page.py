"""ACK, Resolve, Escalate now, Open checklist and Post status on page messages and DMs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.incident import AlreadyEscalated, Incident, TransitionError
from bot.domain.status_updates import StatusUpdateError
from bot.services.paging import PagingService
from bot.slack import ids
from bot.slack.blocks.common import error_reply
from bot.slack.blocks.page import already_escalated, fill
from bot.slack.blocks.status import status_modal
from bot.slack.listeners.common import answer_click, member_of, tell

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
        member = member_of(context)
        if member is None:
            roster = ", ".join(m.initials for m in cfg.members)
            message = f"Only members of the on-call roster ({roster}) can {name} a page."
            # ACK also sits on the App Home tab, which has no response URL.
            await answer_click(deps, body, context, error_reply(message))
        else:
            incident_id, _, seen = str(action.get("value", "")).partition("@")
            now = deps.clock.now()
            try:
                if verb is PagingService.escalate:
                    await deps.paging.escalate(incident_id, member.initials, now, seen or None)
                else:
                    await verb(deps.paging, incident_id, member.initials, now)
            except AlreadyEscalated as exc:
                reply = error_reply(fill(cfg, already_escalated(cfg, exc.incident)))
                await answer_click(deps, body, context, reply)
            except TransitionError as exc:
                reply = error_reply(fill(cfg, f"Nothing changed: {exc}."))
                await answer_click(deps, body, context, reply)
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


def _post_status(deps: Deps) -> Listener:
    # Anyone on the roster may post, not only who is paged: at 3 a.m. whoever is at the
    # keyboard writes to investors.
    async def post_status(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        cfg = deps.config
        url = str(body.get("response_url", ""))
        incident_id = str(action.get("value", ""))
        if member_of(context) is None:
            roster = ", ".join(m.initials for m in cfg.members)
            message = f"Only members of the on-call roster ({roster}) can post a status update."
            await tell(deps, url, error_reply(message))
            await ack()
            return
        try:
            inc = await deps.status_updates.incident(incident_id)
            if not inc.open:
                raise StatusUpdateError(
                    f"{inc.id} is resolved, so its page no longer takes status updates."
                )
        except StatusUpdateError as exc:
            await tell(deps, url, error_reply(str(exc)))
            await ack()
            return
        view = status_modal(cfg, inc, await deps.status_updates.latest(inc.id))
        # The one Web API call allowed on the request path: a trigger_id expires in 3 s.
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        await ack()

    return post_status


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id, (name, verb) in VERBS.items():
        app.action(action_id)(_listener(deps, name, verb))
    app.action(ids.ACTION_PAGE_CHECKLIST)(_open_checklist(deps))
    app.action(ids.ACTION_PAGE_STATUS)(_post_status(deps))
