"""The HTTP face of the bot: Slack's request URL, the health check (and, later, alerts)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.alerts_http import alerts_handler
from bot.deps import Deps

log = logging.getLogger(__name__)
HEALTH_TIMEOUT = 1.0


def build_web_app(deps: Deps, app: AsyncApp) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(deps.redis.ping(), HEALTH_TIMEOUT)
        except Exception as exc:
            return web.json_response({"ok": False, "redis": f"unavailable: {exc}"}, status=503)
        return web.json_response({"ok": True, "redis": "ok"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_post("/alerts", alerts_handler(deps))
    return web_app
