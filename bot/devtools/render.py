"""Render Block Kit as readable terminal text, numbering what can be pressed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config.models import TeamConfig

# The shortcodes the bot writes (`grep -rhoE ':[a-z_]+:' bot`); any other stays as typed.
EMOJI = {
    "alarm_clock": "⏰",
    "arrows_counterclockwise": "🔄",
    "bell": "🔔",
    "calendar": "📆",
    "clock3": "🕒",
    "dart": "🎯",
    "eyes": "👀",
    "grey_question": "❔",
    "hourglass_flowing_sand": "⏳",
    "information_source": "ℹ️",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "loud_sound": "🔊",
    "mag": "🔍",
    "mega": "📣",
    "mute": "🔇",
    "no_entry": "⛔",
    "red_circle": "🔴",
    "rotating_light": "🚨",
    "sunny": "☀️",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "x": "❌",
}

# ANSI on/off pairs; the "off" codes end only their own style, so styles can nest.
_BOLD = ("\x1b[1m", "\x1b[22m")
_ITALIC = ("\x1b[3m", "\x1b[23m")
_STRIKE = ("\x1b[9m", "\x1b[29m")
_CODE = ("\x1b[36m", "\x1b[39m")

_CODE_SPAN = re.compile(r"(```.*?```|`[^`\n]+`)", re.S)
_HELD = re.compile("\x00(\\d+)\x00")
_ENTITY = re.compile(r"<([^<>\n]+)>")
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


def _marked(mark: str) -> re.Pattern[str]:
    # Slack only reads a mark that hugs its text and is not inside a word, so `snake_case`
    # and `2 * 3` stay as they are.
    m = re.escape(mark)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")


_STYLES = ((_marked("*"), _BOLD), (_marked("_"), _ITALIC), (_marked("~"), _STRIKE))


def emoji(text: str) -> str:
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


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
    color: bool = False
    # Channel ID → name, asked when a `<#C…>` mention carries no name of its own.
    channel_names: Callable[[], Mapping[str, str]] | None = None
    pressables: dict[int, Pressable] = field(default_factory=dict)
    # A button keeps its number while its message is redrawn, and a number is never given
    # to anything else, so a script's `press 2` means the same button in every run.
    _numbers: dict[tuple[Any, ...], int] = field(default_factory=dict)
    _unposted: int = 0

    def _style(self, pair: tuple[str, str], text: str) -> str:
        return f"{pair[0]}{text}{pair[1]}" if self.color else text

    def _entity(self, m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            member = self.config.member_by_slack_id(target[1:])
            return f"@{member.initials}" if member else f"@{label or target[1:]}"
        if target.startswith("#"):
            names = self.channel_names() if self.channel_names else {}
            name = label or names.get(target[1:], target[1:])
            return f"#{name.lstrip('#')}"
        if target.startswith("!"):
            # <!here>, <!channel>, <!subteam^S…|@handle>, <!date^…|fallback>
            word = target[1:].split("^")[0]
            return label or f"@{word}"
        if label:
            return f"{label} ({target.removeprefix('mailto:')})"
        return target.removeprefix("mailto:")

    def mrkdwn(self, text: str) -> str:
        """Slack mrkdwn as a terminal shows it: styled on a TTY, the marks dropped otherwise."""
        # Code spans are held out while the styles apply (nothing inside one is styled),
        # then put back: splitting the text at them instead left the marks of a bold title
        # holding a code span (`*Try `/oncall` now*`) in different pieces, shown raw.
        codes: list[str] = []

        def hold(m: re.Match[str]) -> str:
            codes.append(m.group(0))
            return f"\x00{len(codes) - 1}\x00"

        held = emoji(_ENTITY.sub(self._entity, _CODE_SPAN.sub(hold, text)))
        for pattern, pair in _STYLES:
            if pair is _STRIKE and not self.color:
                continue  # a struck-out word must not read as a live one
            held = pattern.sub(self._styler(pair), held)
        return _HELD.sub(lambda m: self._code(codes[int(m.group(1))]), _unescape(held))

    def _code(self, span: str) -> str:
        code = _unescape(span)
        return self._style(_CODE, code.strip("`")) if self.color else code

    def _styler(self, pair: tuple[str, str]) -> Callable[[re.Match[str]], str]:
        return lambda m: self._style(pair, m.group(1))

    def _number(self, key: tuple[Any, ...], p: Pressable) -> int:
        n = self._numbers.get(key)
        if n is None:
            n = self._numbers[key] = len(self._numbers) + 1
        self.pressables[n] = p
        return n

    def message(
        self, msg: dict[str, Any], channel: str | None = None, ts: str | None = None
    ) -> str:
        blocks = msg.get("blocks") or []
        if not blocks:
            return self.mrkdwn(str(msg.get("text", "")))
        if ts is None:
            # Not addressable, so never redrawn: its buttons are new ones every time.
            self._unposted += 1
            where: tuple[Any, ...] = (channel, f"unposted-{self._unposted}")
        else:
            where = (channel, ts)
        seen: dict[tuple[Any, ...], int] = {}
        lines: list[str] = []
        for block in blocks:
            lines.extend(self._block(block, channel, ts, where, seen))
        return "\n".join(lines)

    def _text(self, obj: Any) -> str:
        if not isinstance(obj, dict):
            return ""
        text = str(obj.get("text", ""))
        # plain_text shows as typed, except that Slack draws its emoji.
        return emoji(text) if obj.get("type") == "plain_text" else self.mrkdwn(text)

    def _block(
        self,
        block: dict[str, Any],
        channel: str | None,
        ts: str | None,
        where: tuple[Any, ...],
        seen: dict[tuple[Any, ...], int],
    ) -> list[str]:
        kind = block.get("type")
        bid = str(block.get("block_id", ""))
        if kind == "header":
            return [self._style(_BOLD, f"== {self._text(block.get('text'))} ==")]
        if kind == "divider":
            return ["-" * 40]
        if kind == "context":
            return ["   " + " ".join(self._text(e) for e in block.get("elements", []))]
        out: list[str] = []
        ctx = (bid, channel, ts, where, seen)
        if kind == "section":
            if block.get("text"):
                out.append(self._text(block["text"]))
            out.extend(self._text(f) for f in block.get("fields", []))
            if block.get("accessory"):
                out.extend(self._elements([block["accessory"]], *ctx))
            return out
        if kind in ("actions", "input"):
            els = block.get("elements") or ([block["element"]] if "element" in block else [])
            if kind == "input":
                out.append(self._text(block.get("label")))
            return out + self._elements(els, *ctx)
        return [f"[{kind} block]"]

    def _key(
        self,
        where: tuple[Any, ...],
        seen: dict[tuple[Any, ...], int],
        el: dict[str, Any],
        option: dict[str, Any] | None = None,
    ) -> tuple[Any, ...]:
        # Not the block ID: the bot redraws blocks under new IDs, and the button is the same.
        base = (*where, el.get("type"), el.get("action_id"), el.get("value"))
        base = (*base, (option or {}).get("value"))
        seen[base] = seen.get(base, 0) + 1
        return (*base, seen[base])

    def _elements(
        self,
        elements: list[dict[str, Any]],
        bid: str,
        channel: str | None,
        ts: str | None,
        where: tuple[Any, ...],
        seen: dict[tuple[Any, ...], int],
    ) -> list[str]:
        out: list[str] = []
        buttons: list[str] = []
        for el in elements:
            if el.get("type") == "button":
                p = Pressable(el, bid, channel=channel, ts=ts)
                n = self._number(self._key(where, seen, el), p)
                buttons.append(f"[{n}: {self._text(el.get('text'))}]")
            elif el.get("type") == "checkboxes":
                chosen = {o.get("value") for o in el.get("initial_options", [])}
                for opt in el.get("options", []):
                    p = Pressable(el, bid, option=opt, channel=channel, ts=ts)
                    n = self._number(self._key(where, seen, el, opt), p)
                    mark = "[x]" if opt.get("value") in chosen else "[ ]"
                    desc = self._text(opt.get("description"))
                    extra = f"  ({desc})" if desc else ""
                    out.append(f"  {n:>3}. {mark} {self._text(opt.get('text'))}{extra}")
            else:
                out.append(f"  [{_describe(el, self._text)}]")
        if buttons:
            out.append("  " + " ".join(buttons))
        return out


_KIND = {
    "datepicker": "date",
    "timepicker": "time",
    "static_select": "menu",
    "users_select": "person",
    "plain_text_input": "text",
    "overflow": "more",
}


def _describe(el: dict[str, Any], text: Callable[[Any], str]) -> str:
    """A control the console cannot press, as its label would read in Slack."""
    kind = str(el.get("type", ""))
    shown = (
        el.get("initial_date")
        or el.get("initial_time")
        or text(el.get("placeholder"))
        or text((el.get("initial_option") or {}).get("text"))
    )
    name = _KIND.get(kind, kind.replace("_", " "))
    return f"{name}: {shown}" if shown else name


def _unescape(text: str) -> str:
    # Slack mrkdwn escapes these three; show them as a Slack client would.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
