"""`oncall-bot serve | check | members | console | export | outbox`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.clock import FakeClock, SystemClock
from bot.config import ConfigError, TeamConfig, load_config
from bot.domain.calendar import HolidayCalendar
from bot.domain.durations import human_duration
from bot.domain.runbook import Runbook, RunbookError, load_runbooks, validate_runbooks
from bot.domain.schedule import week_bounds, week_start, week_views
from bot.settings import (
    ENV,
    SOCKET_MODE_SIGNING_SECRET,
    Settings,
    SettingsError,
    settings_from_env,
)

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger("oncall-bot")


def _fail(message: str, code: int = 2) -> int:
    print(f"oncall-bot: {message}", file=sys.stderr)
    return code


def _config_dir(env: dict[str, str]) -> Path:
    return Path(env.get(ENV["config_dir"]) or "schedules")


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
        lines.append(f"  {slug:<15} {len(runbook.steps):>2} steps  {runbook.source}")
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
    lines += ["", f"Rotation cycle ({len(cfg.rotation.weeks)} weeks, {cfg.rotation.zone})"]
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


# Slack's answers to auth.test that mean the token itself is wrong: no point starting.
BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})


async def check_token(client: Any) -> str | None:
    """auth.test at start-up: an error line when the token is refused. Slack being out of
    reach is only a warning: the outbox holds messages until it is back."""
    from slack_sdk.errors import SlackApiError

    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error"))
        if code in BAD_TOKEN:
            return f"SLACK_BOT_TOKEN was refused by Slack (auth.test: {code})"
        log.warning("auth.test failed (%s); starting anyway", code)
        return None
    except Exception as exc:
        log.warning("could not reach Slack for auth.test (%r); starting anyway", exc)
        return None
    log.info("Slack token OK: bot %s in team %s", resp.get("user_id"), resp.get("team"))
    return None


async def check_app_token(client: Any, app_token: str) -> str | None:
    """Why Socket Mode cannot connect, or None. Asked once before connecting, because
    slack_sdk retries a refused app token every 10 s forever, so `serve` would hang."""
    from slack_sdk.errors import SlackApiError

    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        return (
            f"SLACK_APP_TOKEN was refused by Slack ({error}): use the app-level token "
            "(xapp-…) with the connections:write scope, from the app's Basic Information page."
        )
    except Exception as exc:
        return f"could not reach Slack to open a Socket Mode connection: {exc}"
    return None


async def _serve(settings: Settings, embedded_store: bool) -> int:
    from aiohttp import web

    from bot.app import build_app
    from bot.deps import build_deps
    from bot.runtime import background_jobs, delivery_pool, run_forever
    from bot.server import build_web_app
    from bot.store.connection import connect, embedded

    redis = (
        embedded()
        if embedded_store
        else connect(
            str(settings.redis_url), settings.redis_max_connections, settings.redis_pool_timeout
        )
    )
    deps = build_deps(settings, redis, SystemClock())
    app = build_app(deps)
    problem = await check_token(app.client)
    if problem is None and settings.app_token:
        problem = await check_app_token(app.client, settings.app_token)
    if problem is not None:
        await redis.aclose()
        return _fail(problem)
    # The access log is off unless asked for (ONCALL_ACCESS_LOG): a line per request is
    # what forged traffic would fill the log with, and it is a fifth of the CPU under load.
    access = logging.getLogger("aiohttp.access") if settings.access_log else None
    runner = web.AppRunner(build_web_app(deps, app), access_log=access)
    jobs = background_jobs(deps)
    pool = delivery_pool(deps, app.client)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()
    log.info("listening on :%s (POST /slack/events, GET /healthz, GET /metrics)", settings.port)
    tasks = [asyncio.create_task(run_forever(deps, jobs, pool))]
    handler = None
    if settings.app_token:
        handler = await connect_socket_mode(app, settings.app_token)
        log.info("connected in Socket Mode")
    try:
        await asyncio.Event().wait()
    finally:
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        for task in tasks:
            task.cancel()
        await runner.cleanup()
    return 0


async def connect_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Socket Mode as `serve` runs it (tests/e2e/test_socket_mode.py drives this one): the
    WebSocket URL comes from apps.connections.open on the app's client, so SLACK_API_URL
    points both at the same Slack. Returns the handler, to close_async() at shutdown."""
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    return handler


