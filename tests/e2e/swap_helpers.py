"""Drive swaps through the harness the way Slack would: commands, DMs, button presses."""

from __future__ import annotations

from typing import Any

from bot.devtools.fakeslack import Call
from bot.devtools.harness import Harness, Response
from bot.devtools.signing import block_actions_payload
from bot.domain.swaps import Swap

AM = "U0AMEHTA01"
PR = "U0PRRAO002"
CW = "U0CHENWU03"
SK = "U0SKAPOOR4"


def dms_to(h: Harness, slack_id: str) -> list[Call]:
    return [c for c in h.slack.of("chat.postMessage") if c.args.get("channel") == "D" + slack_id]


def channel_posts(h: Harness, channel: str = "#data-platform") -> list[Call]:
    return [c for c in h.slack.of("chat.postMessage") if c.args.get("channel") == channel]


def refusals(h: Harness) -> list[str]:
    return [str(c.args.get("text")) for c in h.slack.of("response_url")]


def _button(msg: dict[str, Any], action_id: str) -> tuple[dict[str, Any], str] | None:
    for block in msg.get("blocks") or []:
        for el in block.get("elements", []):
            if el.get("action_id") == action_id:
                return el, str(block.get("block_id"))
    return None


async def press(h: Harness, user: str, owner: str, action_id: str) -> Response:
    """`user` presses the newest `action_id` button in the DM to `owner` (who may differ:
    that is how a forged or forwarded press is simulated)."""
    channel = "D" + owner
    # The message as first posted: a client may still show buttons a later edit removed.
    for call in reversed(dms_to(h, owner)):
        msg = call.args
        found = _button(msg, action_id)
        if found is None:
            continue
        el, block_id = found
        payload = block_actions_payload(
            user_id=user,
            action={"type": "button", "action_id": action_id, "value": el["value"]},
            block_id=block_id,
            response_url=h.slack.response_url(),
            channel=channel,
            message=msg,
        )
        return await h.interact(payload)
    raise AssertionError(f"no {action_id} button in the DMs to {owner}")


async def swap_cmd(h: Harness, user: str, text: str) -> str:
    resp = await h.command("/swap", text, user)
    assert resp.status == 200
    return str(resp.json.get("text", ""))


async def oncall(h: Harness, user: str, text: str) -> str:
    resp = await h.command("/oncall", text, user)
    assert resp.status == 200
    return str(resp.json.get("text", ""))


async def stored(h: Harness, swap_id: int) -> Swap:
    assert h.deps is not None
    swap = await h.deps.swaps.store.get(swap_id)
    assert swap is not None
    return swap
