"""Fuzzing every slash command, every button payload and /alerts bodies (hypothesis):
no 5xx, no traceback, and no state change from input the bot rejects."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload
from bot.slack import ids
from tests.e2e.paging_helpers import IDS

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = st.sampled_from(
    [
        "now",
        "at",
        "week",
        "schedule",
        "pto",
        "cancel",
        "list",
        "help",
        "incidents",
        "growth-agg",
        "sev1",
        "sev9",
        "@CW",
        "<@U0CHENWU03>",
        "2025-09-04",
        "2025-09-04..",
        "..2025-09-05",
        "tomorrow",
        "10:00",
        "UTC",
        "+05:30",
        "for",
        "week",
        "-1",
        "52",
        "2999-12-31",
        "0000-00-00",
        "\u0000",
        "💥",
        "`",
        "*",
        "<!channel>",
        "%s",
        "{PR}",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS, max_size=8).map(" ".join),
)
COMMANDS = ["/oncall", "/page", "/swap", "/runbook"]


async def _keys(h: Harness) -> set[str]:
    return {str(k) for k in await h.redis.keys("*")}


@pytest.mark.parametrize("command", COMMANDS)
@FUZZ
@given(text=TEXTS)
async def test_fuzzed_commands_never_fail(
    harness: Harness, caplog: pytest.LogCaptureFixture, command: str, text: str
) -> None:
    caplog.set_level(logging.WARNING)
    before = await _keys(harness)
    resp = await harness.command(command, text, IDS["PR"])
    assert resp.status == 200, (command, text, resp.text)
    assert "Traceback" not in caplog.text
    body = resp.json if resp.text else {}
    if str(body.get("text", "")).startswith(":warning:"):
        # Refused: nothing stored, nothing queued.
        assert await _keys(harness) == before, (command, text)


VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["INC-1", "INC-1@0.0", "INC-1@9.9", "INC-999", "1", "0", "-1", "{}", ""]),
)
ACTIONS = [
    ids.ACTION_PAGE_ACK,
    ids.ACTION_PAGE_RESOLVE,
    ids.ACTION_PAGE_ESCALATE,
    ids.ACTION_SWAP_APPROVE,
    ids.ACTION_SWAP_DECLINE,
    ids.ACTION_SWAP_OPEN_MODAL,
    ids.CHECKLIST_TICK,
]


@pytest.mark.parametrize("action_id", ACTIONS)
@FUZZ
@given(
    value=VALUES,
    user=st.sampled_from([*IDS.values(), "U0NOTONROSTER", ""]),
    block=st.text(max_size=40),
    extra=st.dictionaries(st.sampled_from(["message", "state", "view"]), st.none() | st.text()),
)
async def test_fuzzed_button_payloads_never_fail(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    action_id: str,
    value: str,
    user: str,
    block: str,
    extra: dict[str, Any],
) -> None:
    caplog.set_level(logging.WARNING)
    payload = block_actions_payload(
        user_id=user,
        action={"type": "button", "action_id": action_id, "value": value},
        block_id=block,
        response_url=harness.slack.response_url(),
        channel="#investor-kpis",
    )
    payload.update({k: v for k, v in extra.items() if v is not None})
    resp = await harness.interact(payload)
    assert resp.status in (200, 400), (action_id, value, resp.text)
    assert "Traceback" not in caplog.text


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "pipeline",
                    "signal",
                    "summary",
                    "value",
                    "severity",
                    "alerts",
                    "dedupe_key",
                    "labels",
                    "annotations",
                    "status",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(body=JSON)
async def test_fuzzed_alert_bodies_never_fail(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: Any
) -> None:
    caplog.set_level(logging.WARNING)
    before = await _keys(harness)
    resp = await harness.post(
        "/alerts",
        json.dumps(body),
        {"Authorization": "Bearer alerts-token", "Content-Type": "application/json"},
    )
    assert resp.status in (200, 207, 400, 413), (body, resp.text)
    assert "Traceback" not in caplog.text
    if resp.status == 400:
        assert await _keys(harness) == before