def cmd_serve(env: dict[str, str], embedded_store: bool) -> int:
    try:
        settings = settings_from_env(env)
    except SettingsError as exc:
        return _fail(str(exc))
    if not settings.redis_url and not embedded_store:
        return _fail(
            "REDIS_URL is not set: point it at a Redis with persistence, or pass "
            "--embedded-store to keep state in memory (lost on exit)"
        )
    if embedded_store:
        log.warning("embedded store: all state (incidents, swaps, checklists) is lost on exit")
    try:
        cfg = load_config(Path(settings.config_dir))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))
    if Path(settings.runbooks_dir).is_dir():
        try:
            load_runbooks(Path(settings.runbooks_dir))
        except RunbookError as exc:
            return _fail(f"bad runbook: {exc} (run `oncall-bot check`)")
    # What `oncall-bot check` warns of (members without a slack_id, undated holidays):
    # the bot runs, but someone should know.
    for line in check_warnings(cfg, datetime.now(UTC)):
        log.warning("%s", line)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(settings, embedded_store))
    return 0


# users.lookupByEmail's own scope; Slack names it in `needed` when the token lacks it.
EMAIL_SCOPE = "users:read.email"


def render_members(cfg: TeamConfig) -> str:
    """`oncall-bot members`: the roster as team.toml has it."""
    lines = [f"Roster ({len(cfg.members)} members)"]
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

    lines = [f"Looking up {len(cfg.members)} members by email (users.lookupByEmail)"]
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


def members_client(settings: Settings) -> Any:
    """The client `serve` uses (token, base URL, timeout), retrying after a 429: a CLI run
    may wait, and users.lookupByEmail is rate-limited (Tier 3)."""
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

    from bot.app import build_client

    client = build_client(settings)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


def _client_settings(env: dict[str, str]) -> Settings:
    # Only the bot token is used: the signing secret is not needed to call the Web API.
    return settings_from_env(
        env, signing_secret=env.get(ENV["signing_secret"]) or SOCKET_MODE_SIGNING_SECRET
    )


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


def _ask_slack(
    settings: Settings,
    ask: Callable[[Any], Awaitable[tuple[str, int]]],
    out: Any,
    lead: str = "",
) -> int:
    """Run one CLI question to Slack on the serve client; print its answer (exit 0 or 1) or
    fail with it (exit 2)."""

    async def run() -> tuple[str, int]:
        client = members_client(settings)
        try:
            return await ask(client)
        finally:
            session = getattr(client, "session", None)
            if session is not None:
                await session.close()

    text, code = asyncio.run(run())
    if code == 2:
        return _fail(text)
    print(lead + text, file=out)
    return code


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


async def _console(env: dict[str, str], at: str | None) -> int:
    from bot.console import Console, run_console
    from bot.devtools.harness import Harness
    from bot.domain.timeparse import TimeParseError, parse_instant
    from bot.store.connection import embedded

    try:
        cfg = load_config(_config_dir(env))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))
    start = datetime.now(UTC)
    if at:
        try:
            start = parse_instant(at, start, cfg.zone)[0]
        except TimeParseError as exc:
            return _fail(str(exc))
    clock = FakeClock(start)
    overrides: dict[str, Any] = {"config_dir": _config_dir(env)}
    if env.get(ENV["runbooks_dir"]):
        overrides["runbooks_dir"] = Path(env[ENV["runbooks_dir"]])
    harness = await Harness(embedded(), clock, cfg, settings_overrides=overrides).start()
    assert harness.deps is not None and harness.app is not None
    try:
        await run_console(Console(harness, clock, cfg, tickers=[harness.run_jobs]))
    finally:
        await harness.stop()
    return 0


