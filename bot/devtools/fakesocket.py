"""A local fake of Slack's Socket Mode endpoint (an aiohttp WebSocket server).

Point FakeSlack's `socket_url` at `url` and slack_sdk's Socket Mode client connects here: on
each connection the server says `hello` as Slack does, a test pushes envelopes
(`slash_commands`, `interactive`, `events_api`) and awaits the client's ack, which is
`{"envelope_id": ..., "payload": {...}}`, the payload being what Slack would show the user.
`disconnect()` sends the `disconnect` message Slack sends before it retires a connection
(every few hours), after which the client asks apps.connections.open for a new URL.

Stop the Socket Mode client before this server: a client that sees its connection closed by
the server reconnects, and would keep retrying against a server that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

# How long the server waits for the client's answer to its close frame at stop(): aiohttp's
# default (10 s) would hold up a test whose client is already gone.
_CLOSE_TIMEOUT = 1.0


@dataclass
class FakeSocketMode:
    app_id: str = "A0ONCALL"
    url: str = ""
    # Connections ever opened; the client's reconnections count too.
    connections: int = 0
    # Acks by envelope id, in the order they came.
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Messages from the client that are not the ack of an envelope sent here.
    unexpected: list[str] = field(default_factory=list)
    _open: list[web.WebSocketResponse] = field(default_factory=list)
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        # Slack's URLs carry a one-use ticket; the client passes the URL back unchanged.
        self.url = (
            f"ws://{host}:{sockets[0].getsockname()[1]}/link/?ticket=fake&app_id={self.app_id}"
        )
        return self.url

    async def stop(self) -> None:
        for ws in list(self._open):
            with contextlib.suppress(Exception):
                await ws.close()
        for future in self._waiting.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def is_connected(self) -> bool:
        return bool(self._open)

    async def wait_connected(self, connections: int = 1, within: float = 5.0) -> None:
        """Wait until `connections` connections have been opened in all (and one is open)."""
        async with asyncio.timeout(within):
            while self.connections < connections or not self._open:
                self._changed.clear()
                await self._changed.wait()

    async def wait_disconnected(self, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self._open:
                self._changed.clear()
                await self._changed.wait()

    async def send(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = True,
        envelope_id: str | None = None,
    ) -> str:
        """Push an envelope down the newest connection, as Slack does; its envelope id."""
        if not self._open:
            raise AssertionError("no Socket Mode client is connected")
        eid = envelope_id or str(uuid.uuid4())
        self._waiting[eid] = asyncio.get_running_loop().create_future()
        envelope = {
            "envelope_id": eid,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        await self._open[-1].send_str(json.dumps(envelope))
        return eid

    async def ack(self, envelope_id: str, within: float = 5.0) -> dict[str, Any]:
        """The client's ack of `envelope_id` (Slack waits 3 s, then retries or gives up)."""
        future = self._waiting.get(envelope_id)
        if future is None:
            raise AssertionError(f"envelope {envelope_id} was never sent")
        try:
            return await asyncio.wait_for(asyncio.shield(future), within)
        except TimeoutError:
            raise AssertionError(
                f"no ack for envelope {envelope_id} within {within} s; acks: {self.acks}, "
                f"other messages: {self.unexpected}"
            ) from None

    async def request(
        self, kind: str, payload: dict[str, Any], within: float = 5.0
    ) -> dict[str, Any]:
        """Send an envelope and wait for its ack."""
        return await self.ack(await self.send(kind, payload), within)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that it will close this connection: the client should reconnect."""
        if not self._open:
            raise AssertionError("no Socket Mode client is connected")
        debug = {"host": "applink-fake", "approximate_connection_time": 18060}
        message = {"type": "disconnect", "reason": reason, "debug_info": debug}
        await self._open[-1].send_str(json.dumps(message))

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=_CLOSE_TIMEOUT)
        await ws.prepare(request)
        self.connections += 1
        self._open.append(ws)
        self._changed.set()
        try:
            await ws.send_str(json.dumps(self._hello()))
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._received(str(message.data))
        finally:
            self._open.remove(ws)
            self._changed.set()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._open),
            "debug_info": {
                "host": "applink-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _received(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            self.unexpected.append(text)
            return
        eid = message.get("envelope_id") if isinstance(message, dict) else None
        future = self._waiting.get(str(eid))
        if future is None or future.done():
            self.unexpected.append(text)
            return
        self.acks[str(eid)] = message
        future.set_result(message)
