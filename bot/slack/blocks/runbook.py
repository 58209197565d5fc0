"""Messages for `/runbook` and checklist runs: the parent summary and the checklist thread.

Slack limits that shape the layout: a checkboxes element holds at most 10 options, an option's
text and description at most 75 characters, a section at most 3000, a message 50 blocks. So
each step's full text (with dashboard links) goes in sections, the checkboxes carry a short
"N. Title" plus who ticked it and when, and long checklists spill over into more messages.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from bot.config.models import Pipeline, TeamConfig
from bot.domain.checklist import ChecklistRun, chunk_steps
from bot.domain.runbook import Runbook, Step
from bot.domain.timefmt import plural, stamp
from bot.slack import ids
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    Block,
    Reply,
    context,
    header,
    section,
    sections,
)
from bot.slack.blocks.common import SECTION_LIMIT as MAX_SECTION

MAX_OPTION_TEXT = 75
_DASHBOARD = re.compile(r"\[\[([^\[\]]*)\]\]")


class Message(BaseModel):
    """A message body the bot posts and later edits in place."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Slack treats &, < and > as markup; runbook text must show them literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def block_id(run_id: str, group: int, revision: int) -> str:
    # The revision changes the block ID on every redraw: Slack clients keep a checkbox's
    # local state while its block ID is unchanged and would ignore the new initial_options.
    return f"{ids.CHECKLIST_BLOCK}:{run_id}:{group}:{revision}"


def run_id_of(block: str) -> str | None:
    parts = block.split(":")
    if len(parts) != 4 or parts[0] != ids.CHECKLIST_BLOCK or not parts[1]:
        return None
    return parts[1]


def step_line(step: Step, dashboards: dict[str, str]) -> str:
    """The whole step in mrkdwn, `[[Dashboard]]` turned into a link when its URL is known."""
    pieces: list[str] = []
    last = 0
    for match in _DASHBOARD.finditer(step.detail):
        pieces.append(escape(step.detail[last : match.start()]))
        name = match.group(1).strip()
        url = dashboards.get(name)
        pieces.append(f"<{url}|{escape(name)}>" if url else escape(name))
        last = match.end()
    pieces.append(escape(step.detail[last:]))
    detail = "".join(pieces)
    if not step.title:
        return f"*{step.number}.* {detail}"
    colon = "" if step.title[-1] in "?!.:" else ":"
    return f"*{step.number}. {escape(step.title)}{colon}* {detail}"


def _option_label(step: Step) -> str:
    return _clip(f"{step.number}. {step.title or step.text}", MAX_OPTION_TEXT)


def _ticker(cfg: TeamConfig, user_id: str) -> str:
    member = cfg.member_by_slack_id(user_id)
    return member.name if member else f"<@{user_id}>"


def _option(cfg: TeamConfig, run: ChecklistRun, step: Step) -> dict[str, Any]:
    option: dict[str, Any] = {
        "text": {"type": "plain_text", "text": _option_label(step)},
        "value": str(step.number),
    }
    tick = run.ticks.get(step.number)
    if tick is not None:
        who = f"✓ {_ticker(cfg, tick.by)} · {stamp(tick.at, cfg.zone)}"
        option["description"] = {"type": "mrkdwn", "text": _clip(who, MAX_OPTION_TEXT)}
    return option


def _sections(lines: list[str]) -> list[Block]:
    """Join lines into as few sections as fit Slack's 3000-character limit."""
    blocks: list[Block] = []
    current = ""
    for line in lines:
        line = _clip(line, MAX_SECTION)
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(section(current))
    return blocks


def _group(cfg: TeamConfig, run: ChecklistRun, index: int, steps: list[Step]) -> list[Block]:
    options = [_option(cfg, run, step) for step in steps]
    element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.CHECKLIST_TICK,
        "options": options,
    }
    # Slack rejects an empty initial_options, and each entry must equal its option exactly.
    ticked = [opt for opt, step in zip(options, steps, strict=True) if step.number in run.ticks]
    if ticked:
        element["initial_options"] = ticked
    lines = [step_line(step, cfg.policy.dashboards) for step in steps]
    actions = {
        "type": "actions",
        "block_id": block_id(run.id, index, run.revision),
        "elements": [element],
    }
    return [*_sections(lines), actions]


def progress_text(run: ChecklistRun) -> str:
    done, total = run.progress
    tail = " :white_check_mark:" if total and done == total else ""
    return f"{done}/{total} done{tail}"


def _pipeline(cfg: TeamConfig, slug: str) -> Pipeline | None:
    return next((p for p in cfg.pipelines if p.slug == slug), None)


def _about(cfg: TeamConfig, runbook: Runbook) -> str:
    pipeline = _pipeline(cfg, runbook.slug)
    parts = [f"{runbook.type.capitalize()} pipeline"]
    if runbook.deadline:
        parts.append(f"due {escape(runbook.deadline)}")
    if pipeline is not None:
        parts.append(f"status updates in {pipeline.channel}")
    return " · ".join(parts)


