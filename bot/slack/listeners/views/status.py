"""The "Post status" modal's submission: each error beside its field, else the update is
stored and its posts queued (#investor-kpis and the incident's thread) in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.domain.status_updates import StatusUpdateError
from bot.slack import ids
from bot.slack.listeners.common import FAILED, STORE_DOWN, member_of

log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    "status": ids.BLOCK_STATUS_STATE,
    "impact": ids.BLOCK_STATUS_IMPACT,
    "next": ids.BLOCK_STATUS_NEXT,
}


def _value(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    got = values.get(block, {}) if isinstance(values, dict) else {}
    return dict(got.get(action) or {}) if isinstance(got, dict) else {}


def _selected(values: dict[str, Any], block: str, action: str) -> str | None:
    option = _value(values, block, action).get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    return str(value) if value is not None else None


def form_fields(view: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(status, impact, next update) as the modal's state holds them; None when absent."""
    values = (view.get("state") or {}).get("values") or {}
    impact = _value(values, ids.BLOCK_STATUS_IMPACT, ids.ACTION_STATUS_IMPACT).get("value")
    return (
        _selected(values, ids.BLOCK_STATUS_STATE, ids.ACTION_STATUS_STATE),
        None if impact is None else str(impact),
        _selected(values, ids.BLOCK_STATUS_NEXT, ids.ACTION_STATUS_NEXT),
    )


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(ids.CALLBACK_STATUS_MODAL)
    async def submit(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            member = member_of(context)
            if member is None:
                raise StatusUpdateError("Only members of the on-call roster can post a status.")
            status, impact, next_update = form_fields(view)
            await deps.status_updates.post(
                str(view.get("private_metadata") or ""),
                member.initials,
                status,
                impact,
                next_update,
                view_id=str(view.get("id") or ""),
            )
        except StatusUpdateError as exc:
            await ack(response_action="errors", errors={FIELD_BLOCKS[exc.field]: str(exc)})
            return
        except Exception as exc:
            # The app's error handler would put its message beside another modal's field,
            # which Slack refuses; this modal answers beside its own first field.
            if isinstance(exc, RedisError):
                log.warning("Redis unavailable while posting a status update: %s", exc)
                message = STORE_DOWN
            else:
                log.exception("status update submission failed")
                message = FAILED
            await ack(response_action="errors", errors={ids.BLOCK_STATUS_STATE: message})
            return
        deps.waker.wake()
        await ack()
