"""Build Slack requests the way Slack does: form bodies and v0 HMAC signatures."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    # The SDK's own signer: the same code Bolt verifies with, so a test cannot pass on a
    # signature of our own making that Slack would not produce.
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": str(signature),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(
    command: str,
    text: str,
    user_id: str,
    *,
    response_url: str,
    channel_id: str = "C0CONSOLE",
    channel_name: str = "console",
    team_id: str = "T0ONCALL",
    trigger_id: str = "trigger.1",
) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": team_id,
            "team_domain": "oncall",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0ONCALL",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], team_id: str = "T0ONCALL") -> str:
    """An Events API `event_callback` as Slack POSTs it (JSON, not a form)."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": team_id,
            "api_app_id": "A0ONCALL",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


def block_actions_payload(
    *,
    user_id: str,
    action: dict[str, Any],
    block_id: str,
    response_url: str,
    channel: str | None = None,
    message: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    team_id: str = "T0ONCALL",
) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it when `user_id` clicks `action`."""
    act = dict(action)
    act.setdefault("block_id", block_id)
    act.setdefault("action_ts", f"{time.time():.6f}")
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "oncall"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.2",
        "response_url": response_url,
        "actions": [act],
    }
    if channel is not None:
        payload["channel"] = {"id": channel, "name": channel.lstrip("#")}
        payload["container"] = {"type": "message", "channel_id": channel}
    if message is not None:
        payload["message"] = message
        payload["container"]["message_ts"] = message.get("ts")
    if state is not None:
        payload["state"] = state
    return payload
