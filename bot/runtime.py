"""Background jobs: work that runs on a timer rather than in answer to a request.

`serve` runs every job in a loop that sleeps until the next timer is due (at most
settings.tick_seconds) or until a request wakes it; the console runs them as its virtual
clock advances; tests call `run_jobs_once`. Each job is safe to run in several bot
processes at once (claims in Redis are atomic) and a failing tick is retried on the next.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.services.delivery import Delivery

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


def delivery_for(deps: Deps) -> Delivery:
    return Delivery(deps.config, deps.incidents, deps.outbox, deps.clock)


def background_jobs(deps: Deps, client: AsyncWebClient) -> list[Job]:
    """Every periodic job of every feature, bound to its dependencies."""
    delivery = delivery_for(deps)

    async def escalate() -> None:
        await deps.paging.tick(deps.clock.now())

    async def deliver() -> None:
        await delivery.deliver_due(client)

    return [escalate, deliver]


async def run_jobs_once(jobs: list[Job]) -> None:
    for job in jobs:
        await job()


async def _next_wake(deps: Deps, cap: float) -> float:
    hints = [await deps.incidents.next_due(), await deps.outbox.next_due()]
    due = [h for h in hints if h is not None]
    if not due:
        return cap
    return min(cap, max(0.0, min(due) - time.time()))


async def run_forever(deps: Deps, jobs: list[Job]) -> None:
    cap = deps.settings.tick_seconds
    while True:
        delay = cap
        try:
            await run_jobs_once(jobs)
            delay = await _next_wake(deps, cap)
        except Exception:
            # Redis or Slack down: keep looping; the next tick retries and nothing that was
            # claimed is lost (claims are leases that lapse).
            log.warning("background tick failed; retrying", exc_info=True)
        await deps.waker.wait(delay)
