"""Build the Bolt AsyncApp and its Web API client from settings."""

from __future__ import annotations

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.settings import Settings
from bot.slack.listeners import register_all


def slack_session(settings: Settings) -> aiohttp.ClientSession:
    """The session build_client's calls share. With its own session slack_sdk sets the call
    timeout on that session, so a session given to it must carry the timeout itself."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=max(1, settings.slack_timeout))
    )


def build_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """`session` (slack_session's): one aiohttp session for every call, so calls reuse
    their connections.
    Without it slack_sdk opens a session, and a connection (a TLS handshake with Slack),
    per call and closes it after; `serve` and the harness pass one and close it on exit."""
    # No retry handlers: the outbox retries, so that a Retry-After never holds a worker (the
    # SDK's handler sleeps inside the call) and a send whose outcome is unknown is looked
    # for in Slack before it is repeated (the SDK's handlers would simply post again).
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=int(max(1, settings.slack_timeout)),
        retry_handlers=[],
        session=session,
    )


def build_app(deps: Deps, client: AsyncWebClient | None = None) -> AsyncApp:
    settings = deps.settings
    app = AsyncApp(
        # Without a name Bolt takes its caller's file name from inspect.stack(), which reads
        # the source of every frame: 30-50 ms of start-up (issue #14).
        name="oncall-bot",
        client=client or build_client(settings),
        signing_secret=settings.signing_secret,
        process_before_response=settings.process_before_response,
        # bot/server.py checks the signature before anything parses the body (Bolt parses
        # first); Bolt checking it again would only cost a second HMAC per request. Socket
        # Mode requests are not signed at all.
        request_verification_enabled=False,
    )
    register_all(app, deps)
    return app
