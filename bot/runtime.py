"""Background jobs, side by side: work that runs on a timer rather than in answer to a request.

- **escalation**: fires due rungs; sleeps until the next one is due (at most
  settings.tick_seconds) or until a request wakes it. It commits state and queues notices,
  and never waits on Slack. With REDIS_URL it runs in a process of its own
  (bot/escalation_process.py), or on a thread (bot/escalation_thread.py), so nothing in
  this loop can hold a due rung back.
- **delivery**: the outbox's worker pool (bot/slack/delivery.py), concurrent and paced.
- **swap-expiry**, **reminders**, **prune**: housekeeping on their own cadence.

Each job is safe to run in several bot processes at once (claims in Redis are atomic). A
job that fails (Redis down, a bug) is retried with backoff and logged once per job per
LOG_EVERY, not once per loop. `serve` runs `run_forever`; the console and tests call
`run_jobs_once`, which runs each job once and then delivers what is due.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import SystemClock
from bot.deps import Deps
from bot.escalation_process import EscalationProcess
from bot.escalation_thread import EscalationThread
from bot.slack.delivery import DeliveryPool
from bot.slack.slackout import Pacing

log = logging.getLogger(__name__)
LOG_EVERY = 30.0  # seconds between two log lines about the same failing job
BACKOFF_CAP = 10.0


@dataclass
class Job:
    name: str
    run: Callable[[], Awaitable[None]]
    every: float  # seconds between runs when nothing wakes it
    wake_on_work: bool = False  # woken early when a request queues work


def delivery_pool(deps: Deps, client: AsyncWebClient) -> DeliveryPool:
    s = deps.settings
    return DeliveryPool(
        config=deps.config,
        client=client,
        outbox=deps.outbox,
        clock=deps.clock,
        waker=deps.waker,
        paging=deps.paging,
        checklists=deps.checklists,
        swaps=deps.swaps,
        workers=s.delivery_workers,
        pacing=Pacing(
            post_rate=s.slack_post_rate,
            post_burst=s.slack_post_burst,
            update_every=s.slack_update_every,
            update_rate=s.slack_update_rate,
        ),
        poll_seconds=s.tick_seconds,
        tasks=deps.tasks,
        metrics=deps.metrics,
        presence=deps.presence,
        home=deps.home,
    )


Fired = list[tuple[str, datetime]]  # (incident, when its step was due), as tick returns them


def escalation_job(deps: Deps, on_fired: Callable[[Fired, datetime], None] | None = None) -> Job:
    """`on_fired(fired, committed_at)` after each tick that fired something (the escalation
    worker tells `serve` with it)."""

    async def escalation() -> None:
        fired = await deps.paging.tick(deps.clock.now())
        if not fired:
            return
        # Late by when the rung was committed, which is when it took effect.
        at = deps.clock.now()
        for _, due in fired:
            deps.metrics.timer_late((at - due).total_seconds())
        if on_fired is not None:
            on_fired(fired, at)

    return Job("escalation", escalation, deps.settings.tick_seconds, wake_on_work=True)


def background_jobs(deps: Deps) -> list[Job]:
    """Every periodic job except delivery, bound to its dependencies."""
    tick = deps.settings.tick_seconds

    async def swap_expiry() -> None:
        await deps.swaps.expire_due()

    async def reminders() -> None:
        await deps.swaps.queue_reminders()

    async def rca_reminders() -> None:
        # Each reminder goes once per day across replicas (RcaStore.remind).
        await deps.rcas.queue_reminders(deps.clock.now())

    async def status_reminders() -> None:
        # Each promised status update is claimed once across replicas (due index + WATCH).
        await deps.status_updates.queue_status_reminders(deps.clock.now())

    async def suppression_ends() -> None:
        # Each end is claimed once across replicas and announced with its final count.
        await deps.suppressions.announce_ended(deps.clock.now())

    async def deadlines() -> None:
        # The delivery-deadline watch: each notice, alert and close is claimed once across
        # replicas (bot/services/runs.py), and the verdicts are recomputed every tick.
        await deps.runs.tick(deps.clock.now())

    async def handover() -> None:
        # The Monday digest and the reminder to confirm, each queued once across replicas.
        await deps.handover.queue_due(deps.clock.now())

    async def presence() -> None:
        # Groups and topic at each change of stretch, and the shift notices, each once
        # across replicas; a repair of hand edits at start-up and hourly (bot/services/presence.py).
        await deps.presence.queue_due(deps.clock.now())

    async def prune() -> None:
        await deps.swaps.prune()
        await deps.outbox.prune_dead(deps.clock.now())

    return [
        escalation_job(deps),
        Job("swap-expiry", swap_expiry, tick),
        Job("suppression-ends", suppression_ends, tick),
        Job("deadlines", deadlines, tick),
        Job("status-reminders", status_reminders, tick),
        # The PTO/holiday conflict scan reads 8 days of schedule: hourly is enough, as each
        # reminder is due from its lead (7 d, 1 d) until the conflict starts (issue #14).
        Job("reminders", reminders, 3600.0),
        Job("rca-reminders", rca_reminders, 60.0),
        Job("handover", handover, 60.0),
        Job("presence", presence, max(tick, 5.0)),
        Job("prune", prune, 3600.0),
    ]


async def run_jobs_once(jobs: list[Job], pool: DeliveryPool | None = None) -> None:
    for job in jobs:
        await job.run()
    if pool is not None:
        await pool.drain()


async def _next_rung_in(deps: Deps, cap: float) -> float:
    # The tick's own claim saw the due index: asking Redis again was a round trip a tick.
    known, due = deps.paging.take_next_due()
    if not known:
        due = await deps.incidents.next_due()
    if due is None:
        return cap
    # Due times are on the deps' clock (a FakeClock in tests and the console).
    return min(cap, max(0.0, due - deps.clock.now().timestamp()))


def _stop_if_cancelled() -> None:
    """Raise CancelledError when this task was asked to stop and is still running: a library
    can swallow the cancellation, or turn it into an error these loops retry (seen: an
    escalation worker whose serve had stopped ran its timers for good, claiming the rungs
    of every later process on that Redis). Task.cancelling() still counts the request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_job(deps: Deps, job: Job) -> None:
    failing_since: float | None = None
    last_log = 0.0
    backoff = 0.5
    while True:
        _stop_if_cancelled()
        try:
            await job.run()
            if failing_since is not None:
                log.info(
                    "job %s recovered after %.0f s", job.name, time.monotonic() - failing_since
                )
            failing_since, backoff = None, 0.5
        except Exception as exc:
            if isinstance(exc, RedisError):
                deps.metrics.redis_error(job.name)
            now = time.monotonic()
            if failing_since is None:
                failing_since = now
            if now - last_log >= LOG_EVERY:
                last_log = now
                log.warning("job %s failing (%s: %s); retrying", job.name, type(exc).__name__, exc)
            _stop_if_cancelled()
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_CAP, backoff * 2)
            continue
        delay = job.every
        if job.name == "escalation":
            try:
                delay = await _next_rung_in(deps, job.every)
            except Exception:
                delay = job.every
        _stop_if_cancelled()
        if job.wake_on_work:
            await deps.waker.wait(delay, name=job.name)
        else:
            await asyncio.sleep(delay)


