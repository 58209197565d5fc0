"""Runbooks: one Markdown file per pipeline, parsed into models the bot can render.

The files are written for people first (they must read well on a code host), so the format is
plain Markdown with a few fixed conventions, and every violation is reported with a file and
line number so whoever edits a runbook can fix it without reading this code.

Format::

    # <Pipeline name>

    - **Slug:** growth-agg
    - **Type:** investor | experiment
    - **Deadline:** 06:30 IST            (optional)

    ## Purpose                            (required)
    ## Upstream inputs                    (optional, bullets)
    ## Downstream consumers               (optional, bullets)
    ## Failure modes                      (optional, bullets: **Title:** detail)
    ## Diagnostics checklist              (required, 1. 2. 3. ...: **Title:** detail)

Steps may link dashboards as ``[[Dashboard Name]]`` and mention Slack channels as ``#channel``.
Reading the files from disk is bot/config/runbooks.py's job; nothing here touches a file.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunbookType = Literal["investor", "experiment"]

RUNBOOK_TYPES: tuple[RunbookType, ...] = ("investor", "experiment")
FIELDS = ("Slug", "Type", "Deadline")
SECTIONS = (
    "Purpose",
    "Upstream inputs",
    "Downstream consumers",
    "Failure modes",
    "Diagnostics checklist",
)
REQUIRED_SECTIONS = ("Purpose", "Diagnostics checklist")

# An optional closing "###" must follow a space, so a title like "C#" keeps its hash.
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FIELD = re.compile(
    r"^[-*+][ \t]+(?:\*\*)?(?P<key>[^:*]+?)[ \t]*(?::[ \t]*\*\*|\*\*[ \t]*:|:)[ \t]*(?P<value>.*)$"
)
_BULLET = re.compile(r"^[-*+](?:[ \t]+(?P<text>.*))?$")
_NUMBERED = re.compile(r"^(?P<number>\d{1,9})[.)](?:[ \t]+(?P<text>.*))?$")
# Accepts "**Title:** detail", "**Title**: detail" and "**Is it late?** detail".
_TITLED = re.compile(r"^\*\*(?P<title>[^*]+?)\*\*[ \t]*:?[ \t]*(?P<detail>.*)$")
_DASHBOARD = re.compile(r"\[\[([^\[\]]*)\]\]")
# Slack channel names are lowercase letters, digits, '-' and '_'; the lookbehind keeps "C#",
# URL fragments ("/#top") and HTML entities ("&#39;") from counting as channel mentions.
_CHANNEL = re.compile(r"(?<![\w#&/])#([a-z0-9][a-z0-9_-]*)")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RunbookError(ValueError):
    """A runbook file that cannot be used, located precisely enough to fix it."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.message = message


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    # Keeps the [[...]] markers so a renderer can turn dashboard names into links.
    detail: str
    dashboards: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The step as one plain line: title and detail, dashboard names without brackets."""
        detail = _DASHBOARD.sub(r"\1", self.detail)
        if not self.title:
            return detail
        # "Is it late? Check ..." reads wrong as "Is it late?: Check ...".
        separator = " " if self.title[-1] in "?!.:" else ": "
        return f"{self.title}{separator}{detail}"


class FailureMode(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    detail: str


class Runbook(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    type: RunbookType
    deadline: str | None = None
    purpose: str
    upstream: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)
    failure_modes: list[FailureMode] = Field(default_factory=list)
    steps: list[Step]
    source: str


_Line = tuple[int, str]


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        # str.splitlines() also splits on form feeds and Unicode separators, which would
        # make our line numbers disagree with the editor's.
        raw = text.split("\n")
        if raw and raw[-1] == "":
            raw.pop()
        self.lines: list[_Line] = [(i, line.rstrip()) for i, line in enumerate(raw, start=1)]
        self.last_line = max(len(self.lines), 1)

    def error(self, line: int, message: str) -> RunbookError:
        return RunbookError(self.source, line, message)

    def parse(self) -> tuple[Runbook, int]:
        """Return the runbook and the line of its Slug field (for errors found by the loader)."""
        title_line, name, rest = self._title()
        preamble, sections = self._split_sections(rest)
        fields = self._fields(preamble)
        slug_line, slug = self._slug(fields, title_line)
        runbook_type = self._type(fields, title_line)
        deadline = fields["deadline"][1] if "deadline" in fields else None
        for required in REQUIRED_SECTIONS:
            if required not in sections:
                raise self.error(self.last_line, f"missing required section '## {required}'")
        for title, (heading_line, body) in sections.items():
            if not any(text.strip() for _, text in body):
                empty = "has no steps" if title == "Diagnostics checklist" else "is empty"
                raise self.error(heading_line, f"section '{title}' {empty}")
        bodies = {title: body for title, (_, body) in sections.items()}
        runbook = Runbook(
            slug=slug,
            name=name,
            type=runbook_type,
            deadline=deadline,
            purpose=" ".join(text.strip() for _, text in bodies["Purpose"] if text.strip()),
            upstream=[text for _, text in self._bullets(bodies.get("Upstream inputs", []))],
            downstream=[text for _, text in self._bullets(bodies.get("Downstream consumers", []))],
            failure_modes=self._failure_modes(bodies.get("Failure modes", [])),
            steps=self._steps(bodies["Diagnostics checklist"]),
            source=self.source,
        )
        return runbook, slug_line

    def _title(self) -> tuple[int, str, list[_Line]]:
        for index, (number, text) in enumerate(self.lines):
            if not text.strip():
                continue
            match = _HEADING.match(text)
            if match is None or len(match.group(1)) != 1 or not match.group(2):
                raise self.error(number, "missing '# Title': a runbook starts with '# <Pipeline>'")
            return number, match.group(2), self.lines[index + 1 :]
        raise self.error(self.last_line, "missing '# Title': the file is empty")

    def _split_sections(
        self, lines: list[_Line]
    ) -> tuple[list[_Line], dict[str, tuple[int, list[_Line]]]]:
        preamble: list[_Line] = []
        sections: dict[str, tuple[int, list[_Line]]] = {}
        current = preamble
        valid = ", ".join(SECTIONS)
        for number, text in lines:
            match = _HEADING.match(text)
            if match is None:
                current.append((number, text))
                continue
            level, heading = len(match.group(1)), match.group(2)
            if level != 2:
                raise self.error(
                    number, f"unexpected {'#' * level} heading; sections are '## <Name>': {valid}"
                )
            title = next((s for s in SECTIONS if s.casefold() == heading.casefold()), None)
            if title is None:
                raise self.error(number, f"unknown section '{heading}'; valid sections: {valid}")
            if title in sections:
                first = sections[title][0]
                raise self.error(number, f"section '{title}' repeats (first at line {first})")
            current = []
            sections[title] = (number, current)
        return preamble, sections

    def _fields(self, preamble: list[_Line]) -> dict[str, _Line]:
        fields: dict[str, _Line] = {}
        valid = ", ".join(FIELDS)
        for number, text in preamble:
            if not text.strip():
                continue
            match = _FIELD.match(text.strip())
            if match is None:
                raise self.error(
                    number,
                    f"expected a field like '- **Slug:** name' before the first section"
                    f" (fields: {valid})",
                )
            written = match.group("key").strip()
            name = next((f for f in FIELDS if f.casefold() == written.casefold()), None)
            if name is None:
                raise self.error(number, f"unknown field '{written}'; fields: {valid}")
            key = name.casefold()
            if key in fields:
                raise self.error(number, f"field '{name}' repeats (first at line {fields[key][0]})")
            value = match.group("value").strip().strip("`").strip()
            if not value:
                raise self.error(number, f"field '{name}' has no value")
            fields[key] = (number, value)
        return fields

    def _slug(self, fields: dict[str, _Line], title_line: int) -> _Line:
        if "slug" not in fields:
            raise self.error(title_line, "missing '- **Slug:** <slug>' field under the title")
        number, slug = fields["slug"]
        if not _SLUG.match(slug):
            raise self.error(
                number, f"slug '{slug}' must be lowercase letters/digits joined by '-'"
            )
        return number, slug

    def _type(self, fields: dict[str, _Line], title_line: int) -> RunbookType:
        if "type" not in fields:
            raise self.error(
                title_line, "missing '- **Type:** investor|experiment' field under the title"
            )
        number, value = fields["type"]
        for runbook_type in RUNBOOK_TYPES:
            if value.casefold() == runbook_type:
                return runbook_type
        raise self.error(number, f"unknown type '{value}'; expected investor or experiment")

    def _items(self, body: list[_Line], what: str) -> list[tuple[int, list[_Line]]]:
        """Group bullet items with their continuation lines, keeping each line's number."""
        items: list[tuple[int, list[_Line]]] = []
        for number, text in body:
            stripped = text.strip()
            if not stripped:
                continue
            match = _BULLET.match(stripped)
            if match is not None:
                items.append((number, [(number, match.group("text") or "")]))
            elif items:
                items[-1][1].append((number, stripped))
            else:
                raise self.error(number, f"expected a '- ' bullet item in {what}")
        return items

    def _bullets(self, body: list[_Line]) -> list[_Line]:
        result = []
        for number, parts in self._items(body, "a list section"):
            text = _join(parts)
            if not text:
                raise self.error(number, "empty bullet item")
            result.append((number, text))
        return result

    def _failure_modes(self, body: list[_Line]) -> list[FailureMode]:
        modes = []
        for number, parts in self._items(body, "'Failure modes'"):
            title, detail = self._titled(number, _join(parts), "failure mode")
            modes.append(FailureMode(title=title, detail=detail))
        return modes

    def _steps(self, body: list[_Line]) -> list[Step]:
        items: list[tuple[int, list[_Line]]] = []
        for number, text in body:
            stripped = text.strip()
            if not stripped:
                continue
            expected = len(items) + 1
            match = _NUMBERED.match(stripped)
            if match is None:
                indented = text[:1] in (" ", "\t") and _BULLET.match(stripped) is None
                if items and indented:
                    items[-1][1].append((number, stripped))
                    continue
                raise self.error(
                    number,
                    f"checklist item is not a numbered item; expected '{expected}. **Title:**"
                    f" detail', found '{stripped}'",
                )
            step_number = int(match.group("number"))
            if step_number != expected:
                problem = "repeats" if step_number < expected else "skips ahead"
                raise self.error(
                    number,
                    f"checklist numbering {problem}: expected {expected}, found {step_number}",
                )
            items.append((step_number, [(number, match.group("text") or "")]))
        return [self._step(step_number, parts) for step_number, parts in items]

    def _step(self, step_number: int, parts: list[_Line]) -> Step:
        # dict.fromkeys de-duplicates while keeping first-mention order.
        dashboards = dict.fromkeys(name for n, text in parts for name in self._dashboards(n, text))
        title, detail = self._titled(parts[0][0], _join(parts), f"step {step_number}")
        channels = dict.fromkeys(f"#{c}" for c in _CHANNEL.findall(_DASHBOARD.sub("", detail)))
        return Step(
            number=step_number,
            title=title,
            detail=detail,
            dashboards=list(dashboards),
            channels=list(channels),
        )

    def _dashboards(self, number: int, text: str) -> list[str]:
        # Checked per physical line so the error points at the line holding the stray marker.
        names = [name.strip() for name in _DASHBOARD.findall(text)]
        if any(not name for name in names):
            raise self.error(number, "empty dashboard link '[[]]'")
        leftover = _DASHBOARD.sub("", text)
        if "[[" in leftover:
            raise self.error(number, "unclosed '[[': dashboard links look like [[Ops Overview]]")
        if "]]" in leftover:
            raise self.error(number, "']]' without a matching '[['")
        return names

    def _titled(self, line: int, text: str, what: str) -> tuple[str, str]:
        if not text:
            raise self.error(line, f"{what} has no text")
        match = _TITLED.match(text)
        if match is None:
            return "", text
        title = match.group("title").strip().rstrip(":").strip()
        detail = match.group("detail").strip()
        if not detail:
            raise self.error(line, f"{what} has a title '{title}' but no text after it")
        return title, detail


def _join(parts: list[_Line]) -> str:
    return " ".join(text.strip() for _, text in parts if text.strip())


def parse_runbook(text: str, source: str) -> Runbook:
    """Parse one runbook file's text; ``source`` names the file in errors and in the model."""
    return parse_runbook_at(text, source)[0]


def parse_runbook_at(text: str, source: str) -> tuple[Runbook, int]:
    """parse_runbook, with the line of the Slug field (for errors about the slug)."""
    return _Parser(text, source).parse()
