"""`POST /runs` and `/oncall runs` fuzzed: whatever a producer or a person sends, the bot
answers (200, 207 or 400; an answer in Slack) and never raises, now or at the next tick."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.harness import Harness
from tests.e2e.paging_helpers import IDS
from tests.e2e.test_runs import post_runs

TIMES = st.sampled_from(
    [
        "2025-09-03T06:00:00+05:30",
        "2025-09-03T06:40:00Z",
        "2025-09-03T06:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-23:59",
        "yesterday",
        "",
    ]
)
VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | TIMES
FIELDS = ["ended_at", "records_out", "checksum", "completeness_pct", "accuracy_drift_pp"]
FIELDS += ["metric_version", "extra"]
REPORT = st.fixed_dictionaries(
    {
        "pipeline": st.sampled_from(["growth-agg", "profit unit", "grwth", ""]),
        "run_id": st.text(max_size=8),
        "status": st.sampled_from(["success", "failed", "running", "SUCCESS", "ok"]),
        "started_at": TIMES,
    },
    optional={f: VALUES for f in FIELDS},
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=REPORT | st.lists(REPORT | VALUES, max_size=4) | VALUES)
async def test_fuzzed_run_reports_never_fail(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: Any
) -> None:
    caplog.set_level(logging.WARNING)
    resp = await post_runs(harness, json.dumps(body))  # NaN included: the guard refuses it
    assert resp.status in (200, 207, 400), (body, resp.text)
    assert "Traceback" not in caplog.text
    await harness.run_jobs()
    assert "Traceback" not in caplog.text


@FUZZ
@given(args=st.lists(st.sampled_from(["growth-agg", "growth", "agg", "7", "0", "31", "²", "x"])))
async def test_fuzzed_oncall_runs_always_answer(harness: Harness, args: list[str]) -> None:
    reply = await harness.command("/oncall", " ".join(["runs", *args]), IDS["AM"])
    assert reply.status == 200 and reply.json["text"]
