"""The baseline for issue #14: a bare slack-bolt AsyncApp answering `/oncall` with a constant.

    SLACK_BOT_TOKEN=xoxb-x SLACK_SIGNING_SECRET=s SLACK_API_URL=http://127.0.0.1:9/api/ \
        PORT=3001 .venv/bin/python bench/bare_bolt.py

Served the way `oncall-bot serve` serves the bot (bot/cli/serve.py `_serve`, bot/server.py): the
same environment variables (PORT, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL,
ONCALL_ACCESS_LOG), an AsyncApp with the same client settings and process_before_response,
Bolt's own signature check, `POST /slack/events` through Bolt's aiohttp adapter, a
web.Application with the bot's client_max_size, an AppRunner with the access log off unless
ONCALL_ACCESS_LOG is set, a TCPSite on 0.0.0.0 and the CLI's logging setup. `GET /healthz`
answers at once (there is no Redis to ping). What is left out is everything the bot adds:
settings validation, config and runbooks, Redis, the pre-Bolt guard, listeners, background
jobs. The difference between the two is what bench/compare_oncall.py and bench/startup.py
measure.

Deliberately imports nothing from `bot` but one constant, so its start-up time is that of
slack-bolt and aiohttp alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

# bot/http_guard.py's body limit, the serve app's client_max_size (the module is light:
# aiohttp and the standard library).
from bot.http_guard import MAX_BODY

# What `/oncall now` answers, in the shape the bot's reply has (an ephemeral text), so the
# two send bodies of a similar kind; the load generator checks the word "Primary".
ANSWER = "Primary on call now: PR (Priya Rao), backup CW (Chen Wu). (bare Bolt constant)"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SLACK_TIMEOUT = 10  # bot/settings.py's default SLACK_TIMEOUT_SECONDS


def truthy(value: str | None) -> bool:
    # The spellings pydantic accepts as true for Settings.access_log.
    return (value or "").strip().lower() in {"1", "true", "yes", "on", "t", "y"}


def build_bolt(env: dict[str, str]) -> AsyncApp:
    # As bot/app.py builds the bot's: same client arguments, same process_before_response.
    client = AsyncWebClient(
        token=env["SLACK_BOT_TOKEN"],
        base_url=env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        timeout=SLACK_TIMEOUT,
        retry_handlers=[],
    )
    app = AsyncApp(
        client=client,
        signing_secret=env["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @app.command("/oncall")
    async def oncall(ack: AsyncAck) -> None:
        await ack(text=ANSWER, response_type="ephemeral")

    return app


def build_web_app(app: AsyncApp) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app


async def serve(env: dict[str, str]) -> None:
    port = int(env.get("PORT") or 3000)
    access = logging.getLogger("aiohttp.access") if truthy(env.get("ONCALL_ACCESS_LOG")) else None
    runner = web.AppRunner(build_web_app(build_bolt(env)), access_log=access)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    logging.getLogger("bare-bolt").info("listening on :%s (POST /slack/events)", port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    # bot/cli/__init__.py's logging setup.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(dict(os.environ)))


if __name__ == "__main__":
    main()
