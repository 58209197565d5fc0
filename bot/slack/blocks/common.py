"""Shared Block Kit pieces and the Reply every command returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.config.models import TeamConfig

# Re-exported: the blocks modules format instants through it.
from bot.domain.timefmt import when as when

Block = dict[str, Any]


class Reply(BaseModel):
    """What a command answers: a Slack message body (ephemeral unless said otherwise)."""

    text: str
    blocks: list[Block] = Field(default_factory=list)
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"

    def body(self) -> dict[str, Any]:
        # Not model_dump(): its deep copy of the blocks was a visible share of answering
        # `/oncall now` (issue #14), and nothing downstream changes a body it is given.
        return {"text": self.text, "blocks": self.blocks, "response_type": self.response_type}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    el: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        el["style"] = style
    return el


def actions(block_id: str, *elements: dict[str, Any]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def error_reply(message: str) -> Reply:
    return Reply(text=f":warning: {message}", blocks=[section(f":warning: {message}")])


def person(cfg: TeamConfig, initials: str) -> str:
    """`Priya Rao (<@U…>)`: a display name that survives plain-text fallbacks, plus a mention."""
    m = cfg.member(initials)
    return f"{m.name} ({m.mention})" if m.slack_id else m.name


def chunk_lines(lines: list[str], limit: int = 3000) -> list[str]:
    """Pack lines into texts of at most `limit` characters, in order, losing nothing: a
    line longer than the limit on its own is split across texts."""
    pieces = [line[i : i + limit] for line in lines for i in range(0, max(len(line), 1), limit)]
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= limit:
            out[-1] += "\n" + piece
        else:
            out.append(piece)
    return out
