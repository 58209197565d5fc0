"""The real app on a local port, wired to the fake Slack Web API, driven by signed requests.

Shared by the console, the end-to-end tests and bench/, so all three exercise one path:
HTTP → signature check → Bolt → listeners → domain → fake Slack.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, build_client, slack_session
from bot.clock import Clock
from bot.config import TeamConfig
from bot.deps import Deps, build_deps
from bot.devtools.fakeslack import FakeSlack
from bot.devtools.signing import command_body, event_body, interactive_body, signed_headers
from bot.runtime import Job, background_jobs, delivery_pool, run_jobs_once
from bot.server import build_web_app
from bot.settings import Settings
from bot.slack.delivery import DeliveryPool

SECRET = "console-signing-secret"


@dataclass
class Response:
    status: int
    text: str

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.text)) if self.text else {}


@dataclass
class Harness:
    redis: Redis
    clock: Clock
    config: TeamConfig | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    slack: FakeSlack = field(default_factory=FakeSlack)
    deps: Deps | None = None
    app: AsyncApp | None = None
    pool: DeliveryPool | None = None
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _slack_session: aiohttp.ClientSession | None = None  # the bot's Web API calls
    _owns_slack: bool = True
    # Deliver what each request queued before returning, as the running bot's delivery pool
    # would a moment later; tests of the delivery itself turn this off.
    autodeliver: bool = True

    async def start(self) -> Harness:
        self._owns_slack = not self.slack.url
        # Several harnesses (bot "replicas") may share one fake Slack.
        api = self.slack.api_url if self.slack.url else await self.slack.start()
        values: dict[str, Any] = {
            "bot_token": "xoxb-console",
            "signing_secret": SECRET,
            "slack_api_url": api,
            "alerts_token": "alerts-token",
            # The fake clock stands still between requests, so Slack's pace would hold back
            # every second message forever; tests of pacing set these themselves.
            "slack_post_rate": 0,
            "slack_update_every": 0,
            "slack_update_rate": 0,
        }
        values.update(self.settings_overrides)
        settings = Settings.model_validate(values)
        self.deps = build_deps(settings, self.redis, self.clock, self.config)
        self._slack_session = slack_session(settings)
        self.app = build_app(self.deps, build_client(settings, self._slack_session))
        self.pool = delivery_pool(self.deps, self.app.client)
        self._runner = web.AppRunner(build_web_app(self.deps, self.app), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._slack_session is not None:
            await self._slack_session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._owns_slack:
            await self.slack.stop()

    def jobs(self) -> list[Job]:
        assert self.deps is not None, "start() the harness first"
        return background_jobs(self.deps)

    async def run_jobs(self) -> None:
        """One tick of every background job (fire due steps, expire swaps, queue reminders),
        then deliver every notice due now."""
        await run_jobs_once(self.jobs(), self.pool)

    async def deliver(self) -> int:
        """Deliver every notice due now; how many were sent."""
        assert self.pool is not None, "start() the harness first"
        return await self.pool.drain()

    async def alert(self, body: object, token: str | None = "alerts-token") -> Response:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.post("/alerts", json.dumps(body), headers)

    async def post(self, path: str, body: str, headers: dict[str, str]) -> Response:
        assert self._session is not None, "start() the harness first"
        async with self._session.post(self.url + path, data=body, headers=headers) as resp:
            return Response(resp.status, await resp.text())

    async def get(self, path: str) -> Response:
        assert self._session is not None, "start() the harness first"
        async with self._session.get(self.url + path) as resp:
            return Response(resp.status, await resp.text())

    async def signed(self, body: str, timestamp: int | None = None) -> Response:
        resp = await self.post("/slack/events", body, signed_headers(SECRET, body, timestamp))
        if self.autodeliver:
            # As the background pool would, and like it, a Redis outage here is not the
            # request's failure: the request already answered.
            with contextlib.suppress(RedisError):
                await self.deliver()
        return resp

    async def command(self, command: str, text: str, user_id: str, **kw: Any) -> Response:
        body = command_body(command, text, user_id, response_url=self.slack.response_url(), **kw)
        return await self.signed(body)

    async def interact(self, payload: dict[str, Any]) -> Response:
        return await self.signed(interactive_body(payload))

    async def event(self, event: dict[str, Any]) -> Response:
        """An Events API event (JSON, where commands and clicks are forms), delivered after."""
        body = event_body(event)
        headers = {**signed_headers(SECRET, body), "Content-Type": "application/json"}
        resp = await self.post("/slack/events", body, headers)
        if self.autodeliver:
            with contextlib.suppress(RedisError):
                await self.deliver()
        return resp
