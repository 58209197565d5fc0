"""What the `oncall-bot` commands share: failing with a message, the config directory,
and the Slack client a CLI run asks its one question on."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.settings import ENV, SOCKET_MODE_SIGNING_SECRET, Settings, settings_from_env

log = logging.getLogger("oncall-bot")


def _fail(message: str, code: int = 2) -> int:
    print(f"oncall-bot: {message}", file=sys.stderr)
    return code


def _config_dir(env: dict[str, str]) -> Path:
    return Path(env.get(ENV["config_dir"]) or "schedules")


# Slack's answers to auth.test that mean the token itself is wrong: no point starting.
BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})


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