async def export_text(redis: Any, cfg: TeamConfig, now: datetime) -> str:
    from bot.domain.swap_export import export_toml
    from bot.store import keys
    from bot.store.outbox import Outbox
    from bot.store.swaps import SwapStore

    store = SwapStore(redis, Outbox(redis))
    swaps, ptos = await store.everything(), await store.all_ptos()
    return export_toml(swaps, ptos, cfg.zone, now, keys.SWAPS_AUDIT)


async def rca_export(rcas: Any, incidents: Any, incident_id: str) -> str:
    """The RCA as Markdown, its timeline drawn from the incident's log unless written."""
    from bot.services.rcas import parse_incident_id

    iid = parse_incident_id(incident_id)
    return str(await rcas.markdown(iid, await incidents.events(iid)))


async def _rca_text(redis: Any, cfg: TeamConfig, incident_id: str) -> str:
    from bot.clock import SystemClock
    from bot.domain.calendar import HolidayCalendar
    from bot.services.rcas import RcaService
    from bot.store.incidents import IncidentStore
    from bot.store.outbox import Outbox
    from bot.store.rcas import RcaStore

    outbox = Outbox(redis)
    store = RcaStore(redis, outbox, cfg.policy.retention)
    rcas = RcaService(cfg, HolidayCalendar(cfg.policy.holidays), store, SystemClock())
    return await rca_export(rcas, IncidentStore(redis, cfg.policy.retention, outbox), incident_id)


def cmd_export(env: dict[str, str], rca: str | None = None, out: Any = sys.stdout) -> int:
    from bot.services.rcas import RcaError
    from bot.store.connection import connect

    url = env.get(ENV["redis_url"])
    if not url:
        return _fail("REDIS_URL is not set: export reads swaps, PTO and RCAs from that Redis")
    try:
        cfg = load_config(_config_dir(env))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))

    async def run() -> str:
        redis = connect(url)
        try:
            if rca is not None:
                return await _rca_text(redis, cfg, rca)
            return await export_text(redis, cfg, datetime.now(UTC))
        finally:
            await redis.aclose()

    try:
        print(asyncio.run(run()), end="", file=out)
    except RcaError as exc:
        return _fail(str(exc))
    return 0


async def outbox_report(redis: Any, requeue: str | None, now: datetime) -> str:
    """What `oncall-bot outbox` prints: queue depths and dead letters; re-queues on request."""
    from bot.domain.notices import load
    from bot.store.outbox import Outbox

    outbox = Outbox(redis)
    lines = []
    if requeue:
        back = await outbox.requeue_dead(None if requeue == "all" else [requeue], now)
        lines.append(f"re-queued {len(back)}: {', '.join(back) or 'none'}")
    dead = await outbox.dead()
    lines.append(
        f"outbox: {await outbox.pending()} queued; {len(dead)} dead letters "
        f"({await outbox.dead_total()} parked since the start)"
    )
    for nid, at, raw in dead:
        parked = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        what = "payload expired"
        if raw is not None:
            try:
                what = load(raw).model_dump_json(exclude={"id"})
            except ValueError:
                what = raw[:200]
        lines.append(f"  {nid}  parked {parked}  {what}")
    if dead:
        lines.append("re-queue with `oncall-bot outbox --requeue <id>` or `--requeue all`")
    return "\n".join(lines)


def cmd_outbox(env: dict[str, str], requeue: str | None, out: Any = sys.stdout) -> int:
    from bot.store.connection import connect

    url = env.get(ENV["redis_url"])
    if not url:
        return _fail("REDIS_URL is not set: the outbox lives in that Redis")

    async def run() -> str:
        redis = connect(url)
        try:
            return await outbox_report(redis, requeue, datetime.now(UTC))
        finally:
            await redis.aclose()

    print(asyncio.run(run()), file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oncall-bot", description=__doc__)
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
    console.add_argument("--at", help="start the virtual clock at this time (IST)")
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


if __name__ == "__main__":
    sys.exit(main())
