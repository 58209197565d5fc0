"""The fake Slack's Block Kit checks: slack_sdk's own model validators plus the limits they
skip, so a payload real Slack would refuse with `invalid_blocks` is refused by the fake too."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BLOCK_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
VIEW_METHODS = ("views.open", "views.update", "views.publish", "views.push")
MAX_BLOCKS = 50  # per message; slack_sdk only checks the 100 of a view.


def block_errors(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "blocks must be a JSON array"
    if len(blocks) > MAX_BLOCKS:
        return f"no more than {MAX_BLOCKS} blocks are allowed, got {len(blocks)}"
    try:
        for i, block in enumerate(Block.parse_all(blocks)):
            if block is None:  # slack_sdk only logs unknown types; Slack rejects them.
                return f"block {i}: unknown block type in {blocks[i]!r}"
            block.validate_json()
            # validate_json() checks the block's own fields; to_dict() validates nested
            # elements too (button text, option counts...).
            block.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def view_errors(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view must be a JSON object"
    try:
        parsed = View(**view)
        parsed.validate_json()
        parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
        return f"{type(e).__name__}: {e}"
    return None
