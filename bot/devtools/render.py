"""Render Block Kit as readable terminal text, numbering what can be pressed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.config.models import TeamConfig


@dataclass
class Pressable:
    """A button or checkbox option the console can press by number."""

    element: dict[str, Any]
    block_id: str
    option: dict[str, Any] | None = None
    channel: str | None = None
    ts: str | None = None


@dataclass
class Renderer:
    config: TeamConfig
    pressables: dict[int, Pressable] = field(default_factory=dict)

    def _names(self, text: str) -> str:
        def person(m: re.Match[str]) -> str:
            member = self.config.member_by_slack_id(m.group(1))
            return f"@{member.initials}" if member else f"@{m.group(1)}"

        text = re.sub(r"<@([A-Z0-9]+)>", person, text)
        text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
        text = re.sub(r"<#[A-Z0-9]+\|([^>]+)>", r"#\1", text)
        # Slack mrkdwn escapes these three; show them as a Slack client would.
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _number(self, p: Pressable) -> int:
        n = len(self.pressables) + 1
        self.pressables[n] = p
        return n

    def message(
        self, msg: dict[str, Any], channel: str | None = None, ts: str | None = None
    ) -> str:
        blocks = msg.get("blocks") or []
        if not blocks:
            return self._names(str(msg.get("text", "")))
        lines: list[str] = []
        for block in blocks:
            lines.extend(self._block(block, channel, ts))
        return "\n".join(lines)

    def _text(self, obj: Any) -> str:
        return self._names(obj.get("text", "")) if isinstance(obj, dict) else ""

    def _block(self, block: dict[str, Any], channel: str | None, ts: str | None) -> list[str]:
        kind = block.get("type")
        bid = str(block.get("block_id", ""))
        if kind == "header":
            return [f"== {self._text(block.get('text'))} =="]
        if kind == "divider":
            return ["-" * 40]
        if kind == "context":
            return ["   " + " ".join(self._text(e) for e in block.get("elements", []))]
        out: list[str] = []
        if kind == "section":
            if block.get("text"):
                out.append(self._text(block["text"]))
            out.extend(self._text(f) for f in block.get("fields", []))
            if block.get("accessory"):
                out.extend(self._elements([block["accessory"]], bid, channel, ts))
            return out
        if kind in ("actions", "input"):
            els = block.get("elements") or ([block["element"]] if "element" in block else [])
            if kind == "input":
                out.append(self._text(block.get("label")))
            return out + self._elements(els, bid, channel, ts)
        return [f"[{kind} block]"]

    def _elements(
        self, elements: list[dict[str, Any]], bid: str, channel: str | None, ts: str | None
    ) -> list[str]:
        out: list[str] = []
        buttons: list[str] = []
        for el in elements:
            if el.get("type") == "button":
                n = self._number(Pressable(el, bid, channel=channel, ts=ts))
                buttons.append(f"[{n}: {self._text(el.get('text'))}]")
            elif el.get("type") == "checkboxes":
                chosen = {o.get("value") for o in el.get("initial_options", [])}
                for opt in el.get("options", []):
                    n = self._number(Pressable(el, bid, option=opt, channel=channel, ts=ts))
                    mark = "[x]" if opt.get("value") in chosen else "[ ]"
                    desc = self._text(opt.get("description"))
                    extra = f"  ({desc})" if desc else ""
                    out.append(f"  {n:>3}. {mark} {self._text(opt.get('text'))}{extra}")
            else:
                out.append(f"  <{el.get('type')} {el.get('action_id', '')}>")
        if buttons:
            out.append("  " + " ".join(buttons))
        return out
