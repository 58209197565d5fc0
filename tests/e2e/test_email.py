"""Emails to the team's list through the outbox, against a local SMTP server: an investor
Sev-1 opened and resolved, its RCA posted; a mail server outage loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness
from tests.conftest import ROOT
from tests.e2e.paging_helpers import IDS, press
from tests.e2e.test_rca import _submission
from tests.processes import free_port
from tests.test_mail import Inbox


@pytest.fixture
async def mailed(
    redis: Redis, clock: FakeClock, config: TeamConfig
) -> AsyncIterator[tuple[Harness, Inbox, Controller]]:
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    h = await Harness(
        redis,
        clock,
        config,
        settings_overrides={
            "runbooks_dir": ROOT / "runbooks",
            "smtp_url": f"smtp://127.0.0.1:{port}",
        },
    ).start()
    try:
        yield h, inbox, server
    finally:
        await h.stop()
        if server.loop.is_running():  # the outage test stops it itself
            server.stop()


def _subjects(inbox: Inbox) -> list[str]:
    return [str(msg["Subject"]) for _, _, msg in inbox.received]


async def test_an_investor_sev1_is_mailed_opened_resolved_and_its_rca(
    mailed: tuple[Harness, Inbox, Controller],
) -> None:
    harness, inbox, _ = mailed
    await harness.command("/page", "profit-agg sev1 profit aggregate late", IDS["AM"])
    await harness.command("/page", "growth-daily sev1 experiment late", IDS["AM"])
    await harness.run_jobs()
    assert _subjects(inbox) == ["[SEV1] INC-1 opened: Profit — Aggregate: profit aggregate late"]
    [(_, to, _)] = inbox.received
    assert to == ["data-eng-oncall@company.example"]
    await press(harness, "PR", "page_resolve", "INC-1")
    await press(harness, "PR", "page_resolve", "INC-2")
    await harness.run_jobs()
    assert _subjects(inbox)[1] == "[SEV1] INC-1 resolved: Profit — Aggregate: profit aggregate late"
    assert len(inbox.received) == 2  # the experiment pipeline's incident is not mailed
    ok = await harness.interact(
        _submission(IDS["PR"], "INC-1", {"rca_summary": "The FX rates table was late."})
    )
    assert ok.status == 200
    await harness.run_jobs()
    assert _subjects(inbox)[2].startswith("INC-1 RCA posted: Profit — Aggregate:")


async def test_a_mail_server_outage_loses_no_email(
    mailed: tuple[Harness, Inbox, Controller],
) -> None:
    harness, inbox, server = mailed
    port = server.port
    server.stop()
    await harness.command("/page", "growth-agg sev2 DAU late", IDS["AM"])
    await harness.run_jobs()
    assert inbox.received == []
    assert harness.deps is not None and await harness.deps.outbox.pending() >= 1
    again = Controller(inbox, hostname="127.0.0.1", port=port)  # a stopped one cannot restart
    again.start()
    try:
        for _ in range(10):
            harness.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
            await harness.run_jobs()
    finally:
        again.stop()
    assert _subjects(inbox) == ["[SEV2] INC-1 opened: Growth — Aggregate: DAU late"]
