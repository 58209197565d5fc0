"""A local fake of the Slack Web API (an aiohttp server), as bolt-python's own tests use.

It records every call, keeps posted messages so chat.update edits them in place, serves
response URLs, and can be told to misbehave the ways real Slack does: answer slowly (slow),
accept a message but answer after the client gave up (stall), fail with 429/5xx, possibly
only for one channel (fail), or refuse with `ok: false` (refuse). Block Kit payloads are
checked with slack_sdk's own model validators, so a message real Slack would reject with
`invalid_blocks` is rejected here too instead of passing every test.

users.lookupByEmail answers from a directory tests fill with `add_user(email, id)`; while it
is empty, every email resolves to an ID derived from it (`ana@x` → `UANA`), and once a user is
registered, other emails answer `users_not_found` as Slack does. A missing scope is
`refuse("users.lookupByEmail", "missing_scope", needed="users:read.email")`.

User groups and channel topics are kept as state (`usergroups`, `topics`), so a test can edit
a group "by hand" and see the bot repair it. Every answer carries the `x-oauth-scopes` header
Slack sends, from `scopes` (all the bot's scopes unless a test narrows it).

The method handlers and that state's helpers are in `fakeslack_methods`, the Block Kit checks
in `fakeslack_blocks`, and the call and fault records in `fakeslack_calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.devtools.fakeslack_blocks import BLOCK_METHODS, VIEW_METHODS, block_errors, view_errors
from bot.devtools.fakeslack_calls import Call as Call
from bot.devtools.fakeslack_calls import Failure, Stall
from bot.devtools.fakeslack_methods import SlackMethods

# Methods that carry a message; `slow()` without a method list delays all of them.
MESSAGE_METHODS = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.delete",
    "response_url",
)
ALL_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "usergroups:write",
    "channels:manage",
    "channels:read",
    "groups:read",
    "groups:write",
    "channels:history",
    "groups:history",
    "im:history",
)


@dataclass
class FakeSlack(SlackMethods):
    on_call: Callable[[Call], None] | None = None
    bot_user_id: str = "U0ONCALLBOT"
    calls: list[Call] = field(default_factory=list)
    failed_calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Keyed by method for every channel, or by (method, channel) for one channel only.
    failures: dict[str | tuple[str, str], Failure] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    stalls: dict[str, Stall] = field(default_factory=dict)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    validate_blocks: bool = True
    # users.lookupByEmail's directory: lower-cased email → the user object it answers.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # User groups by id: {"id", "handle", "name", "users": [...]}.
    usergroups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Channel topics by channel id.
    topics: dict[str, str] = field(default_factory=dict)
    # What conversations.list answers: channel name → id.
    channels: dict[str, str] = field(
        default_factory=lambda: {"data-platform": "C0DATAPLATFORM", "investor-kpis": "C0INVESTORS"}
    )
    # What the token was granted, as Slack reports it in the x-oauth-scopes header.
    scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    # Answer to apps.connections.open (Socket Mode); set by a fake Socket Mode endpoint.
    socket_url: str | None = None
    url: str = ""
    _runner: web.AppRunner | None = None
    _last_ts_us: int = 0
    _closing: asyncio.Event | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._closing = asyncio.Event()
        app = web.Application()
        # slack_sdk sends a few read methods (conversations.history, users.lookupByEmail) as GET.
        app.router.add_route("GET", "/api/{method}", self._api)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{token}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.api_url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, token: str = "console") -> str:
        return f"{self.url}/response/{token}"

    async def stop(self) -> None:
        # Wake handlers sleeping in slow()/stall(): cleanup() waits for in-flight requests.
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        status: int,
        times: int = 1,
        retry_after: int = 0,
        channel: str | None = None,
    ) -> None:
        key: str | tuple[str, str] = method if channel is None else (method, channel)
        self.failures[key] = Failure(status, times, retry_after)

    def refuse(
        self,
        method: str,
        error: str,
        times: int = 1,
        channel: str | None = None,
        **extra: Any,
    ) -> None:
        """Answer `ok: false` with `error` (and any `extra` fields, e.g. `needed`)."""
        key: str | tuple[str, str] = method if channel is None else (method, channel)
        self.failures[key] = Failure(200, times, error=error, extra=dict(extra))

    def slow(self, seconds: float, methods: Iterable[str] | None = None) -> None:
        for method in MESSAGE_METHODS if methods is None else methods:
            self.latency[method] = seconds

    def stall(self, method: str, seconds: float, times: int = 1) -> None:
        self.stalls[method] = Stall(seconds, times)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        self.calls.clear()

    async def wait_for(self, predicate: Callable[[list[Call]], bool], within: float = 5.0) -> None:
        """Wait until `predicate(calls)` holds: for handlers that work after their ack."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate(self.calls):
            if loop.time() > deadline:
                rejected = f"; rejected as invalid: {self.invalid}" if self.invalid else ""
                raise AssertionError(
                    f"fake Slack never saw the expected calls; got {self.calls}{rejected}"
                )
            await asyncio.sleep(0.01)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._closing is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _take_failure(self, method: str, args: dict[str, Any]) -> Failure | None:
        channel = args.get("channel")
        keys: list[str | tuple[str, str]] = [method]
        if channel is not None:
            keys.insert(0, (method, str(channel)))
        for key in keys:
            failure = self.failures.get(key)
            if failure is not None and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _invalid_reason(self, method: str, args: dict[str, Any]) -> str | None:
        if not self.validate_blocks:
            return None
        if method in BLOCK_METHODS and args.get("blocks") is not None:
            return block_errors(args["blocks"])
        if method in VIEW_METHODS:
            return view_errors(args.get("view"))
        return None

    async def _args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        # slack_sdk sends some methods' arguments as query parameters, others in the body.
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(json.loads(raw or "{}"))
            return args
        args.update(parse_qsl(raw))
        for key in ("blocks", "attachments", "view", "metadata"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(json.JSONDecodeError):
                    args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        return await self._handle(method, await self._args(request), self._answer)

    async def _response(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        args["response_token"] = request.match_info["token"]
        return await self._handle("response_url", args, lambda _m, _a: None)

    async def _handle(
        self,
        method: str,
        args: dict[str, Any],
        answer: Callable[[str, dict[str, Any]], dict[str, Any] | None],
    ) -> web.Response:
        await self._pause(self.latency.get(method, self.latency.get("*", 0.0)))
        failure = self._take_failure(method, args)
        if failure is not None:
            self.failed_calls.append(Call(method, args))
            if failure.error is not None:
                return web.json_response({"ok": False, "error": failure.error, **failure.extra})
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal"}
            return web.json_response(body, status=failure.status, headers=headers)
        reason = self._invalid_reason(method, args)
        if reason is not None:
            self.invalid.append((method, reason))
            self.failed_calls.append(Call(method, args))
            return web.json_response({"ok": False, "error": "invalid_blocks", "errors": [reason]})
        # Answer (and so store the message) before recording, so a listener on calls can
        # already look the posted message up by its ts.
        answered = answer(method, args)
        self._record(Call(method, args))
        stall = self.stalls.get(method)
        if stall is not None and stall.times > 0:
            stall.times -= 1
            # Slack has accepted the call: a client that times out now will likely retry.
            await self._pause(stall.seconds)
        headers = {"x-oauth-scopes": ",".join(self.scopes)}
        if answered is None:
            return web.Response(text="ok", headers=headers)
        return web.json_response(answered, headers=headers)
