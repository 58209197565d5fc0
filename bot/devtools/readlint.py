"""A lint for what people read: the texts of the bot's messages, and the string literals of
its source.

Pure functions returning findings, so a test can show every problem at once and the rules can
be tested on good and bad samples. The rules are the readability bugs seen in issue #12:

- `raw-seconds`: a length of time in seconds where minutes belong (`90 s`, `125 seconds`):
  `bot/domain/durations.py` writes 60 s and more as `1 min` and up.
- `zero-min`: `0 min`, which says nothing (`1 h 0 min`) or hides seconds (`0 min` left).
- `truncated`: a section cut mid-word at a block boundary (`… with no swa`), or cut with an
  ellipsis glued to a word (`no swa…`), or a section exactly at Slack's 3,000-character limit.
- `placeholder`: a template left unfilled: `{name}`, `{0}`, `None`, `%s`, `TODO`, or in
  mrkdwn an unescaped `<word>` that is no Slack entity (Slack would take it for a link and
  swallow it; usage text must be `&lt;word&gt;`).
- `no-weekday`: an instant written `2025-09-03 12:00`, without its weekday: people plan by
  the day of the week, so instants go through `timefmt.stamp` (`Wed 3 Sep 2025, 12:00 IST`)
  and windows through `timefmt.period`. What a user is shown to type may stay ISO, in code
  (`/swap @member 2025-09-08 00:00..09:00`, or a fenced block); so may a whole day in the
  policy's notation (`2025-10-23: AM→CW`), which has no time.
- `ist-literal`: the zone name `IST` in a string literal of `bot/`: the rotation's zone comes
  from configuration, so its label must come from `zone_label` (docstrings and comments may
  say IST; so may the time parser's table of zone names people type).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.slack.blocks.common import placeholders

SECTION_LIMIT = 3000  # characters in a section's text (Slack rejects more)

# Where `IST` may be written: the function that names the zone, and the parser's table of
# zone names people may type. Paths are relative to the repository root.
IST_ALLOWED = {
    "bot/domain/timefmt.py": frozenset({"zone_label"}),
    "bot/domain/timeparse.py": frozenset({"_ALIASES"}),
}

_NUMBER = r"(?<![\w.,:/-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_RAW_SECONDS = re.compile(_NUMBER + r"\s?(?:s|secs?|seconds?)\b")
_ZERO_MIN = re.compile(r"(?<![\w.,])0\s?(?:min|mins|minutes?)\b")
_PLACEHOLDERS = (
    re.compile(r"\{(?:[A-Za-z_][\w.]*|\d*)(?:![rsa])?(?::[^{}\s]*)?\}"),  # {name} {0} {} {x:>3}
    re.compile(r"\bNone\b"),
    re.compile(r"%(?:\(\w+\))?[sdifr]\b"),
    re.compile(r"\b(?:TODO|FIXME|XXX)\b"),
)
_IST = re.compile(r"\bIST\b")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_ISO_INSTANT = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}(?::\d{2})?(?!\d)")


@dataclass(frozen=True)
class Finding:
    where: str  # the message (`chat.postMessage #investor-kpis: blocks[2]`) or file:line
    rule: str
    text: str  # the offending excerpt, with a little context

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.text}"


def _excerpt(text: str, start: int, end: int, context: int = 30) -> str:
    left = max(0, start - context)
    right = min(len(text), end + context)
    snippet = text[left:right].replace("\n", "⏎")
    return ("…" if left else "") + snippet + ("…" if right < len(text) else "")


def _found(where: str, rule: str, text: str, m: re.Match[str]) -> Finding:
    # The offending words first, then where they sit, so a long list reads at a glance.
    return Finding(where, rule, f"`{m.group(0)}` in {_excerpt(text, m.start(), m.end())}")


def lint_text(text: str, where: str = "", mrkdwn: bool = True) -> list[Finding]:
    """Findings in one text people read (a text object, a fallback text, a modal error)."""
    found: list[Finding] = []
    for m in _RAW_SECONDS.finditer(text):
        if int(m.group(1).replace(",", "")) >= 60:
            found.append(_found(where, "raw-seconds", text, m))
    for m in _ZERO_MIN.finditer(text):
        found.append(_found(where, "zero-min", text, m))
    code = [c.span() for c in _CODE.finditer(text)]  # what to type, e.g. `/oncall at …`
    for m in _ISO_INSTANT.finditer(text):
        if not any(a < m.start() < b for a, b in code):
            found.append(_found(where, "no-weekday", text, m))
    for pattern in _PLACEHOLDERS:
        for m in pattern.finditer(text):
            found.append(_found(where, "placeholder", text, m))
    if mrkdwn:
        # In mrkdwn `<…>` is markup (a mention, a channel, `<!here>`, a link); anything else
        # between angle brackets should have been escaped: the escaper's own test.
        for m in placeholders(text):
            found.append(_found(where, "placeholder", text, m))
    return found


def lint_sections(sections: Sequence[str], where: str = "") -> list[Finding]:
    """Findings about where a message's consecutive section texts were cut."""
    found: list[Finding] = []
    for i, text in enumerate(sections):
        tail = text.rstrip(" ")
        here = f"{where} section {i + 1}/{len(sections)}".strip()
        if re.search(r"\w(?:…|\.\.\.)$", tail):
            found.append(
                Finding(
                    here, "truncated", "ends in a cut word: " + _excerpt(tail, len(tail), len(tail))
                )
            )
        elif len(text) >= SECTION_LIMIT - 1:
            # A naive cut (`text[:3000]`, `text[:2999] + "…"`) lands here; a section filled
            # line by line rarely stops within one character of the limit by chance.
            found.append(
                Finding(
                    here,
                    "truncated",
                    f"{len(text)} characters, at Slack's limit: "
                    + _excerpt(tail, len(tail), len(tail)),
                )
            )
        nxt = sections[i + 1] if i + 1 < len(sections) else None
        # Sections start with a capital, a date, a bullet or an emoji; a lower-case letter
        # straight after a letter is the rest of a word the previous section lost.
        if nxt and re.search(r"[A-Za-z]$", text) and re.match(r"[a-z]", nxt):
            found.append(
                Finding(
                    here,
                    "truncated",
                    f"a word split across sections: {text[-20:]!r} | {nxt[:20]!r}",
                )
            )
    return found


