"""RCA replies and the blameless template modal (`/rca`, `/rca write INC-7`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config.models import TeamConfig
from bot.domain.rca import ActionItem, Rca
from bot.domain.timefmt import day_label
from bot.slack import ids
from bot.slack.blocks.common import Reply, chunk_lines, section
from bot.slack.blocks.runbook import escape

# Input blocks of the modal, in order; each holds one plain_text_input whose action id is
# the block id with "_input".
FIELDS: list[tuple[str, str, str, bool]] = [
    # (block id, label, hint, required)
    ("rca_summary", "Summary", "What happened, in a few sentences.", True),
    ("rca_customer", "Customer impact", "Who noticed what, for how long.", False),
    ("rca_investor", "Investor impact", "Which investor KPIs were late or wrong.", False),
    ("rca_timeline", "Timeline", "One event per line; pre-filled from the incident's log.", False),
    ("rca_factors", "Contributing factors", "One per line. Blameless: systems, not people.", False),
    ("rca_went_well", "What went well", "One per line.", False),
    (
        "rca_actions",
        "Action items",
        "One per line: `what | owner initials | YYYY-MM-DD`, e.g. "
        "`Alert on warehouse failover | PR | 2025-10-31`.",
        False,
    ),
]
MAX_INPUT = 3000  # Slack's limit on a plain_text_input's length


def action_id(block_id: str) -> str:
    return f"{block_id}_input"


def _input(block_id: str, label: str, hint: str, required: bool, initial: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id(block_id),
        "multiline": True,
        "max_length": MAX_INPUT,
    }
    if initial:
        element["initial_value"] = initial[:MAX_INPUT]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": not required,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": element,
    }


def rca_modal(rca: Rca, timeline: list[str]) -> dict[str, Any]:
    """The blameless template for `rca`, its timeline pre-filled from the incident's log."""
    title = f"RCA {rca.incident_id}"
    intro = (
        f"*{escape(rca.title)}*\nDue {day_label(rca.due_day)}; owner {rca.owner}. Blameless: "
        "describe what the systems and the process allowed, not who slipped."
    )
    blocks: list[dict[str, Any]] = [section(intro)]
    for block_id, label, hint, required in FIELDS:
        initial = "\n".join(timeline) if block_id == "rca_timeline" else ""
        blocks.append(_input(block_id, label, hint, required, initial))
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK_RCA_MODAL,
        "private_metadata": rca.incident_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Post RCA"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _rca_line(cfg: TeamConfig, rca: Rca, now: datetime) -> str:
    late = " · *overdue*" if rca.overdue(now) else ""
    return (
        f"• *{rca.incident_id}* {escape(rca.title)}: due {day_label(rca.due_day)}, owner "
        f"{rca.owner}{late} (`/rca write {rca.incident_id}`)"
    )


def list_reply(cfg: TeamConfig, rcas: list[Rca], now: datetime) -> Reply:
    if not rcas:
        text = "No open RCAs."
        return Reply(text=text, blocks=[section(text)])
    lines = [f"*Open RCAs* ({len(rcas)}), soonest due first:"]
    lines += [_rca_line(cfg, r, now) for r in rcas]
    text = "\n".join(lines)
    return Reply(text=text, blocks=[section(line) for line in chunk_lines(lines)])


def actions_reply(items: list[tuple[Rca, ActionItem]], whose: str) -> Reply:
    if not items:
        text = f"No open action items{whose}."
        return Reply(text=text, blocks=[section(text)])
    lines = [f"*Open action items{whose}* ({len(items)}), soonest due first:"]
    lines += [
        f"• *{rca.incident_id} A{item.id}* {escape(item.text)}: {item.owner}, due "
        f"{day_label(item.due)} (`/rca done {rca.incident_id} A{item.id}`)"
        for rca, item in items
    ]
    text = "\n".join(lines)
    return Reply(text=text, blocks=[section(line) for line in chunk_lines(lines)])


HELP = "\n".join(
    [
        "*`/rca`*: root-cause analyses for investor Sev-1/Sev-2 incidents.",
        "• `/rca` or `/rca list` lists open RCAs with their due dates, e.g. `/rca`",
        "• `/rca write <incident>` opens the blameless template, e.g. `/rca write INC-7`",
        "• `/rca assign <incident> @member` hands it over, e.g. `/rca assign INC-7 @PR`",
        "• `/rca actions [all]` lists your open action items (or everyone's), "
        "e.g. `/rca actions all`",
        "• `/rca done <incident> <item>` marks your action item done, e.g. `/rca done INC-7 A2`",
        "• `/rca help` shows this, e.g. `/rca help`",
    ]
)
