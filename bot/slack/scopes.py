"""The bot token's OAuth scopes: which the bot needs, and what breaks without each.

`oncall-bot check --slack` compares this table with what Slack says the token was granted
(the `x-oauth-scopes` header of any Web API answer). slack-app-manifest.yml and README's
"Scopes, and what breaks without each" list the same scopes; tests/test_check_slack.py keeps
the three equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Slack lists the token's scopes, comma-separated, in this header of every Web API answer.
SCOPES_HEADER = "x-oauth-scopes"


@dataclass(frozen=True)
class Scope:
    name: str
    used_for: str
    without: str


NEEDED: tuple[Scope, ...] = (
    Scope(
        "commands",
        "the slash commands",
        "/oncall, /page, /swap, /runbook and /rca do not exist in the workspace",
    ),
    Scope(
        "chat:write",
        "every post, thread reply and edit: pages, DMs, escalations, checklists, replies",
        "nothing is posted: each send fails with missing_scope and ends as a dead letter "
        "(`oncall-bot outbox`)",
    ),
    Scope(
        "chat:write.public",
        "posting in public channels the bot was not invited to",
        "posts to a channel the bot is not in fail with not_in_channel: invite the bot to "
        "every pipeline channel",
    ),
    Scope(
        "im:write",
        "conversations.open: the DMs pages, escalations and shift notices go to",
        "no DMs: the person paged is told only in the channel thread",
    ),
    Scope(
        "users:read",
        "required by Slack alongside users:read.email",
        "`oncall-bot members --resolve` cannot look members up",
    ),
    Scope(
        "users:read.email",
        "`oncall-bot members --resolve`: each member's Slack ID by email (users.lookupByEmail)",
        "`oncall-bot members --resolve` stops with missing_scope; put IDs in team.toml by hand",
    ),
    Scope(
        "usergroups:read",
        "reading the @data-oncall user groups to repair hand edits",
        "the @data-oncall groups cannot be read, so they are not kept equal to the schedule",
    ),
    Scope(
        "usergroups:write",
        "keeping the @data-oncall and @data-oncall-primary user groups equal to the schedule",
        "the @data-oncall groups are not created or updated: mentioning them reaches "
        "whoever was in them before",
    ),
    Scope(
        "channels:manage",
        "setting the team channel's topic to who is on call (public channel)",
        "the topic of a public team channel is not set",
    ),
    Scope(
        "groups:write",
        "setting the team channel's topic to who is on call (private channel)",
        "the topic of a private team channel is not set",
    ),
    Scope(
        "channels:read",
        "conversations.list and conversations.info: finding the team channel by name and "
        "reading its topic, to repair a hand edit (public channel)",
        "the topic of a public team channel is not kept: the channel cannot be found or read",
    ),
    Scope(
        "groups:read",
        "the same for a private team channel",
        "the topic of a private team channel is not kept: the channel cannot be found or read",
    ),
    Scope(
        "channels:history",
        "reading a page's thread and channel (conversations.history/replies): the outbox's "
        "sent-once check",
        "a message whose send got no answer is sent again without looking, so it may appear twice",
    ),
    Scope(
        "groups:history",
        "the outbox's sent-once check in private channels",
        "in private channels a message whose send got no answer may appear twice",
    ),
    Scope(
        "im:history",
        "the outbox's sent-once check in DMs",
        "a DM whose send got no answer may arrive twice",
    ),
)


def missing(granted: Iterable[str]) -> list[Scope]:
    """The needed scopes not in `granted`, in the table's order."""
    have = {g.strip() for g in granted}
    return [scope for scope in NEEDED if scope.name not in have]


def granted_scopes(headers: Mapping[str, object]) -> set[str] | None:
    """The scopes in a Web API answer's headers; None when Slack did not say (no header)."""
    for key, value in headers.items():
        if key.lower() == SCOPES_HEADER:
            return {s.strip() for s in str(value).split(",") if s.strip()}
    return None