def _strings(tree: ast.AST) -> Iterator[tuple[ast.Constant, list[str]]]:
    """Every string constant with the names of the definitions and assignments around it,
    docstrings and other bare string statements (comments, in effect) left out."""

    def walk(node: ast.AST, names: list[str]) -> Iterator[tuple[ast.Constant, list[str]]]:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [*names, node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [*names, *(t.id for t in targets if isinstance(t, ast.Name))]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, names
        for child in ast.iter_child_nodes(node):
            yield from walk(child, names)

    yield from walk(tree, [])


def lint_source(path: str, source: str) -> list[Finding]:
    """`IST` in string literals of one module (`path` relative to the repository root)."""
    allowed = IST_ALLOWED.get(path, frozenset())
    found = []
    for node, names in _strings(ast.parse(source, path)):
        value = str(node.value)
        m = _IST.search(value)
        if m and not allowed.intersection(names):
            where = f"{path}:{node.lineno}"
            found.append(_found(where, "ist-literal", value, m))
    return found


def lint_tree(root: Path) -> list[Finding]:
    """`lint_source` over every module under `root`/bot."""
    found: list[Finding] = []
    for file in sorted((root / "bot").rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        found.extend(lint_source(rel, file.read_text(encoding="utf-8")))
    return found


def summary(findings: Sequence[Finding], what: str) -> str:
    """Findings grouped by rule and text (one template makes the same finding in every
    message it draws), each with where it was first seen and how often, for a test failure."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        groups.setdefault((f.rule, f.text), []).append(f.where)
    lines = [f"{len(groups)} readability problems ({len(findings)} findings) in {what}:"]
    for (rule, text), wheres in groups.items():
        more = f" and {len(wheres) - 1} more" if len(wheres) > 1 else ""
        lines.append(f"- {rule}: {text}\n    in {wheres[0]}{more}")
    return "\n".join(lines)
