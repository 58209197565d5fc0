"""`oncall-bot serve | check | members | console | export | outbox`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from bot.cli.check import (
    PLACEHOLDER_SLACK_IDS,
    check_files,
    check_slack,
    check_warnings,
    cmd_check,
    email_line,
    render_check,
    render_runbooks,
    scopes_report,
)
from bot.cli.common import BAD_TOKEN, members_client
from bot.cli.members import EMAIL_SCOPE, cmd_members, members_toml, render_members, resolve_members
from bot.cli.ops import _console, cmd_export, cmd_outbox, export_text, outbox_report, rca_export
from bot.cli.serve import check_app_token, check_token, cmd_serve, connect_socket_mode
from bot.settings import ENV

__all__ = [
    "BAD_TOKEN",
    "EMAIL_SCOPE",
    "PLACEHOLDER_SLACK_IDS",
    "check_app_token",
    "check_files",
    "check_slack",
    "check_token",
    "check_warnings",
    "cmd_check",
    "cmd_export",
    "cmd_members",
    "cmd_outbox",
    "cmd_serve",
    "connect_socket_mode",
    "email_line",
    "export_text",
    "main",
    "members_client",
    "members_toml",
    "outbox_report",
    "rca_export",
    "render_check",
    "render_members",
    "render_runbooks",
    "resolve_members",
    "scopes_report",
]


# `oncall-bot --help` lists only the subcommand names, not their options, so every form is
# spelled out here with an example; tests/test_cli_help.py checks it against the parser.
EPILOG = """subcommands, one line each with an example:
  serve [--embedded-store]    run the bot (HTTP on $PORT, or Socket Mode): `oncall-bot serve`
  check [--slack]             validate config, runbooks (and token): `oncall-bot check --slack`
  members [--resolve]         the roster's Slack IDs: `oncall-bot members --resolve`
  console [--at TIME]         the bot in a terminal: `oncall-bot console --at "2025-10-20 09:00"`
  export [--rca INC-7]        swaps and PTO as TOML, or an RCA: `oncall-bot export --rca INC-7`
  outbox [--requeue ID|all]   undeliverable notices: `oncall-bot outbox --requeue all`

`oncall-bot <subcommand> --help` describes one subcommand's options."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oncall-bot",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the bot (HTTP on $PORT, or Socket Mode)")
    serve.add_argument("--embedded-store", action="store_true", help="in-memory fakeredis")
    check = sub.add_parser(
        "check", help="validate the configuration and runbooks; print the schedule"
    )
    check.add_argument(
        "--slack",
        action="store_true",
        help="also ask Slack (auth.test) whether SLACK_BOT_TOKEN works and has every scope",
    )
    members = sub.add_parser("members", help="list the roster and its Slack IDs")
    members.add_argument(
        "--resolve",
        action="store_true",
        help="look each member up in Slack by email; print the slack_id values for team.toml",
    )
    console = sub.add_parser("console", help="try the bot in a terminal, no Slack needed")
    console.add_argument(
        "--at",
        help="start the virtual clock at this time (in the rotation zone, `zone` in "
        "schedules/rotation.toml, unless a zone is given)",
    )
    export = sub.add_parser(
        "export", help="print swaps and PTO from $REDIS_URL as TOML, or an RCA as Markdown"
    )
    export.add_argument("--rca", metavar="INC-7", help="print this incident's RCA as Markdown")
    outbox = sub.add_parser("outbox", help="list undeliverable notices; re-queue them")
    outbox.add_argument("--requeue", metavar="ID|all", help="put a dead letter (or all) back")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    env = dict(os.environ)
    if args.cmd == "serve" and env.get(ENV["log_format"]) == "json":
        # Any other value is left to cmd_serve, which refuses it with the other settings.
        from bot.logjson import use_json_logs

        use_json_logs()
    if args.cmd == "check":
        return cmd_check(env, slack=args.slack)
    if args.cmd == "serve":
        return cmd_serve(env, args.embedded_store)
    if args.cmd == "members":
        return cmd_members(env, args.resolve)
    if args.cmd == "export":
        return cmd_export(env, args.rca)
    if args.cmd == "outbox":
        return cmd_outbox(env, args.requeue)
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(_console(env, args.at))
