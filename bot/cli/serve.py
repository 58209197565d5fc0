"""`oncall-bot serve`: check the tokens, then run the bot over HTTP and, with an app
token, Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.check import check_warnings
from bot.cli.common import BAD_TOKEN, _fail, log
from bot.clock import SystemClock
from bot.config import ConfigError, TeamConfig, load_config
from bot.config.runbooks import load_runbooks
from bot.domain.runbook import Runbook, RunbookError
from bot.launch import settle_gc
from bot.settings import Settings, SettingsError, settings_from_env

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp

    from bot.deps import Deps


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


BACKGROUND_AFTER = 0.25  # seconds after the port opens (see _background)


async def _serve(
    settings: Settings,
    embedded_store: bool,
    cfg: TeamConfig | None = None,
    runbooks: dict[str, Runbook] | None = None,
) -> int:
    """`cfg` and `runbooks` as cmd_serve loaded and checked them (loaded once, not twice)."""
    from aiohttp import web

    from bot.app import build_app, build_client, slack_session
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
    deps = build_deps(settings, redis, SystemClock(), cfg, runbooks)
    session = slack_session(settings)
    app = build_app(deps, build_client(settings, session))
    problem = await check_token(app.client)
    if problem is None and settings.app_token:
        problem = await check_app_token(app.client, settings.app_token)
    if problem is not None:
        await session.close()
        await redis.aclose()
        log_check_warnings(deps.config)  # whoever fixes the token should see these too
        return _fail(problem)
    # The access log is off unless asked for (ONCALL_ACCESS_LOG): a line per request is
    # what forged traffic would fill the log with, and it is a fifth of the CPU under load.
    access = logging.getLogger("aiohttp.access") if settings.access_log else None
    runner = web.AppRunner(build_web_app(deps, app), access_log=access)
    jobs = background_jobs(deps)
    pool = delivery_pool(deps, app.client)
    await runner.setup()
    settle_gc()
    await web.TCPSite(runner, "0.0.0.0", settings.port).start()
    log.info("listening on :%s (POST /slack/events, GET /healthz, GET /metrics)", settings.port)
    tasks = [asyncio.create_task(_background(deps, run_forever(deps, jobs, pool)))]
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
        await session.close()
    return 0


async def _background(deps: Deps, jobs: Coroutine[Any, Any, None]) -> None:
    """The background jobs and after_start, BACKGROUND_AFTER seconds after the port opened.
    Their first run (a sweep of every housekeeping job, the holiday tables) holds the loop
    for tens of milliseconds; the requests that arrive as the port opens,
    the health check among them, go first. A quarter second is nothing to a reminder,
    and an overdue rung after a restart was already late by the restart."""
    try:
        await asyncio.sleep(BACKGROUND_AFTER)
    except asyncio.CancelledError:
        jobs.close()
        raise
    warm = asyncio.create_task(asyncio.to_thread(after_start, deps))
    try:
        await jobs
    finally:
        warm.cancel()


def after_start(deps: Deps) -> None:
    """Once `serve` listens, on a thread: what `oncall-bot check` warns of (members without a
    slack_id, undated holidays), since the bot runs but someone should know; and the holiday
    library loaded, which the first schedule answer would otherwise wait for. Both read the
    holiday tables, a third of start-up, so neither holds /healthz back (issue #14)."""
    log_check_warnings(deps.config)
    deps.calendar.warm()


def log_check_warnings(cfg: TeamConfig) -> None:
    for line in check_warnings(cfg, datetime.now(UTC)):
        log.warning("%s", line)


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
    runbooks: dict[str, Runbook] = {}
    if Path(settings.runbooks_dir).is_dir():
        try:
            runbooks = load_runbooks(Path(settings.runbooks_dir))
        except RunbookError as exc:
            return _fail(f"bad runbook: {exc} (run `oncall-bot check`)")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(settings, embedded_store, cfg, runbooks))
    return 0
