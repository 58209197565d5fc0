"""Background jobs: work that runs on a timer rather than in answer to a request.

`serve` runs every job once per tick (settings.tick_seconds); the console runs them as its
virtual clock advances; tests call them directly. Each job must be safe to run concurrently
in several bot processes (claims in Redis are atomic), and must never raise for a transient
failure: it logs and tries again next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.slack import swap_jobs

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


def background_jobs(deps: Deps, client: AsyncWebClient) -> list[Job]:
    """Every periodic job of every feature, bound to its dependencies."""
    jobs: list[Job] = []
    jobs += [
        lambda: swap_jobs.expire_swaps(deps, client),
        lambda: swap_jobs.send_reminders(deps, client),
        lambda: swap_jobs.prune(deps),
    ]
    return jobs


async def run_forever(jobs: list[Job], interval: float) -> None:
    while True:
        for job in jobs:
            try:
                await job()
            except Exception:
                # A tick that fails (Redis down, Slack down) must not stop the loop: the
                # next tick retries, and nothing was claimed that is not re-claimable.
                log.warning("background job %s failed; retrying next tick", job, exc_info=True)
        await asyncio.sleep(interval)
