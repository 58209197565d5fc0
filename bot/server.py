"""The HTTP face of the bot: Slack's request URL, the health check, monitoring's alerts and
DAGs' run reports."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import (
    build_normalized_headers,
    extract_content_type,
    parse_query,
)

from bot.alerts_http import alerts_handler
from bot.calendar_http import calendar_handler
from bot.deps import Deps
from bot.http_guard import (
    MAX_BODY,
    Rejected,
    RejectionLog,
    parse_form,
    parse_json,
    read_body,
    utf8,
    verify_slack,
)
from bot.metrics import CONTENT_TYPE, PromMetrics
from bot.runs_http import runs_handler
from bot.slack.listeners.common import admit

log = logging.getLogger(__name__)
HEALTH_TIMEOUT = 1.0
BOLT_HEADERS = ("Content-Type", "X-Slack-Retry-Num", "X-Slack-Retry-Reason")


def _parse_slack_body(content_type: str, text: str) -> dict[str, Any]:
    """After authentication: the body as Bolt reads it (the form of a slash command, the
    payload of an interaction, the JSON of an event), once it holds a shape Slack sends.
    Parsed once here and handed to Bolt, which would otherwise parse it again."""
    if content_type == "application/json":
        body = parse_json(text)
        if not isinstance(body, dict):
            raise Rejected(400, "JSON body must be an object")
        return body
    form = parse_form(text)
    if "payload" in form:
        payload = parse_json(form["payload"], "payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise Rejected(400, "payload must be a JSON object with a type")
        actions = payload.get("actions")
        if actions is not None and not (
            isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
        ):
            raise Rejected(400, "payload.actions must be a list of objects")
        for key in ("user", "view", "message", "container", "channel"):
            if key in payload and not isinstance(payload[key], dict):
                raise Rejected(400, f"payload.{key} must be an object")
        return payload
    if "command" not in form and "ssl_check" not in form:
        raise Rejected(400, "not a Slack command or interaction")
    return form


def bolt_request(
    text: str, body: dict[str, Any], headers: dict[str, str | Sequence[str]], query: str
) -> AsyncBoltRequest:
    """The AsyncBoltRequest Bolt's constructor would build from `text`, from the body parsed
    already: the constructor parses its body again and builds a context from it, which a
    request built empty and then filled would build twice (issue #14).
    tests/test_http_parsing.py holds the two equal, attribute for attribute."""
    request = AsyncBoltRequest.__new__(AsyncBoltRequest)
    request.raw_body = text
    request.body = body
    request.query = parse_query(query)
    request.headers = build_normalized_headers(headers)
    request.content_type = extract_content_type(request.headers)
    request.context = build_async_context(AsyncBoltContext({}), body)
    # Bolt's own headers for re-invoking itself with a lazy listener (FaaS), which no
    # request from Slack carries and BOLT_HEADERS never passes on.
    request.lazy_only = False
    request.lazy_function_name = None
    request.mode = "http"
    return request


def build_web_app(deps: Deps, app: AsyncApp) -> web.Application:
    rejections = RejectionLog()
    secret = deps.settings.signing_secret

    async def slack_events(request: web.Request) -> web.Response:
        size = request.content_length or 0
        try:
            raw = await read_body(request)
            size = len(raw)
            # Authenticate before anything parses the body (Bolt parses before it verifies).
            verify_slack(secret, request.headers, raw, time.time())
            text = utf8(raw)
            body = _parse_slack_body(request.content_type, text)
        except Rejected as no:
            rejections.note(request.path, no.status, no.reason, size)
            return no.response()
        # The body parsed above, not Bolt's own parse: besides the second parse, Bolt reads
        # any form containing the word "payload" as an interaction and finds none, so
        # `/page growth-agg sev1 payload missing` would go unanswered (404).
        # Only the headers Bolt reads once the signature is checked: normalising them all
        # (a dozen from a proxy) on every request is wasted work.
        given = request.headers
        headers: dict[str, str | Sequence[str]] = {k: given[k] for k in BOLT_HEADERS if k in given}
        to_bolt = bolt_request(text, body, headers, request.query_string)
        refused = admit(deps, to_bolt.context, body)
        if refused is not None:
            return await to_aiohttp_response(refused)
        try:
            bolt_response = await app.async_dispatch(to_bolt)
        except Exception:
            # A signed but malformed payload Bolt cannot take apart: say so, no traceback.
            log.warning("Slack sent a request Bolt could not dispatch (%d bytes)", size)
            return Rejected(400, "malformed Slack request").response()
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(deps.redis.ping(), HEALTH_TIMEOUT)
        except Exception as exc:
            return web.json_response({"ok": False, "redis": f"unavailable: {exc}"}, status=503)
        return web.json_response({"ok": True, "redis": "ok"})

    # One registry per app (bot/metrics.py): build_deps made it; a Deps without one gets its own.
    metrics = deps.metrics if isinstance(deps.metrics, PromMetrics) else PromMetrics()

    async def metrics_handler(request: web.Request) -> web.Response:
        body = await metrics.scrape(deps.outbox, deps.incidents)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_handler)
    web_app.router.add_post("/alerts", alerts_handler(deps, rejections))
    web_app.router.add_post("/runs", runs_handler(deps, rejections))
    # Calendar feeds (?token=CALENDAR_TOKEN); the team's first, so `team` is never initials.
    web_app.router.add_get("/calendar/team.ics", calendar_handler(deps, rejections))
    web_app.router.add_get("/calendar/{who}.ics", calendar_handler(deps, rejections))
    return web_app
