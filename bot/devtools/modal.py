"""A modal the console can fill in and submit: its input fields numbered, each filled with
`fill <n> <value>` and sent with `submit`, as a view_submission through the real app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What each input element's state holds in a view_submission, by element type.
_STATE_KEY = {
    "plain_text_input": "value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "static_select": "selected_option",
}


@dataclass
class Field:
    number: int
    block_id: str
    element: dict[str, Any]
    label: str
    optional: bool
    value: Any = None

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    def shown(self) -> str:
        if self.value is None:
            return "(empty)"
        if isinstance(self.value, dict):
            return str((self.value.get("text") or {}).get("text") or self.value.get("value"))
        return str(self.value).replace("\n", " ⏎ ")


@dataclass
class ModalForm:
    view: dict[str, Any]
    fields: list[Field] = field(default_factory=list)

    def __post_init__(self) -> None:
        for block in self.view.get("blocks", []):
            if block.get("type") != "input" or "element" not in block:
                continue
            el = dict(block["element"])
            initial: Any = el.get("initial_value") or el.get("initial_date")
            initial = initial or el.get("initial_time") or el.get("initial_option")
            self.fields.append(
                Field(
                    number=len(self.fields) + 1,
                    block_id=str(block.get("block_id", "")),
                    element=el,
                    label=str((block.get("label") or {}).get("text", "")),
                    optional=bool(block.get("optional")),
                    value=initial,
                )
            )

    @property
    def title(self) -> str:
        return str((self.view.get("title") or {}).get("text", ""))

    @staticmethod
    def line(f: Field) -> str:
        need = "" if f.optional else " (required)"
        return f"  {{{f.number}}} {f.label}{need} [{f.kind}]: {f.shown()}"

    def render(self) -> str:
        lines = []
        for f in self.fields:
            lines.append(self.line(f))
            options = f.element.get("options") or []
            if options:
                names = ", ".join(str(o.get("value")) for o in options)
                lines.append(f"      options: {names}")
        lines.append("  `fill <n> <value>` (`\\n` for a new line), then `submit` or `cancel`.")
        return "\n".join(lines)

    def fill(self, number: int, text: str) -> str | None:
        """Set field `number`; an error message when the value cannot go there."""
        f = next((f for f in self.fields if f.number == number), None)
        if f is None:
            return f"No field {{{number}}}: the form has 1 to {len(self.fields)}."
        if f.kind == "static_select":
            options = f.element.get("options") or []
            match = [
                o for o in options if text in (o.get("value"), (o.get("text") or {}).get("text"))
            ]
            if not match:
                names = ", ".join(str(o.get("value")) for o in options)
                return f"`{text}` is not one of the options: {names}."
            f.value = match[0]
        elif f.kind in _STATE_KEY:
            f.value = text.replace("\\n", "\n")
        else:
            return f"The console cannot fill a {f.kind} field."
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
