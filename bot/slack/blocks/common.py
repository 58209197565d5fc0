"""Shared Block Kit pieces and the Reply every command returns."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from bot.config.models import TeamConfig

Block = dict[str, Any]

# In mrkdwn `<…>` is markup: a mention, a channel, a special (`<!here>`) or a link. Usage
# text writes placeholders the same way (`/oncall now <pipeline>`), which Slack would take
# for a link and show as `pipeline`; they must reach Slack as `&lt;pipeline&gt;`.
_ANGLE = re.compile(r"<([^<>\n]*)>")
_ENTITY = re.compile(r"(?:[@#!]|https?://|mailto:|tel:)\S")


def placeholders(text: str) -> list[re.Match[str]]:
    """Every `<…>` in `text` that is no Slack entity: text Slack would swallow as a link
    unless escaped (bot/devtools/readlint.py reports any that reach Slack)."""
    if "<" not in text:
        return []
    return [m for m in _ANGLE.finditer(text) if not _ENTITY.match(m.group(1))]


def escape_placeholders(text: str) -> str:
    """`text` with every `<…>` that is no Slack entity escaped, so it shows as typed."""
    if "<" not in text:
        return text
    return _ANGLE.sub(
        lambda m: m.group(0) if _ENTITY.match(m.group(1)) else f"&lt;{m.group(1)}&gt;", text
    )


class Reply(BaseModel):
    """What a command answers: a Slack message body (ephemeral unless said otherwise)."""

    text: str
    blocks: list[Block] = Field(default_factory=list)
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"

    # The body, made once: a reply kept per segment (`/oncall now`) is answered thousands
    # of times, and escaping its text each time was 2 % of the request (issue #14).
    _body: dict[str, Any] | None = PrivateAttr(default=None)

    def body(self) -> dict[str, Any]:
        # Not model_dump(): its deep copy of the blocks was a visible share of answering
        # `/oncall now` (issue #14), and nothing downstream changes a body it is given.
        # The private dict read directly: `self._body` goes through pydantic's __getattr__,
        # two of which were 6 us of a 250 us request.
        private = self.__pydantic_private__
        assert private is not None  # the model has a private attribute
        body: dict[str, Any] | None = private["_body"]
        if body is None:
            body = private["_body"] = {
                "text": escape_placeholders(self.text),
                "blocks": self.blocks,
                "response_type": self.response_type,
            }
        return body


# Slack's limits: a section's text, and the blocks of one message.
SECTION_LIMIT = 3000
MAX_BLOCKS = 50


def section(text: str, block_id: str | None = None) -> Block:
    """One section. Text over Slack's limit ends in "…" so a cut is visible; an answer that
    can run long goes through sections() instead, which loses nothing."""
    return _section(escape_placeholders(text), block_id)


def _section(text: str, block_id: str | None = None) -> Block:
    """section() for text already escaped."""
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def sections(text: str) -> list[Block]:
    """`text` as as many sections as Slack's limit needs, split between lines (or, inside
    one over-long line, at a space), so no word is cut and nothing dropped."""
    return [_section(piece) for piece in chunk_lines(escape_placeholders(text).split("\n"))]


def fit_blocks(blocks: list[Block], more: str, limit: int = MAX_BLOCKS) -> list[Block]:
    """`blocks` within Slack's per-message limit; when they do not fit, the last one kept
    says how many were left out and `more`, the command that shows them, rather than Slack
    refusing the message or the rest vanishing."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    left = len(blocks) - len(kept)
    return [*kept, context(f"… and {left} more: {more}")]


def context(text: str) -> Block:
    text = escape_placeholders(text)
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


def extra_words(done: str, extra: str | list[str], usage: str) -> str:
    """The one refusal for words after a complete subcommand, in every command:
    "`extra` is not understood after `/oncall schedule 8`; usage: `/oncall schedule [N]`".
    Refused rather than ignored: a word dropped silently may be the one the asker meant.
    The words are echoed short and without backticks, which would break the code span."""
    text = " ".join(extra) if isinstance(extra, list) else extra
    text = text.strip().replace("`", "'")
    shown = text if len(text) <= 40 else text[:39] + "…"
    return f"`{shown}` is not understood after `{done}`; usage: {usage}."


def person(cfg: TeamConfig, initials: str) -> str:
    """`Priya Rao (<@U…>)`: a display name that survives plain-text fallbacks, plus a mention."""
    m = cfg.member(initials)
    return f"{m.name} ({m.mention})" if m.slack_id else m.name


def _split_line(line: str, limit: int) -> list[str]:
    """`line` in pieces of at most `limit`, each cut after the last space that fits; only
    a run of `limit` characters without a space is cut inside it."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit) + 1 or limit
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def chunk_lines(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Pack lines into texts of at most `limit` characters, in order, losing nothing: a
    line longer than the limit on its own is split across texts, at a space if it has one."""
    pieces = [piece for line in lines for piece in _split_line(line, limit)]
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= limit:
            out[-1] += "\n" + piece
        else:
            out.append(piece)
    return out
