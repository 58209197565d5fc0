"""Action, block and callback IDs: one constant each, shared by builders and listeners."""

from __future__ import annotations

COMMAND_ONCALL = "/oncall"
COMMAND_PAGE = "/page"

# Page message and page DMs.
PAGE_ACTIONS_BLOCK = "page_actions"
ACTION_PAGE_ACK = "page_ack"
ACTION_PAGE_RESOLVE = "page_resolve"
ACTION_PAGE_ESCALATE = "page_escalate"
ACTION_PAGE_CHECKLIST = "page_checklist"
# "Next 20" under `/oncall incidents`; value: the page to show (1-based).
ACTION_INCIDENTS_PAGE = "incidents_page"
# "Post status" on an investor incident's page opens the status-update modal (issue #10).
ACTION_PAGE_STATUS = "page_status"
CALLBACK_STATUS_MODAL = "status_modal"
BLOCK_STATUS_STATE = "status_state"
ACTION_STATUS_STATE = "status_state_select"
BLOCK_STATUS_IMPACT = "status_impact"
ACTION_STATUS_IMPACT = "status_impact_input"
BLOCK_STATUS_NEXT = "status_next"
ACTION_STATUS_NEXT = "status_next_select"

COMMAND_RUNBOOK = "/runbook"
# Every checklist checkbox group has this action ID; its block ID says which run it belongs
# to: "checklist:<run id>:<group>:<revision>" (see bot/slack/blocks/runbook.py).
CHECKLIST_TICK = "checklist_tick"
CHECKLIST_BLOCK = "checklist"
CHECKLIST_PROGRESS = "checklist_progress"

# Swaps (issue #5)
COMMAND_SWAP = "/swap"
BLOCK_SWAP_DECISION = "swap_decision"
ACTION_SWAP_APPROVE = "swap_approve"
ACTION_SWAP_DECLINE = "swap_decline"
BLOCK_SWAP_REMINDER = "swap_reminder"
ACTION_SWAP_OPEN_MODAL = "swap_open_modal"
CALLBACK_SWAP_MODAL = "swap_modal"
BLOCK_SWAP_MEMBER = "swap_member"
ACTION_SWAP_MEMBER = "swap_member_select"
BLOCK_SWAP_START_DATE = "swap_start_date"
ACTION_SWAP_START_DATE = "swap_start_date_pick"
BLOCK_SWAP_START_TIME = "swap_start_time"
ACTION_SWAP_START_TIME = "swap_start_time_pick"
BLOCK_SWAP_END_DATE = "swap_end_date"
ACTION_SWAP_END_DATE = "swap_end_date_pick"
BLOCK_SWAP_END_TIME = "swap_end_time"
ACTION_SWAP_END_TIME = "swap_end_time_pick"
BLOCK_SWAP_ROLE = "swap_role"
ACTION_SWAP_ROLE = "swap_role_select"
BLOCK_SWAP_NOTE = "swap_note"
ACTION_SWAP_NOTE = "swap_note_input"

COMMAND_RCA = "/rca"
CALLBACK_RCA_MODAL = "rca_modal"

HANDOVER_ACTIONS_BLOCK = "handover_actions"
ACTION_HANDOVER_DONE = "handover_done"
