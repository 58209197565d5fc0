"""Background jobs: work that runs on a timer rather than in answer to a request.

`serve` runs every job in a loop that sleeps until the next timer is due (at most
settings.tick_seconds) or until a request wakes it; the console runs them as its virtual
clock advances; tests call `run_jobs_once`. Each job is safe to run in several bot
processes at once (claims in Redis are atomic) and a failing tick is retried on the next.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.services.checklists import open_checklist, progress_text
from bot.services.delivery import Delivery
from bot.slack import swap_jobs
from bot.store.incidents import Stored

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


def delivery_for(deps: Deps, client: AsyncWebClient) -> Delivery:
    async def open_run(stored: Stored, channel: str, thread_ts: str) -> str:
        inc = stored.incident
        return await open_checklist(
            deps, client, inc.pipeline, channel, thread_ts=thread_ts, incident_id=inc.id
        )

    async def progress(run_id: str) -> str | None:
        return await progress_text(deps, run_id)

    return Delivery(deps.config, deps.incidents, deps.outbox, deps.clock, open_run, progress)


def background_jobs(deps: Deps, client: AsyncWebClient) -> list[Job]:
    """Every periodic job of every feature, bound to its dependencies."""
    delivery = delivery_for(deps, client)

    async def escalate() -> None:
        await deps.paging.tick(deps.clock.now())

    async def deliver() -> None:
        await delivery.deliver_due(client)

    return [
        escalate,
        deliver,
        lambda: swap_jobs.expire_swaps(deps, client),
        lambda: swap_jobs.send_reminders(deps, client),
        lambda: swap_jobs.prune(deps),
    ]


async def run_jobs_once(jobs: list[Job]) -> None:
    for job in jobs:
        await job()


async def _next_wake(deps: Deps, cap: float) -> float:
    hints = [await deps.incidents.next_due(), await deps.outbox.next_due()]
    due = [h for h in hints if h is not None]
    if not due:
        return cap
    # Due times are on the deps' clock (a FakeClock in tests and the console), not time.time().
    return min(cap, max(0.0, min(due) - deps.clock.now().timestamp()))


async def run_forever(deps: Deps, jobs: list[Job]) -> None:
    cap = deps.settings.tick_seconds
    while True:
        delay = cap
        # Each job on its own: one that fails (Redis or Slack down, a bug) must not keep the
        # others from running. The next tick retries, and nothing that was claimed is lost
        # (claims are leases that lapse).
        for job in jobs:
            try:
                await job()
            except Exception:
                log.warning("background job %s failed; retrying", _name(job), exc_info=True)
        try:
            delay = await _next_wake(deps, cap)
        except Exception:
            log.warning("cannot read the next due time; polling", exc_info=True)
        await deps.waker.wait(delay)


def _name(job: Job) -> str:
    return getattr(job, "__qualname__", repr(job))
