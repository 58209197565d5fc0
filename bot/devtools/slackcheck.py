"""What the bot sent Slack, checked as Slack would check it and read as a person would.

Each payload (a call the fake Slack received, or an HTTP answer the app gave Slack: an
ephemeral reply, a modal's field errors) becomes a `Payload`: where it went, the Block Kit
problems slack_sdk's models and Slack's limits find in it, and every text a person reads in
it, for `bot.devtools.readlint`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.devtools.fakeslack import Call
from bot.devtools.readlint import Finding, lint_sections, lint_text

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")
# Slack's limits that slack_sdk's models do not check (they check a view's 100 blocks, a
# section's 3,000 characters, a header's 150, a button's 75, a view title's 24).
MAX_MESSAGE_BLOCKS = 50
MAX_FIELD_CHARS = 2000
MAX_TEXT_CHARS = 40000  # a message's top-level text; Slack truncates beyond it
_ERRORS = (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError)


@dataclass
class Payload:
    where: str
    problems: list[str] = field(default_factory=list)
    # (path inside the payload, text, is mrkdwn)
    texts: list[tuple[str, str, bool]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for path, text, mrkdwn in self.texts:
            found.extend(lint_text(text, f"{self.where} {path}", mrkdwn))
        found.extend(lint_sections(self.sections, self.where))
        return found


def _text_objects(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every text object (`{"type": "mrkdwn" | "plain_text", "text": …}`) under `node`."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _text_objects(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _text_objects(value, f"{path}[{i}]")


def _block_problems(blocks: Any, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, more than Slack's {limit}")
    for i, raw in enumerate(blocks):
        try:
            block = Block.parse(raw)
            if block is None:
                problems.append(f"blocks[{i}]: unknown block type {raw.get('type')!r}")
                continue
            block.validate_json()
            block.to_dict()  # validates nested elements too
        except _ERRORS as exc:
            problems.append(f"blocks[{i}]: {type(exc).__name__}: {exc}")
        for j, f in enumerate(raw.get("fields") or []):
            if len(str(f.get("text", ""))) > MAX_FIELD_CHARS:
                problems.append(f"blocks[{i}].fields[{j}]: over {MAX_FIELD_CHARS} characters")
    return problems


def _add_texts(payload: Payload, node: Any, path: str) -> None:
    for where, obj in _text_objects(node, path):
        text = str(obj.get("text", ""))
        if not text.strip():
            payload.problems.append(f"{where}: empty text")
        payload.texts.append((where, text, obj.get("type") == "mrkdwn"))


def _message(payload: Payload, body: dict[str, Any]) -> Payload:
    blocks = body.get("blocks")
    text = body.get("text")
    if text is not None:
        if len(str(text)) > MAX_TEXT_CHARS:
            payload.problems.append(f"text: over {MAX_TEXT_CHARS} characters")
        # Slack reads the top-level text as mrkdwn unless told otherwise.
        payload.texts.append(("text", str(text), body.get("mrkdwn") is not False))
    if not blocks:
        if not str(text or "").strip() and not body.get("delete_original"):
            payload.problems.append("neither text nor blocks")
        return payload
    payload.problems += _block_problems(blocks, MAX_MESSAGE_BLOCKS)
    _add_texts(payload, blocks, "blocks")
    payload.sections = _section_texts(blocks)
    return payload


def _section_texts(blocks: Any) -> list[str]:
    return [
        str(b["text"].get("text", ""))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "section" and isinstance(b.get("text"), dict)
    ]


def _view(payload: Payload, view: Any) -> Payload:
    if not isinstance(view, dict):
        payload.problems.append("view is not an object")
        return payload
    try:
        parsed = View(**view)
        parsed.validate_json()
        parsed.to_dict()
    except _ERRORS as exc:
        payload.problems.append(f"view: {type(exc).__name__}: {exc}")
    blocks = view.get("blocks") or []
    payload.problems += _block_problems(blocks, 100)
    _add_texts(payload, {k: v for k, v in view.items() if k != "blocks"}, "view")
    _add_texts(payload, blocks, "view.blocks")
    payload.sections = _section_texts(blocks)
    return payload


def _first_words(body: dict[str, Any]) -> str:
    text = " ".join(str(body.get("text") or "").split())
    return f' "{text[:40]}…"' if len(text) > 40 else (f' "{text}"' if text else "")


def from_call(call: Call, n: int) -> Payload | None:
    """The payload of the fake Slack's `n`th call, or None for a call people do not read
    (conversations.open, history lookups…)."""
    a = call.args
    where = f"#{n} {call.method} {a.get('channel') or a.get('user_id') or ''}".rstrip()
    if a.get("thread_ts"):
        where += " (thread)"
    if call.method in MESSAGE_METHODS:
        return _message(Payload(where + _first_words(a)), a)
    if call.method in VIEW_METHODS:
        view = a.get("view")
        title = (view or {}).get("title", {}).get("text", "") if isinstance(view, dict) else ""
        return _view(Payload(f"{where} {title!r}" if title else where), view)
    if call.method == "conversations.setTopic":
        payload = Payload(where)
        payload.texts.append(("topic", str(a.get("topic", "")), False))
        return payload
    return None


def from_answer(body: dict[str, Any], n: int, request: str = "") -> Payload | None:
    """The payload of the app's `n`th HTTP answer to Slack (an ack body), if it has one;
    `request` says what it answered (`/oncall pto`)."""
    where = f"#{n} HTTP answer" + (f" to `{request}`" if request else "")
    action = body.get("response_action")
    if action == "errors":
        payload = Payload(f"{where} (modal errors)")
        for block, error in (body.get("errors") or {}).items():
            payload.texts.append((f"errors.{block}", str(error), False))
        return payload
    if action in ("update", "push"):
        return _view(Payload(f"{where} (modal {action})"), body.get("view"))
    if body.get("text") is not None or body.get("blocks"):
        return _message(Payload(where), body)
    return None
