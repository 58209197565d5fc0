"""A local fake of the Slack Web API (an aiohttp server), as bolt-python's own tests use.

It records every call, keeps posted messages so chat.update edits them in place, serves
response URLs, and can be told to fail (429 with Retry-After, 5xx) to exercise retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class Failure:
    status: int
    times: int
    retry_after: int = 0


@dataclass
class FakeSlack:
    on_call: Callable[[Call], None] | None = None
    bot_user_id: str = "U0ONCALLBOT"
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
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
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, method: str, status: int, times: int = 1, retry_after: int = 0) -> None:
        self.failures[method] = Failure(status, times, retry_after)

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
                raise AssertionError(f"fake Slack never saw the expected calls; got {self.calls}")
            await asyncio.sleep(0.01)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)

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
        failure = self.failures.get(method)
        if failure is not None and failure.times > 0:
            failure.times -= 1
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal"}
            return web.json_response(body, status=failure.status, headers=headers)
        # slack_sdk sends some methods' arguments (conversations.open) as query parameters.
        args = {**dict(request.query), **await self._args(request)}
        # Answer (and so store the message) before recording, so a listener on calls can
        # already look the posted message up by its ts.
        answer = self._answer(method, args)
        self._record(Call(method, args))
        return web.json_response(answer)

    async def _response(self, request: web.Request) -> web.Response:
        args = await self._args(request)
        args["response_token"] = request.match_info["token"]
        self._record(Call("response_url", args))
        return web.Response(text="ok")

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
            ts = f"{1700000000 + next(self._ts)}.000100"
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
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "conversations.open":
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method in ("views.open", "views.update", "views.push"):
            view = args.get("view") or {}
            return {"ok": True, "view": {**view, "id": "V0VIEW"}}
        if method == "chat.getPermalink":
            return {
                "ok": True,
                "permalink": f"https://oncall.slack.example/archives/{args.get('channel')}/p{args.get('message_ts')}",
            }
        return {"ok": True}
