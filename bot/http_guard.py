"""The checks every HTTP request passes before anything parses its body.

Authenticate first (a Slack signature over the raw bytes, or a bearer token), then bound
what is parsed: size (aiohttp's client_max_size), encoding (strict UTF-8, whatever charset
the request claims), JSON nesting depth (a linear scan, before json.loads can recurse), and
numbers (no NaN or Infinity). Anything malformed gets a 4xx with one line saying why; the
body itself is never logged, and rejections are logged at most once per LOG_EVERY with a
count, so forged traffic cannot fill the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's largest payloads (a 50-block message in an action) are ~100 KB
MAX_DEPTH = 32  # nesting of any JSON we accept; Slack's own is under 12
LOG_EVERY = 10.0
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.json_response({"ok": False, "error": self.reason}, status=self.status)


class RejectionLog:
    """One log line per LOG_EVERY for rejected requests, with how many and why (never the
    body, which anyone can write)."""

    def __init__(self) -> None:
        self._since = 0.0
        self._count = 0

    def note(self, path: str, status: int, reason: str, size: int) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._since >= LOG_EVERY:
            log.warning(
                "rejected %s with %s (%s, %d bytes); %d rejected since the last line",
                path,
                status,
                reason,
                size,
                self._count,
            )
            self._since, self._count = now, 0


def verify_slack(secret: str, headers: Any, raw: bytes, now: float) -> None:
    """Raise Rejected(401) unless the request is signed by Slack within 5 minutes."""
    ts = str(headers.get("X-Slack-Request-Timestamp", ""))
    sig = str(headers.get("X-Slack-Signature", ""))
    if not _TIMESTAMP.match(ts) or not _SIGNATURE.match(sig):
        raise Rejected(401, "missing or malformed Slack signature headers")
    if abs(now - int(ts)) > 5 * 60:
        raise Rejected(401, "stale request (timestamp more than 5 minutes off)")
    # Over the raw bytes, as Slack signs them: slack_sdk's SignatureVerifier decodes the body
    # as UTF-8 first and raises on anything else, which a forger controls.
    base = b"v0:" + ts.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise Rejected(401, "invalid Slack signature")


def verify_bearer(token: str | None, headers: Any) -> None:
    given = str(headers.get("Authorization", ""))
    # Compared as bytes: a header with non-ASCII characters is simply wrong, not an error.
    wanted = f"Bearer {token}".encode()
    if not token or not hmac.compare_digest(given.encode("utf-8", "replace"), wanted):
        raise Rejected(401, "missing or wrong bearer token (ALERTS_TOKEN)")


def utf8(raw: bytes) -> str:
    """The body as text: always UTF-8 (JSON and Slack's forms are), whatever the charset
    header claims."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None


def depth_ok(text: str, limit: int = MAX_DEPTH) -> bool:
    """JSON nesting within `limit`, by a linear scan that skips strings."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def parse_form(text: str) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict, the last value of a repeated key
    winning: what `dict(parse_qsl(text, keep_blank_values=True))` gives, at half the cost, by
    decoding only the fields that hold an escape. A slash command's dozen fields are mostly
    plain (`text=now`), and parse_qsl was a twentieth of the CPU of `/oncall now` (issue #14)."""
    form: dict[str, str] = {}
    for field in text.split("&"):
        if not field:
            continue
        key, _, value = field.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        form[key] = value
    return form


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str, what: str = "body") -> Any:
    if not depth_ok(text):
        raise Rejected(400, f"{what} is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, f"{what} is not JSON: {str(exc)[:120]}") from None


async def read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Rejected(413, f"body larger than {MAX_BODY} bytes") from None