async def _run_delivery(pool: DeliveryPool) -> None:
    last_log = 0.0
    while True:
        _stop_if_cancelled()
        try:
            await pool.run_forever()
        except Exception as exc:
            if isinstance(exc, RedisError):
                pool.metrics.redis_error("delivery")
            now = time.monotonic()
            if now - last_log >= LOG_EVERY:
                last_log = now
                log.warning("job delivery failing (%s: %s); retrying", type(exc).__name__, exc)
            _stop_if_cancelled()
            await asyncio.sleep(1.0)


async def run_forever(deps: Deps, jobs: list[Job], pool: DeliveryPool) -> None:
    escalation = [j for j in jobs if j.name == "escalation"]
    # The other jobs and delivery first: a worker process takes a second to start.
    tasks = [
        asyncio.create_task(run_job(deps, j), name=j.name) for j in jobs if j not in escalation
    ]
    tasks.append(asyncio.create_task(_run_delivery(pool), name="delivery"))
    elsewhere = None
    try:
        elsewhere = await _escalation_elsewhere(deps) if escalation else None
        if escalation and elsewhere is None:
            tasks.append(asyncio.create_task(run_job(deps, escalation[0]), name="escalation"))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        if elsewhere is not None:
            await elsewhere.stop()


def _thread_job(own: Deps, wake_app: Callable[[], None]) -> Awaitable[None]:
    """The escalation job as the thread runs it. Its transitions wake the app's loop (its
    delivery), once a tick when something fired, and not the thread's own waiter: a tick
    that woke itself ran again at once for nothing, and waking the app after every tick,
    fired or not, cost the app's loop a pass each time (issue #14)."""
    own.paging.wake = wake_app
    return run_job(own, escalation_job(own))


async def _escalation_elsewhere(deps: Deps) -> EscalationProcess | EscalationThread | None:
    """The escalation job started in a process of its own, else on a thread of its own, or
    None to run it in this loop. Both need REDIS_URL (their own connection). The process
    also needs the system clock: a test's FakeClock lives in this process only. Whatever
    cannot start says why in the log, and the next option runs the timers."""
    s = deps.settings
    if not s.redis_url:
        return None
    if s.escalation_process and isinstance(deps.clock, SystemClock):
        process = EscalationProcess(deps, lambda: run_job(deps, escalation_job(deps)))
        try:
            await process.start()
            return process
        except Exception as exc:
            log.warning("%s; escalation runs on a thread", exc)
    if not s.escalation_thread:
        return None
    thread = EscalationThread(deps, _thread_job)
    try:
        await thread.start()
    except RuntimeError as exc:
        log.warning("%s; escalation runs in the main loop", exc)
        return None
    return thread
