"""Nothing unauthenticated costs a traceback: every malformed, forged, oversized, deeply
nested or badly encoded request gets a 4xx with a one-line reason, and the log gains no
traceback and no copy of the body."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import SECRET, Harness
from bot.devtools.signing import interactive_body
from bot.store.connection import connect
from tests.conftest import REDIS_URL, ROOT
from tests.e2e.paging_helpers import IDS


def _alert(n: int) -> dict[str, object]:
    return {"pipeline": "growth-agg", "signal": "freshness", "summary": "x", "dedupe_key": f"b{n}"}


FORM = "application/x-www-form-urlencoded"


async def _raw(h: Harness, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.url + path, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def _signed(body: bytes, content_type: str = FORM) -> dict[str, str]:
    """Signed over the exact bytes, as Slack signs (bodies here need not be UTF-8)."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": content_type,
    }


UNSIGNED = [
    ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}, b"command=/oncall"),
    ({"X-Slack-Request-Timestamp": "1.5e9", "X-Slack-Signature": "v0=00"}, b"command=/oncall"),
    ({"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}, b"command=/oncall"),
    ({}, b"{"),
    ({"Content-Type": "application/json"}, b"token=x&command=/oncall"),
    ({}, b"payload=notjson"),
    ({"Content-Type": "application/json"}, b"[" * 100_000),
    ({}, b"\xff\xfe\x00bad"),
    ({"Content-Type": "text/plain; charset=klingon"}, b"command=/oncall"),
    ({"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=" + "0" * 64}, b"x"),
]


@pytest.mark.parametrize(("headers", "body"), UNSIGNED)
async def test_forged_or_malformed_slack_requests_get_401_without_a_trace(
    harness: Harness, caplog: pytest.LogCaptureFixture, headers: dict[str, str], body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    status, text = await _raw(harness, "/slack/events", body, headers)
    assert status == 401, text
    assert "Traceback" not in caplog.text
    assert body[:40].decode("latin-1") not in caplog.text or len(body) < 4


SIGNED_BUT_MALFORMED = [
    (b"payload=%5B1%2C2%5D", FORM, "payload must be a JSON object"),
    (b"payload=notjson", FORM, "payload is not JSON"),
    (
        interactive_body({"type": "block_actions", "actions": "ACK"}).encode(),
        FORM,
        "payload.actions must be a list",
    ),
    (
        interactive_body({"type": "block_actions", "user": "U1", "actions": []}).encode(),
        FORM,
        "payload.user must be an object",
    ),
    (b"\xff\xfe", FORM, "body is not UTF-8"),
    (b"{", "application/json", "body is not JSON"),
    (b"[" * 5000, "application/json", "nested more than 32 levels"),
    (b"x=1", FORM, "not a Slack command or interaction"),
]


@pytest.mark.parametrize(("body", "content_type", "reason"), SIGNED_BUT_MALFORMED)
async def test_signed_but_malformed_requests_get_400_with_the_reason(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    status, text = await _raw(harness, "/slack/events", body, _signed(body, content_type))
    assert status == 400, text
    assert reason in json.loads(text)["error"]
    assert "Traceback" not in caplog.text


async def test_command_text_over_the_limit_is_refused_before_any_listener(
    harness: Harness,
) -> None:
    resp = await harness.command("/page", "growth-agg sev1 " + "x" * 1200, IDS["AM"])
    assert resp.status == 200
    body = resp.json
    assert body["response_type"] == "ephemeral"
    assert (
        "That `/page` text is 1,216 characters long; commands take at most 1,000." in (body["text"])
    )
    assert body["text"].count("x") < 10  # the text is not echoed back
    assert harness.deps is not None and await harness.deps.paging.open_incidents() == []


async def test_a_body_over_the_limit_is_413(harness: Harness) -> None:
    body = b"command=/oncall&text=" + b"x" * (1024 * 1024 + 10)
    status, _ = await _raw(harness, "/slack/events", body, _signed(body))
    assert status == 413


ALERT_HEADERS = {"Authorization": "Bearer alerts-token", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason"),
    [
        ({"Authorization": "Bearer ålerts-tøken"}, b"{}", 401, "bearer token"),
        ({"Authorization": "Bearer \u2603"}, b"{}", 401, "bearer token"),
        (ALERT_HEADERS, b"[" * 2000 + b"]" * 2000, 400, "nested more than 32 levels"),
        (
            {**ALERT_HEADERS, "Content-Type": "application/json; charset=klingon"},
            b"{",
            400,
            "not JSON",
        ),
        (ALERT_HEADERS, b'{"pipeline": "growth-agg", "value": NaN}', 400, "NaN is not a number"),
        (ALERT_HEADERS, json.dumps([{}] * 1001).encode(), 413, "at most 1000"),
    ],
)
async def test_alerts_reject_bad_input_with_a_4xx(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    body: bytes,
    status: int,
    reason: str,
) -> None:
    got, text = await _raw(harness, "/alerts", body, headers)
    assert got == status, text
    assert reason in json.loads(text)["error"]
    assert "Traceback" not in caplog.text


async def test_infinite_alert_values_are_rejected_not_paged(harness: Harness) -> None:
    body = b'{"pipeline": "growth-agg", "signal": "freshness", "summary": "x", "value": 1e999}'
    status, text = await _raw(harness, "/alerts", body, ALERT_HEADERS)
    assert status == 400
    assert "finite" in json.loads(text)["rejected"][0]["error"]
    status, text = await _raw(
        harness, "/alerts", body.replace(b"1e999", b"-Infinity"), ALERT_HEADERS
    )
    assert status == 400 and "-Infinity is not a number" in json.loads(text)["error"]


async def test_forged_requests_do_not_flood_the_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = b"command=/oncall&text=" + b"A" * 30_000 + b"\nERROR forged line"
    for _ in range(32):
        status, _ = await _raw(
            harness,
            "/slack/events",
            body,
            {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=1"},
        )
        assert status == 401
    assert len(caplog.text) < 2000
    assert "ERROR forged line" not in caplog.text


@pytest.mark.skipif(not REDIS_URL, reason="the connection pool of a real Redis client")
async def test_a_thousand_concurrent_requests_all_get_answers(
    clock: FakeClock, config: TeamConfig
) -> None:
    assert REDIS_URL
    # The bot's own client (a blocking pool of 200): a burst waits for a connection.
    redis = connect(REDIS_URL)
    await redis.flushdb()
    harness = await Harness(redis, clock, config, {"runbooks_dir": ROOT / "no-runbooks"}).start()
    started = time.monotonic()
    try:
        results = await asyncio.gather(
            *(harness.command("/oncall", "", IDS["AM"]) for _ in range(1000)),
            *(harness.alert(_alert(n)) for n in range(300)),
        )
    finally:
        await harness.stop()
        await redis.aclose()
    assert {r.status for r in results} == {200}
    bad = [r.text for r in results[:1000] if "Primary" not in r.json["text"]]
    assert not bad, bad[:3]
    assert time.monotonic() - started < 60


async def test_a_command_mentioning_payload_is_answered(harness: Harness) -> None:
    """Bolt takes any form body containing "payload" for an interaction (and finds none)."""
    resp = await harness.command("/page", "growth-agg sev1 payload missing", "U0AMEHTA01")
    assert resp.status == 200
    assert "INC-1" in resp.text


async def test_alertmanager_labels_that_are_not_objects_are_rejected_not_crashed(
    harness: Harness,
) -> None:
    body = {"alerts": [{"labels": True, "annotations": ["x"]}]}
    resp = await harness.alert(body)
    assert resp.status == 400, resp.text
    assert "pipeline" in resp.text
