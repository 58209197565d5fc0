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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# Methods that carry a message; `slow()` without a method list delays all of them.
MESSAGE_METHODS = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.delete",
    "response_url",
)
_BLOCK_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
_VIEW_METHODS = ("views.open", "views.update", "views.publish", "views.push")
MAX_BLOCKS = 50  # per message; slack_sdk only checks the 100 of a view.
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
class Call:
    method: str
    args: dict[str, Any]
    # Not part of equality, so tests may still compare calls with Call(method, args).
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass
class Failure:
    status: int
    times: int
    retry_after: int = 0
    # With an error, the call is answered HTTP 200 `{"ok": false, "error": error, **extra}`
    # (Slack adds `needed` and `provided` to `missing_scope`, for one).
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stall:
    seconds: float
    times: int


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _ts_key(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _block_errors(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "blocks must be a JSON array"
    if len(blocks) > MAX_BLOCKS:
        return f"no more than {MAX_BLOCKS} blocks are allowed, got {len(blocks)}"
    try:
        for i, block in enumerate(Block.parse_all(blocks)):
            if block is None:  # slack_sdk only logs unknown types; Slack rejects them.
                return f"block {i}: unknown block type in {blocks[i]!r}"
            block.validate_json()
            # validate_json() checks the block's own fields; to_dict() validates nested
            # elements too (button text, option counts...).
            block.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def _view_errors(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view must be a JSON object"
    try:
        parsed = View(**view)
        parsed.validate_json()
        parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as e:
        return f"{type(e).__name__}: {e}"
    return None


@dataclass
class FakeSlack:
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

    def add_user(
        self, email: str, user_id: str, name: str | None = None, deleted: bool = False
    ) -> dict[str, Any]:
        """Register a workspace member for users.lookupByEmail (emails match case-blind).
        Once one is registered, unknown emails answer `users_not_found`."""
        user: dict[str, Any] = {
            "id": user_id,
            "name": name or email.split("@")[0],
            "real_name": name or email.split("@")[0],
            "deleted": deleted,
            "is_bot": False,
            "profile": {"email": email, "real_name": name or ""},
        }
        self.users[email.lower()] = user
        return user

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

    def _next_ts(self) -> str:
        # Real time, so `oldest` filters work, but strictly increasing even within one µs.
        us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

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
        if method in _BLOCK_METHODS and args.get("blocks") is not None:
            return _block_errors(args["blocks"])
        if method in _VIEW_METHODS:
            return _view_errors(args.get("view"))
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

    def add_usergroup(self, handle: str, users: Iterable[str] = ()) -> str:
        """Create a user group as an admin would; returns its id."""
        gid = f"S{len(self.usergroups) + 1:04d}{handle.upper().replace('-', '')[:6]}"
        self.usergroups[gid] = {"id": gid, "handle": handle, "name": handle, "users": list(users)}
        return gid

    def group_users(self, handle: str) -> list[str] | None:
        for group in self.usergroups.values():
            if group["handle"] == handle:
                return list(group["users"])
        return None

    def _usergroups(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "usergroups.list":
            groups = [
                {k: v for k, v in g.items() if k != "users" or _truthy(args.get("include_users"))}
                for g in self.usergroups.values()
            ]
            return {"ok": True, "usergroups": groups}
        if method == "usergroups.create":
            handle = str(args.get("handle") or args.get("name", ""))
            if self.group_users(handle) is not None:
                return {"ok": False, "error": "name_already_exists"}
            gid = self.add_usergroup(handle)
            self.usergroups[gid]["name"] = str(args.get("name", handle))
            return {"ok": True, "usergroup": self.usergroups[gid]}
        group = self.usergroups.get(str(args.get("usergroup")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        if method == "usergroups.users.update":
            members = [u for u in str(args.get("users", "")).split(",") if u]
            if not members:
                return {"ok": False, "error": "invalid_users"}  # Slack refuses an empty group
            group["users"] = members
            return {"ok": True, "usergroup": group}
        return {"ok": True, "users": list(group["users"])}

    def _metadata(self, message: dict[str, Any], include: bool) -> dict[str, Any]:
        return message if include else {k: v for k, v in message.items() if k != "metadata"}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        oldest, latest = _ts_key(args.get("oldest", "0")), _ts_key(args.get("latest", "inf"))
        limit = int(args.get("limit") or 100)
        found = [
            m
            for (ch, ts), m in self.messages.items()
            if ch == channel
            and m.get("thread_ts") in (None, "", ts)
            and (oldest is None or Decimal(ts) > oldest)
            and (latest is None or Decimal(ts) < latest)
        ]
        found.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
        include = _truthy(args.get("include_all_metadata"))
        # Slack pages with an opaque cursor; here it is simply the offset of the next page.
        start = int(str(args.get("cursor") or "0") or 0)
        page = [self._metadata(m, include) for m in found[start : start + limit]]
        more = len(found) > start + limit
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        parent = self.messages.get((channel, ts))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        oldest = _ts_key(args.get("oldest", "0"))
        replies = [
            m
            for (ch, m_ts), m in self.messages.items()
            if ch == channel
            and m_ts != ts
            and m.get("thread_ts") == ts
            and (oldest is None or Decimal(m_ts) > oldest)
        ]
        replies.sort(key=lambda m: Decimal(m["ts"]))
        include = _truthy(args.get("include_all_metadata"))
        # Like Slack, the parent comes first whatever `oldest` says.
        thread = [self._metadata(m, include) for m in [parent, *replies]]
        return {"ok": True, "messages": thread, "has_more": False}

    def _lookup_by_email(self, email: str) -> dict[str, Any]:
        if not email:
            return {"ok": False, "error": "invalid_arguments"}
        if self.users:
            user = self.users.get(email.lower())
            if user is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": user}
        user_id = "U" + re.sub(r"[^A-Z0-9]", "", email.split("@")[0].upper())
        return {"ok": True, "user": {"id": user_id, "profile": {"email": email}}}

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://oncall.slack.example/",
                "team": "oncall",
                "user": "oncall-bot",
                "team_id": "T0ONCALL",
                "user_id": self.bot_user_id,
                "bot_id": "B0ONCALLBOT",
            }
        if method == "chat.postMessage":
            channel = str(args.get("channel"))
            ts = self._next_ts()
            message = {**args, "ts": ts, "user": self.bot_user_id, "type": "message"}
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = {**self.messages[key], **args}
            return {"ok": True, "channel": key[0], "ts": key[1]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.history":
            return self._history(args)
        if method == "conversations.replies":
            return self._replies(args)
        if method == "conversations.open":
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method == "conversations.setTopic":
            self.topics[str(args.get("channel"))] = str(args.get("topic", ""))
            topic = {"value": str(args.get("topic", "")), "creator": self.bot_user_id}
            return {"ok": True, "channel": {"id": args.get("channel"), "topic": topic}}
        if method == "conversations.list":
            listed = [{"id": cid, "name": name} for name, cid in self.channels.items()]
            return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.info":
            channel = str(args.get("channel"))
            topic = {"value": self.topics.get(channel, ""), "creator": ""}
            return {"ok": True, "channel": {"id": channel, "topic": topic}}
        if method == "users.lookupByEmail":
            return self._lookup_by_email(str(args.get("email", "")))
        if method.startswith("usergroups."):
            return self._usergroups(method, args)
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}
        if method in _VIEW_METHODS:
            view = args.get("view") or {}
            return {"ok": True, "view": {**view, "id": "V0VIEW"}}
        if method == "chat.getPermalink":
            return {
                "ok": True,
                "permalink": f"https://oncall.slack.example/archives/{args.get('channel')}/p{args.get('message_ts')}",
            }
        return {"ok": True}
