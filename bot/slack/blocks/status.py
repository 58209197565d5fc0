"""The "Post status" modal of an investor incident's page (issue #10).

Three fields a tired human fills in seconds: the status (one pick from the stages investors
know), the impact (free text, the only thing to type), and when the next update comes (one
pick from fixed delays, preset to 30 min). Relative delays rather than a time picker: no
arithmetic across midnight or time zones at 3 a.m., one click instead of two pickers, and
the posts still show the instant it comes to. A second update opens with the first one's
status and impact filled in, since usually only one of them changed.
"""

from __future__ import annotations

from typing import Any

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.incident import Incident
from bot.domain.status_updates import (
    IMPACT_MAX,
    NEXT_DEFAULT,
    NEXT_UPDATE,
    StatusKind,
    StatusUpdate,
)
from bot.domain.timefmt import stamp
from bot.slack import ids
from bot.slack.blocks.common import Block, context, person, section


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], hint: str = "") -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def status_modal(cfg: TeamConfig, inc: Incident, last: StatusUpdate | None) -> dict[str, Any]:
    """The modal; `private_metadata` carries the incident id to the submission."""
    pipeline = cfg.pipeline(inc.pipeline)
    statuses = [_option(f"{k.label} ({k.hint})", k.value) for k in StatusKind]
    status: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.ACTION_STATUS_STATE,
        "placeholder": {"type": "plain_text", "text": "Where the incident stands"},
        "options": statuses,
    }
    impact: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACTION_STATUS_IMPACT,
        "multiline": True,
        "max_length": IMPACT_MAX,
        "placeholder": {
            "type": "plain_text",
            "text": "Which dashboard or number is late or wrong, and since when",
        },
    }
    nexts = [
        _option(f"In {human_duration(d)}" if d else "No further update", value)
        for value, d in NEXT_UPDATE.items()
    ]
    next_update: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.ACTION_STATUS_NEXT,
        "options": nexts,
        "initial_option": next(o for o in nexts if o["value"] == NEXT_DEFAULT),
    }
    about = (
        f"*{inc.id}* · {inc.severity.value.upper()} · {pipeline.name}: {inc.summary}\n"
        f"Posts to {pipeline.channel} and to the incident's thread."
    )
    blocks: list[Block] = [section(about)]
    if last is not None:
        status["initial_option"] = next(o for o in statuses if o["value"] == last.status.value)
        impact["initial_value"] = last.impact
        blocks.append(
            context(
                f"Last update: {last.status.label}, by {person(cfg, last.posted_by)} at "
                f"{stamp(last.posted_at, cfg.zone)}. Its status and impact are filled in below."
            )
        )
    blocks += [
        _input(ids.BLOCK_STATUS_STATE, "Status", status),
        _input(ids.BLOCK_STATUS_IMPACT, "Impact on investors", impact),
        _input(
            ids.BLOCK_STATUS_NEXT,
            "Next update due",
            next_update,
            hint="The incident's owner is reminded by DM if nothing newer is posted by then.",
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK_STATUS_MODAL,
        "private_metadata": inc.id,
        "title": {"type": "plain_text", "text": f"Status of {inc.id}"[:24]},
        "submit": {"type": "plain_text", "text": "Post"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
