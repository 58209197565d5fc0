"""`oncall-bot check [--slack]`: validate the configuration and runbooks, print the
schedule and what will surprise someone; with --slack, the token and its scopes."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli.common import BAD_TOKEN, _ask_slack, _client_settings, _config_dir, _fail
from bot.config import ConfigError, TeamConfig, load_config
from bot.config.runbooks import load_runbooks, validate_runbooks
from bot.domain.calendar import HolidayCalendar
from bot.domain.durations import human_duration
from bot.domain.runbook import Runbook, RunbookError
from bot.domain.schedule import week_bounds, week_start, week_views
from bot.domain.timefmt import plural
from bot.settings import ENV, SettingsError


def cmd_check(env: dict[str, str], out: Any = sys.stdout, slack: bool = False) -> int:
    """`oncall-bot check [--slack]`: the configuration and runbooks, then with --slack the
    token and its scopes; the exit code is the worse of the two."""
    code = check_files(env, out)
    if slack:
        code = max(code, check_slack(env, out))
    return code


def check_files(env: dict[str, str], out: Any = sys.stdout) -> int:
    directory = _config_dir(env)
    try:
        cfg = load_config(directory)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    runbooks_dir = Path(env.get(ENV["runbooks_dir"]) or "runbooks")
    try:
        runbooks = load_runbooks(runbooks_dir)
    except (RunbookError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    problems = validate_runbooks(runbooks, (p.slug for p in cfg.pipelines), cfg.policy.dashboards)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(render_check(cfg, datetime.now(UTC)), file=out)
    print("\n" + render_runbooks(runbooks), file=out)
    print("\n" + email_line(env, cfg), file=out)
    warnings = check_warnings(cfg, datetime.now(UTC))
    if warnings:
        print("\nWarnings", file=out)
        for line in warnings:
            print(f"  ⚠ {line}", file=out)
    return 0


def email_line(env: dict[str, str], cfg: TeamConfig) -> str:
    """Whether incident and RCA emails go out, and to whom (no connection is made)."""
    from bot.mail import EMAIL_OFF, parse_smtp_url

    url = env.get(ENV["smtp_url"])
    if not url:
        return EMAIL_OFF
    try:
        smtp = parse_smtp_url(url)
    except ValueError as exc:
        return f"email: SMTP_URL is not valid: {exc}"
    return f"email: on, through {smtp.display}, to {', '.join(cfg.policy.email_to)}"


# The slack_id values shipped in schedules/team.toml: no real workspace has them, so a team
# that deployed without replacing them would page nobody.
PLACEHOLDER_SLACK_IDS = frozenset({"U0AMEHTA01", "U0PRRAO002", "U0CHENWU03", "U0SKAPOOR4"})


def check_warnings(cfg: TeamConfig, now: datetime) -> list[str]:
    """What works but will surprise someone: members no page can reach, holidays the
    library cannot date within the next 52 weeks."""
    out = []
    shipped = [m for m in cfg.members if m.slack_id in PLACEHOLDER_SLACK_IDS]
    if shipped:
        who = ", ".join(f"{m.initials} ({m.name}, {m.slack_id})" for m in shipped)
        out.append(
            f"team.toml still has the placeholder slack_id shipped with the bot for {who}: "
            "pages and DMs to them reach no one in your workspace; `oncall-bot members "
            "--resolve` looks the real IDs up by email and prints the [[members]] to paste"
        )
    for m in cfg.members:
        if not m.slack_id:
            out.append(
                f"{m.initials} ({m.name}) has no slack_id: pages cannot reach them (the thread "
                "will say so and the next rung fires at once); `oncall-bot members --resolve` "
                "finds IDs by email"
            )
    cal = HolidayCalendar(cfg.policy.holidays)
    first, last = (
        now.astimezone(cfg.zone).year,
        (now + timedelta(weeks=52)).astimezone(cfg.zone).year,
    )
    for year in range(first, last + 1):
        unknown = cal.unknown_critical(year)
        if unknown:
            out.append(
                f"the holiday library has no {year} date for {', '.join(unknown)}: no "
                f"critical-holiday exchange will happen that year unless you add it to "
                "[holidays] extra in policy.toml"
            )
    return out


def render_runbooks(runbooks: dict[str, Runbook]) -> str:
    lines = [f"Runbooks ({len(runbooks)})"]
    for slug, runbook in sorted(runbooks.items()):
        steps = plural(len(runbook.steps), "step")
        lines.append(f"  {slug:<15} {steps:>8}  {runbook.source}")
    return "\n".join(lines)


def render_check(cfg: TeamConfig, now: datetime) -> str:
    zone = cfg.zone
    cal = HolidayCalendar(cfg.policy.holidays)
    lines = ["Roster"]
    for m in cfg.members:
        lines.append(f"  {m.initials:<4} {m.name:<16} {m.slack_id or '-':<12} {m.email or '-'}")
    lines += ["", "Pipelines"]
    for p in cfg.pipelines:
        d = p.deadline
        due = f" due {d.due:%H:%M}" if d and d.due else ""
        if d and d.max_gap:  # rolling: a delivery at least every max_gap in the window
            due = f" delivered every {human_duration(d.max_gap)}"
            due += f" {d.window.start:%H:%M}–{d.window.end:%H:%M}" if d.window else ""
        lines.append(
            f"  {p.slug:<15} {p.name:<24} {p.type.value:<10} primary {p.primary} "
            f"secondary {p.secondary} {p.channel}{due}"
        )
    lines += [
        "",
        f"Rotation cycle ({plural(len(cfg.rotation.weeks), 'week')}, {cfg.rotation.zone})",
    ]
    lines.append(f"  {'Week #':<7} {'Dates (Mon→Mon)':<25} {'Primary':<8} Backup")
    for i, row in enumerate(cfg.rotation.weeks):
        start, end = week_bounds(cfg, i)
        lines.append(
            f"  {i + 1:<7} {start:%Y-%m-%d} → {end:%Y-%m-%d}   {row.primary:<8} {row.backup}"
        )
    first = week_start(cfg, max(now, cfg.rotation.start_at))[0]
    lines += [
        "",
        f"Next 8 weeks (from {max(now, cfg.rotation.start_at).astimezone(zone):%Y-%m-%d})",
    ]
    lines.append(f"  {'Cycle':<7} {'Dates (Mon→Mon)':<25} {'Primary':<8} Backup   Notes")
    for w in week_views(cfg, cal, first, 8):
        notes = "; ".join(w.annotations)
        lines.append(
            f"  {w.cycle_week:<7} {w.start:%Y-%m-%d} → {w.end:%Y-%m-%d}   {w.primary:<8} "
            f"{w.backup:<8} {notes}".rstrip()
        )
    return "\n".join(lines)


async def scopes_report(client: Any, api_url: str) -> tuple[str, int]:
    """`oncall-bot check --slack`: auth.test, then the scopes the bot needs that the token
    lacks (Slack lists those granted in a header of every answer). Exit code 0 when all are
    granted, 1 when some are missing, 2 when Slack refused the token or could not be asked."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.scopes import NEEDED, SCOPES_HEADER, granted_scopes, missing

    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error"))
        if code in BAD_TOKEN:
            return f"SLACK_BOT_TOKEN was refused by Slack (auth.test: {code})", 2
        status = exc.response.status_code
        return f"auth.test at {api_url} failed: {code} (HTTP {status})", 2
    except Exception as exc:  # aiohttp / DNS / timeout
        return f"could not reach Slack at {api_url} ({exc!r})", 2
    granted = granted_scopes(resp.headers)
    if granted is None:
        return (
            f"Slack's answer to auth.test at {api_url} has no {SCOPES_HEADER} header, so the "
            "token's scopes are unknown (a proxy in between may drop it)"
        ), 2
    lines = [
        "Slack",
        f"  token OK: bot {resp.get('user')} ({resp.get('user_id')}) in team {resp.get('team')}",
    ]
    gone = missing(granted)
    if not gone:
        lines.append(f"  all {len(NEEDED)} scopes granted")
        return "\n".join(lines), 0
    for scope in gone:
        lines.append(f"  missing {scope.name}: {scope.without}")
    lines.append(
        f"  {len(gone)} of {len(NEEDED)} scopes missing: add them under OAuth & Permissions → "
        "Bot Token Scopes (slack-app-manifest.yml lists them all) and reinstall the app"
    )
    return "\n".join(lines), 1


def check_slack(env: dict[str, str], out: Any = sys.stdout) -> int:
    try:
        settings = _client_settings(env)
    except SettingsError as exc:
        return _fail(str(exc))

    async def run(client: Any) -> tuple[str, int]:
        return await scopes_report(client, settings.slack_api_url)

    return _ask_slack(settings, run, out, lead="\n")