def _intro(cfg: TeamConfig, run: ChecklistRun) -> list[Block]:
    title = f"*Diagnostics checklist: {escape(run.runbook.name)}* · {progress_text(run)}"
    blocks = [section(title, block_id=ids.CHECKLIST_PROGRESS)]
    if run.parent_ts is None:
        # Posted into someone else's thread (a page): no summary message above it, so say
        # what the pipeline is here.
        blocks.append(context(f"{escape(run.runbook.purpose)} · {_about(cfg, run.runbook)}"))
    blocks.append(context("Tick steps as you do them; everyone sees who ticked what and when."))
    return blocks


def thread_messages(
    cfg: TeamConfig, run: ChecklistRun, max_blocks: int = MAX_BLOCKS
) -> list[Message]:
    """The checklist, split into as many messages as Slack's block limit needs.

    The split depends only on the runbook, never on ticks, so a redraw edits the same
    messages that were first posted.
    """
    groups = [_group(cfg, run, i, steps) for i, steps in enumerate(chunk_steps(run.runbook.steps))]
    pages: list[list[Block]] = [_intro(cfg, run)]
    for group in groups:
        if len(group) > max_blocks:
            raise ValueError(f"a checkbox group needs {len(group)} blocks; limit {max_blocks}")
        if len(pages[-1]) + len(group) > max_blocks:
            pages.append([])
        pages[-1].extend(group)
    name = run.runbook.name
    messages = []
    for i, blocks in enumerate(pages, start=1):
        part = f" (part {i}/{len(pages)})" if len(pages) > 1 else ""
        text = f"Diagnostics checklist for {name}{part}: {progress_text(run)}"
        messages.append(Message(text=text, blocks=blocks))
    return messages


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {escape(item)}" for item in items)


def parent_message(cfg: TeamConfig, run: ChecklistRun) -> Message:
    runbook = run.runbook
    blocks: list[Block] = [
        header(f"Runbook: {runbook.name}"),
        section(f"*Purpose:* {escape(runbook.purpose)}"),
    ]
    fields = []
    if runbook.upstream:
        fields.append(f"*Upstream inputs*\n{_bullets(runbook.upstream)}")
    if runbook.downstream:
        fields.append(f"*Downstream consumers*\n{_bullets(runbook.downstream)}")
    if fields:
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": _clip(f, 2000)} for f in fields],
            }
        )
    if runbook.failure_modes:
        modes = "\n".join(
            f"• *{escape(m.title)}:* {escape(m.detail)}" if m.title else f"• {escape(m.detail)}"
            for m in runbook.failure_modes
        )
        blocks.append(section(_clip(f"*Failure modes*\n{modes}", MAX_SECTION)))
    opened = f"opened {stamp(run.opened_at, cfg.zone)}"
    if run.opened_by:
        opened = f"opened by <@{run.opened_by}> at {stamp(run.opened_at, cfg.zone)}"
    blocks.append(context(f"{_about(cfg, runbook)} · {opened}"))
    blocks.append(
        section(
            f"*Progress:* {progress_text(run)} · the checklist is in the thread",
            block_id=ids.CHECKLIST_PROGRESS,
        )
    )
    text = f"Runbook for {runbook.name}: {progress_text(run)}"
    return Message(text=text, blocks=blocks)


def _usage(cfg: TeamConfig, runbooks: dict[str, Runbook]) -> list[str]:
    """Every `/runbook` form, one line each with an example; `/runbook` alone, `list` and
    `help` all answer with this and the list, so it is where people learn the command."""
    slug = next(iter(runbooks), cfg.pipelines[0].slug if cfg.pipelines else "growth-agg")
    return [
        "*`/runbook`* — a pipeline's runbook as a checklist the channel ticks together",
        f"• `/runbook <pipeline>` — post its runbook here as a checklist, e.g. `/runbook {slug}`",
        "• `/runbook` or `/runbook list` — the runbooks loaded, e.g. `/runbook list`",
        "• `/runbook help` — this message",
    ]


def runbook_list_reply(cfg: TeamConfig, runbooks: dict[str, Runbook]) -> Reply:
    usage = _usage(cfg, runbooks)
    if not runbooks:
        text = "\n".join(
            [
                *usage,
                "No runbooks are loaded. Add `runbooks/<pipeline>.md` and run `oncall-bot check`.",
            ]
        )
        return Reply(text=text, blocks=sections(text))
    lines = [*usage, "*Runbooks* — `/runbook <pipeline>` posts one as a checklist here"]
    for p in cfg.pipelines:
        runbook = runbooks.get(p.slug)
        if runbook is None:
            lines.append(f"• `{p.slug}` — {escape(p.name)}: _no runbook_")
            continue
        also = ", ".join(f"`{a}`" for a in p.aliases)
        aka = f" (also {also})" if also else ""
        lines.append(f"• `{p.slug}` — {escape(p.name)}, {plural(len(runbook.steps), 'step')}{aka}")
    text = "\n".join(lines)
    return Reply(text=text, blocks=sections(text))
