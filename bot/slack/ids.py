"""Action, block and callback IDs: one constant each, shared by builders and listeners."""

from __future__ import annotations

COMMAND_ONCALL = "/oncall"
COMMAND_PAGE = "/page"

# Page message and page DMs.
PAGE_ACTIONS_BLOCK = "page_actions"
ACTION_PAGE_ACK = "page_ack"
ACTION_PAGE_RESOLVE = "page_resolve"
ACTION_PAGE_ESCALATE = "page_escalate"

COMMAND_RUNBOOK = "/runbook"
# Every checklist checkbox group has this action ID; its block ID says which run it belongs
# to: "checklist:<run id>:<group>:<revision>" (see bot/slack/blocks/runbook.py).
CHECKLIST_TICK = "checklist_tick"
CHECKLIST_BLOCK = "checklist"
CHECKLIST_PROGRESS = "checklist_progress"
