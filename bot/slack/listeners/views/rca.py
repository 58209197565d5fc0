"""The RCA template's submission: field errors beside the field, else post it."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.services.rcas import NewAction, RcaError
from bot.slack import ids
from bot.slack.blocks.rca import FIELDS, action_id
from bot.slack.listeners.common import member_of

ACTIONS_BLOCK = "rca_actions"


class FieldError(ValueError):
    def __init__(self, block: str, message: str) -> None:
        super().__init__(message)
        self.block = block


def _text(values: dict[str, Any], block: str) -> str:
    return str((values.get(block, {}).get(action_id(block)) or {}).get("value") or "")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_actions(text: str) -> list[NewAction]:
    """`what | owner | YYYY-MM-DD`, one per line; FieldError names the line that is wrong."""
    out = []
    for n, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise FieldError(
                ACTIONS_BLOCK,
                f"Line {n} (`{line[:60]}`) needs three parts: `what | owner | YYYY-MM-DD`.",
            )
        what, owner, due = parts
        try:
            day = date.fromisoformat(due)
        except ValueError:
            raise FieldError(
                ACTIONS_BLOCK, f"Line {n}: `{due}` is not a date; write it as 2025-10-31."
            ) from None
        out.append(NewAction(text=what, owner=owner, due=day))
    return out


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(ids.CALLBACK_RCA_MODAL)
    async def submit(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        values = view["state"]["values"]
        first = FIELDS[0][0]
        member = member_of(context)
        if member is None:
            await ack(response_action="errors", errors={first: "Only roster members post RCAs."})
            return
        try:
            await deps.rcas.submit(
                str(view.get("private_metadata", "")),
                summary=_text(values, "rca_summary"),
                customer_impact=_text(values, "rca_customer"),
                investor_impact=_text(values, "rca_investor"),
                timeline=_lines(_text(values, "rca_timeline")),
                contributing_factors=_lines(_text(values, "rca_factors")),
                went_well=_lines(_text(values, "rca_went_well")),
                action_items=parse_actions(_text(values, ACTIONS_BLOCK)),
                actor=member.initials,
                events=await deps.incidents.events(str(view.get("private_metadata", ""))),
            )
        except FieldError as exc:
            await ack(response_action="errors", errors={exc.block: str(exc)})
            return
        except RcaError as exc:
            # Action-item problems (owner, date) belong beside that field; the rest on top.
            where = ACTIONS_BLOCK if "Action item" in str(exc) else first
            await ack(response_action="errors", errors={where: str(exc)})
            return
        deps.waker.wake()
        await ack()
