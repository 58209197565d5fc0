"""A modal the console can fill in and submit: its input fields numbered, each filled with
`fill <n> <value>` and sent with `submit`, as a view_submission through the real app."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.config.models import TeamConfig

# What each input element's state holds in a view_submission, by element type.
_STATE_KEY = {
    "plain_text_input": "value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "static_select": "selected_option",
}

# What to type, by element type: the label a Slack user sees says the rest.
_HOW = {
    "plain_text_input": "text",
    "datepicker": "date YYYY-MM-DD",
    "timepicker": "time HH:MM",
    "users_select": "member: initials or Slack ID",
    "static_select": "one of the options",
}

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_USER_ID = re.compile(r"<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?")


def _plain(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


@dataclass
class Field:
    number: int
    block_id: str
    element: dict[str, Any]
    label: str
    optional: bool
    value: Any = None
    hint: str = ""
    config: TeamConfig | None = None

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def options(self) -> list[dict[str, Any]]:
        return list(self.element.get("options") or [])

    def shown(self) -> str:
        if self.value is None or self.value == "":
            return "(empty)"
        if isinstance(self.value, dict):
            return _plain(self.value.get("text")) or str(self.value.get("value"))
        if self.kind == "users_select" and self.config is not None:
            member = self.config.member_by_slack_id(str(self.value))
            if member is not None:
                return f"{member.name} (@{member.initials})"
        return str(self.value).replace("\n", " ⏎ ")


@dataclass
class ModalForm:
    view: dict[str, Any]
    config: TeamConfig | None = None
    fields: list[Field] = field(default_factory=list)

    def __post_init__(self) -> None:
        for block in self.view.get("blocks", []):
            if block.get("type") != "input" or "element" not in block:
                continue
            el = dict(block["element"])
            initial: Any = el.get("initial_value") or el.get("initial_date")
            initial = initial or el.get("initial_time") or el.get("initial_option")
            initial = initial or el.get("initial_user")
            self.fields.append(
                Field(
                    number=len(self.fields) + 1,
                    block_id=str(block.get("block_id", "")),
                    element=el,
                    label=_plain(block.get("label")),
                    optional=bool(block.get("optional")),
                    value=initial,
                    hint=_plain(block.get("hint")),
                    config=self.config,
                )
            )

    @property
    def title(self) -> str:
        return _plain(self.view.get("title"))

    @staticmethod
    def line(f: Field) -> str:
        need = "" if f.optional else " (required)"
        how = _HOW.get(f.kind, f.kind)
        if f.kind == "plain_text_input" and f.element.get("multiline"):
            how = "text, several lines"
        return f"  {{{f.number}}} {f.label}{need} [{how}]: {f.shown()}"

    def render(self) -> str:
        lines = []
        for f in self.fields:
            lines.append(self.line(f))
            if f.hint:
                lines.append(f"      {f.hint}")
            placeholder = _plain(f.element.get("placeholder"))
            if placeholder and f.value in (None, ""):
                lines.append(f"      e.g. {placeholder}")
            if f.options:
                lines.append("      options: " + " · ".join(_option(o) for o in f.options))
        submit = _plain(self.view.get("submit")) or "Submit"
        lines.append(
            "  `fill <n> <value>` (`\\n` for a new line; `fill <n>` empties it),"
            f" then `submit` ({submit}) or `cancel`."
        )
        return "\n".join(lines)

    def fill(self, number: int, text: str) -> str | None:
        """Set field `number`; an error message when the value cannot go there."""
        f = next((f for f in self.fields if f.number == number), None)
        if f is None:
            return f"No field {{{number}}}: the form has 1 to {len(self.fields)}."
        text = text.strip()
        if not text:
            f.value = None
            return None
        if f.kind == "static_select":
            return self._choose(f, text)
        if f.kind == "datepicker":
            try:
                f.value = date.fromisoformat(text).isoformat()
            except ValueError:
                return f"`{text}` is not a date: write it as YYYY-MM-DD, e.g. 2025-09-03."
        elif f.kind == "timepicker":
            m = _TIME.fullmatch(text)
            if m is None:
                return f"`{text}` is not a time: write it as HH:MM (24-hour), e.g. 09:00."
            f.value = f"{int(m.group(1)):02d}:{m.group(2)}"
        elif f.kind == "users_select":
            return self._user(f, text)
        elif f.kind in _STATE_KEY:
            f.value = text.replace("\\n", "\n")
        else:
            return f"The console cannot fill a {f.kind} field."
        return None

    @staticmethod
    def _choose(f: Field, text: str) -> str | None:
        wanted = text.casefold()
        match = [
            o
            for o in f.options
            if wanted in (str(o.get("value")).casefold(), _plain(o.get("text")).casefold())
        ]
        if not match and text.isdecimal() and 1 <= int(text) <= len(f.options):
            # A value or label that is itself a number wins above; otherwise pick by position.
            match = [f.options[int(text) - 1]]
        if not match:
            names = " · ".join(_option(o) for o in f.options)
            return f"`{text}` is not one of the options: {names}."
        f.value = match[0]
        return None

    def _user(self, f: Field, text: str) -> str | None:
        member = None
        if self.config is not None:
            member = next(
                (m for m in self.config.members if m.initials.casefold() == text.casefold()),
                None,
            )
        if member is not None:
            f.value = member.slack_id or f"U{member.initials}"
            return None
        m = _USER_ID.fullmatch(text.upper())
        if m is None:
            return f"`{text}` is neither a member's initials nor a Slack ID (U…)."
        f.value = m.group(1)
        return None

    def shown(self, number: int) -> str:
        """Field `number` as it now reads."""
        return self.line(next(f for f in self.fields if f.number == number))

    def submission(self, user_id: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for f in self.fields:
            state: dict[str, Any] = {"type": f.kind, _STATE_KEY.get(f.kind, "value"): f.value}
            values.setdefault(f.block_id, {})[f.action_id] = state
        return {
            "type": "view_submission",
            "team": {"id": "T0ONCALL", "domain": "oncall"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0ONCALL"},
            "api_app_id": "A0ONCALL",
            "token": "unused",
            "trigger_id": "console.trigger",
            "view": {
                "id": "V0CONSOLE",
                "type": "modal",
                "callback_id": self.view.get("callback_id"),
                "private_metadata": self.view.get("private_metadata", ""),
                "state": {"values": values},
            },
        }


def _option(o: dict[str, Any]) -> str:
    value, text = str(o.get("value")), _plain(o.get("text"))
    return value if text in ("", value) else f"{value} = {text}"
