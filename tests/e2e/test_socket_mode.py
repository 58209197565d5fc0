"""Socket Mode end to end: the real app behind slack_bolt's AsyncSocketModeHandler, connected
as `oncall-bot serve` connects it (bot.cli.connect_socket_mode), to a fake Socket Mode
endpoint (bot/devtools/fakesocket.py) that FakeSlack's apps.connections.open points at."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest
from redis.asyncio import Redis
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.cli import check_app_token, connect_socket_mode
from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.fakesocket import FakeSocketMode
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload, command_body
from bot.settings import SOCKET_MODE_SIGNING_SECRET
from bot.slack import ids
from tests.conftest import ROOT

APP_TOKEN = "xapp-1-A0ONCALL-1-fake"
PR = "U0PRRAO002"
# Slack shows the user an error when an envelope is not acked within 3 s.
SLACK_ACK_WINDOW = 3.0


@dataclass
class SocketBot:
    harness: Harness
    socket: FakeSocketMode
    handler: AsyncSocketModeHandler


async def _others_finished(within: float) -> list[asyncio.Task[Any]]:
    """The tasks other than this one still running after `within` seconds."""
    me = asyncio.current_task()
    deadline = time.monotonic() + within
    while True:
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.01)


async def _close(bot: SocketBot) -> None:
    # Client first: a client whose server goes away first reconnects, and keeps retrying.
    await bot.handler.close_async()  # type: ignore[no-untyped-call]
    await bot.socket.wait_disconnected(within=1.0)
    await bot.socket.stop()
    await bot.harness.stop()


@pytest.fixture
async def bot(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[SocketBot]:
    socket = FakeSocketMode()
    await socket.start()
    # As `serve` is configured for Socket Mode: an app token and no signing secret.
    overrides = {
        "runbooks_dir": ROOT / "runbooks",
        "app_token": APP_TOKEN,
        "signing_secret": SOCKET_MODE_SIGNING_SECRET,
    }
    harness = await Harness(redis, clock, config, settings_overrides=overrides).start()
    harness.slack.socket_url = socket.url
    assert harness.app is not None
    handler = await connect_socket_mode(harness.app, APP_TOKEN)
    started = SocketBot(harness, socket, handler)
    try:
        await socket.wait_connected(within=2.0)
        yield started
    finally:
        if not handler.client.closed:
            await _close(started)


def _slash(bot: SocketBot, command: str, text: str, user: str) -> dict[str, Any]:
    # The same fields Slack POSTs over HTTP; over Socket Mode they arrive as a JSON object.
    body = command_body(command, text, user, response_url=bot.harness.slack.response_url())
    return dict(parse_qsl(body))


async def test_connects_through_apps_connections_open_and_gets_hello(bot: SocketBot) -> None:
    assert bot.socket.connections == 1
    assert len(bot.harness.slack.of("apps.connections.open")) == 1
    # The client answered nothing to hello: it is not an envelope.
    assert bot.socket.unexpected == []


async def test_slash_command_is_answered_in_the_ack(bot: SocketBot) -> None:
    started = time.monotonic()
    ack = await bot.socket.request(
        "slash_commands", _slash(bot, "/oncall", "now", PR), within=SLACK_ACK_WINDOW
    )
    assert time.monotonic() - started < SLACK_ACK_WINDOW
    answer = ack["payload"]
    assert answer["response_type"] == "ephemeral"
    # 2025-09-03 12:00 IST is rotation week 2: PR primary, CW backup.
    assert "Primary Priya Rao (<@U0PRRAO002>)" in answer["text"]
    assert "Backup Chen Wu (<@U0CHENWU03>)" in answer["text"]
    assert bot.socket.unexpected == []


async def test_button_click_opens_the_swap_form_with_the_envelope_trigger(
    bot: SocketBot,
) -> None:
    window = {"start": "2025-09-03T09:00:00+05:30", "end": "2025-09-04T09:00:00+05:30"}
    payload = block_actions_payload(
        user_id=PR,
        action={
            "type": "button",
            "action_id": ids.ACTION_SWAP_OPEN_MODAL,
            "value": json.dumps(window),
        },
        block_id=ids.BLOCK_SWAP_REMINDER,
        response_url=bot.harness.slack.response_url(),
        channel="D" + PR,
        message={"ts": "1756900000.000100", "text": "You are on call soon"},
    )
    payload["trigger_id"] = "trigger.socket"
    ack = await bot.socket.request("interactive", payload, within=SLACK_ACK_WINDOW)
    # A block_actions ack carries nothing back: the answer is the modal.
    assert ack == {"envelope_id": ack["envelope_id"]}
    [opened] = bot.harness.slack.of("views.open")
    assert opened.args["trigger_id"] == "trigger.socket"
    view = opened.args["view"]
    assert view["callback_id"] == ids.CALLBACK_SWAP_MODAL
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[ids.BLOCK_SWAP_START_DATE]["element"]["initial_date"] == "2025-09-03"
    assert blocks[ids.BLOCK_SWAP_END_DATE]["element"]["initial_date"] == "2025-09-04"


async def test_reconnects_when_slack_retires_the_connection(bot: SocketBot) -> None:
    await bot.socket.disconnect()
    await bot.socket.wait_connected(connections=2, within=3.0)
    # A fresh URL from apps.connections.open, as Slack's tickets are for one connection.
    assert len(bot.harness.slack.of("apps.connections.open")) == 2
    ack = await bot.socket.request(
        "slash_commands", _slash(bot, "/oncall", "now", PR), within=SLACK_ACK_WINDOW
    )
    assert "Primary Priya Rao" in ack["payload"]["text"]


async def test_shuts_down_quickly_and_leaves_nothing_running(bot: SocketBot) -> None:
    await bot.socket.request("slash_commands", _slash(bot, "/oncall", "now", PR))
    started = time.monotonic()
    await _close(bot)
    assert time.monotonic() - started < 1.5
    assert not bot.socket.is_connected
    assert await _others_finished(within=1.0) == []


async def test_a_refused_app_token_is_reported_instead_of_retried_forever(
    redis: Redis, clock: FakeClock, config: TeamConfig
) -> None:
    harness = await Harness(redis, clock, config).start()
    try:
        assert harness.app is not None
        # FakeSlack refuses apps.connections.open while no Socket Mode endpoint is set, as
        # Slack refuses a bot token or a revoked app token.
        problem = await check_app_token(harness.app.client, APP_TOKEN)
        assert problem is not None and "SLACK_APP_TOKEN was refused by Slack" in problem
        assert "not_allowed_token_type" in problem and "connections:write" in problem
        harness.slack.socket_url = "ws://127.0.0.1:9/socket"
        assert await check_app_token(harness.app.client, APP_TOKEN) is None
    finally:
        await harness.stop()
