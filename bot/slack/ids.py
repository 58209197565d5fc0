"""Action, block and callback IDs: one constant each, shared by builders and listeners."""

from __future__ import annotations

COMMAND_ONCALL = "/oncall"
COMMAND_PAGE = "/page"

# Page message and page DMs.
PAGE_ACTIONS_BLOCK = "page_actions"
ACTION_PAGE_ACK = "page_ack"
ACTION_PAGE_RESOLVE = "page_resolve"
ACTION_PAGE_ESCALATE = "page_escalate"
