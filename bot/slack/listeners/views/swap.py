"""The `/swap` form's submission: field errors beside the field, else ask the counterpart."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.config.models import TeamConfig
from bot.deps import Deps
from bot.domain.swaps import SwapError, Window, window_from_fields
from bot.slack import ids
from bot.slack.listeners.common import member_of

FIELD_BLOCKS = {
    "counterpart": ids.BLOCK_SWAP_MEMBER,
    "window": ids.BLOCK_SWAP_START_DATE,
    "back": ids.BLOCK_SWAP_START_DATE,
    "role": ids.BLOCK_SWAP_ROLE,
    "end": ids.BLOCK_SWAP_END_DATE,
}


class SwapForm(BaseModel):
    model_config = ConfigDict(frozen=True)

    counterpart: str
    window: Window
    role: str | None
    note: str


def _value(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    return dict(values.get(block, {}).get(action) or {})


def parse_form(cfg: TeamConfig, values: dict[str, Any]) -> SwapForm:
    """The modal's state into a form; SwapError.field names the block to put the error on."""
    member = (
        _value(values, ids.BLOCK_SWAP_MEMBER, ids.ACTION_SWAP_MEMBER).get("selected_option") or {}
    ).get("value")
    if not member:
        raise SwapError("Pick who should take your shift.", "counterpart")
    start_d = _value(values, ids.BLOCK_SWAP_START_DATE, ids.ACTION_SWAP_START_DATE)
    end_d = _value(values, ids.BLOCK_SWAP_END_DATE, ids.ACTION_SWAP_END_DATE)
    start_t = _value(values, ids.BLOCK_SWAP_START_TIME, ids.ACTION_SWAP_START_TIME)
    end_t = _value(values, ids.BLOCK_SWAP_END_TIME, ids.ACTION_SWAP_END_TIME)
    if not start_d.get("selected_date"):
        raise SwapError("Pick the first day of the swap.", "window")
    if not end_d.get("selected_date"):
        raise SwapError("Pick the last day of the swap.", "end")
    window = window_from_fields(
        cfg.zone,
        date.fromisoformat(start_d["selected_date"]),
        time.fromisoformat(start_t["selected_time"]) if start_t.get("selected_time") else None,
        date.fromisoformat(end_d["selected_date"]),
        time.fromisoformat(end_t["selected_time"]) if end_t.get("selected_time") else None,
    )
    if window.end <= window.start:
        raise SwapError("The swap must end after it starts.", "end")
    role = (
        _value(values, ids.BLOCK_SWAP_ROLE, ids.ACTION_SWAP_ROLE).get("selected_option") or {}
    ).get("value")
    note = _value(values, ids.BLOCK_SWAP_NOTE, ids.ACTION_SWAP_NOTE).get("value") or ""
    return SwapForm(
        counterpart=str(member),
        window=window,
        role=None if role in (None, "any") else str(role),
        note=str(note),
    )


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(ids.CALLBACK_SWAP_MODAL)
    async def submit(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        cfg = deps.config
        try:
            member = member_of(context)
            if member is None:
                raise SwapError(
                    "You are not on the on-call roster, so you have no shift.", "counterpart"
                )
            form = parse_form(cfg, view["state"]["values"])
            await deps.swaps.request(
                member.initials,
                form.counterpart,
                form.window,
                note=form.note,
                role=form.role,
                confirm_by_dm=True,
            )
        except SwapError as exc:
            await ack(response_action="errors", errors={FIELD_BLOCKS[exc.field]: str(exc)})
            return
        deps.waker.wake()
        await ack()
