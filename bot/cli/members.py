"""`oncall-bot members [--resolve]`: the roster, and its Slack IDs looked up by email as
the [[members]] to paste into team.toml."""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from typing import Any

from bot.cli.common import BAD_TOKEN, _ask_slack, _client_settings, _config_dir, _fail
from bot.config import ConfigError, TeamConfig, load_config
from bot.domain.timefmt import plural
from bot.settings import SettingsError

# users.lookupByEmail's own scope; Slack names it in `needed` when the token lacks it.
EMAIL_SCOPE = "users:read.email"


def render_members(cfg: TeamConfig) -> str:
    """`oncall-bot members`: the roster as team.toml has it."""
    lines = [f"Roster ({plural(len(cfg.members), 'member')})"]
    lines.append(f"  {'':<4} {'Name':<16} {'slack_id':<12} {'Email':<32} Zone")
    for m in cfg.members:
        lines.append(
            f"  {m.initials:<4} {m.name:<16} {m.slack_id or '-':<12} {m.email or '-':<32} {m.tz}"
        )
    lines.append(
        "\nThe slack_id values shipped in schedules/team.toml are placeholders: "
        "`oncall-bot members --resolve` looks each email up in Slack (users.lookupByEmail), "
        "flags IDs that differ and prints the [[members]] to paste."
    )
    return "\n".join(lines)


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def members_toml(
    cfg: TeamConfig, ids: dict[str, str | None], unresolved: Collection[str] = ()
) -> str:
    """team.toml's [[members]] with `ids` (initials → slack_id; None: leave it out); an
    `unresolved` member keeps the file's slack_id under a comment saying so."""
    blocks = []
    for m in cfg.members:
        lines = ["[[members]]"]
        if m.initials in unresolved:
            lines.append("# not found in Slack by email: slack_id kept from team.toml")
        lines.append(f"initials = {_toml_str(m.initials)}")
        lines.append(f"name = {_toml_str(m.name)}")
        slack_id = ids.get(m.initials, m.slack_id)
        if slack_id:
            lines.append(f"slack_id = {_toml_str(slack_id)}")
        if m.email:
            lines.append(f"email = {_toml_str(m.email)}")
        lines.append(f"tz = {_toml_str(str(m.tz))}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _missing_scope(resp: Any) -> str:
    needed = str(resp.get("needed") or EMAIL_SCOPE)
    provided = resp.get("provided")
    has = f" (the token has: {provided})" if provided else ""
    return (
        f"users.lookupByEmail needs the {needed} scope{has}: add it under OAuth & Permissions "
        "→ Bot Token Scopes (slack-app-manifest.yml lists it) and reinstall the app to the "
        "workspace"
    )


async def resolve_members(
    client: Any, cfg: TeamConfig, team_file: str = "schedules/team.toml"
) -> tuple[str, int]:
    """`oncall-bot members --resolve`: each member's Slack ID by email, compared with
    team.toml, then the [[members]] to paste. Exit code 0 when the file already matches
    Slack, 1 when it needs changing or a lookup failed, 2 when the token cannot look up."""
    from slack_sdk.errors import SlackApiError

    lines = [f"Looking up {plural(len(cfg.members), 'member')} by email (users.lookupByEmail)"]
    ids: dict[str, str | None] = {}
    differ: list[str] = []
    unresolved: list[str] = []
    for m in cfg.members:
        who = f"  {m.initials:<4} {m.name:<16} {m.email or '-':<32}"
        if not m.email:
            lines.append(f"{who} no email in team.toml: slack_id {m.slack_id} kept as it is")
            continue
        try:
            resp = await client.users_lookupByEmail(email=m.email)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if code == "missing_scope":
                return _missing_scope(exc.response), 2
            if code in BAD_TOKEN:
                return f"SLACK_BOT_TOKEN was refused by Slack (users.lookupByEmail: {code})", 2
            unresolved.append(m.initials)
            if code == "users_not_found":
                lines.append(
                    f"{who} NOT FOUND (users_not_found): no member of this workspace has this "
                    f"email; fix the email in team.toml or invite them"
                    + (f" (slack_id {m.slack_id} kept)" if m.slack_id else "")
                )
            else:
                lines.append(f"{who} lookup failed ({code})")
            continue
        user = resp.get("user") or {}
        found = str(user.get("id") or "")
        ids[m.initials] = found
        note = ""
        if user.get("deleted"):
            note = "  (this Slack account is deactivated: pages cannot reach it)"
        if m.slack_id == found:
            lines.append(f"{who} {found:<12} matches team.toml{note}")
        elif not m.slack_id:
            differ.append(m.initials)
            lines.append(f"{who} {found:<12} MISSING from team.toml (no slack_id){note}")
        else:
            differ.append(m.initials)
            lines.append(f"{who} {found:<12} DIFFERS: team.toml has {m.slack_id}{note}")
    summary = []
    if differ:
        summary.append(f"{len(differ)} slack_id to change ({', '.join(differ)})")
    if unresolved:
        summary.append(f"{len(unresolved)} not resolved ({', '.join(unresolved)})")
    lines += ["", "; ".join(summary) if summary else "team.toml matches Slack"]
    lines += [
        "",
        f"# Paste into {team_file} (replacing its [[members]]):",
        "",
        members_toml(cfg, ids, unresolved),
    ]
    return "\n".join(lines), 1 if differ or unresolved else 0


def cmd_members(env: dict[str, str], resolve: bool, out: Any = sys.stdout) -> int:
    try:
        cfg = load_config(_config_dir(env))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))
    if not resolve:
        print(render_members(cfg), file=out)
        return 0
    try:
        settings = _client_settings(env)
    except SettingsError as exc:
        return _fail(str(exc))

    async def run(client: Any) -> tuple[str, int]:
        try:
            return await resolve_members(client, cfg, str(_config_dir(env) / "team.toml"))
        except Exception as exc:  # aiohttp / DNS / timeout: Slack out of reach
            return f"could not reach Slack at {settings.slack_api_url} ({exc!r})", 2

    return _ask_slack(settings, run, out)
