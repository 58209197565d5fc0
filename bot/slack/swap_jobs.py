"""Periodic swap work: expire unanswered requests, remind people of PTO/holiday conflicts.

Safe in several replicas at once: expiry is an atomic transition only one process wins, and
each reminder is claimed with SET NX before it is sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.pto import due_reminders
from bot.services.swaps import REMINDER_HORIZON
from bot.slack.swap_notify import remind, tell_outcome
from bot.store import keys

PRUNE_EVERY = timedelta(hours=1)
log = logging.getLogger(__name__)


async def expire_swaps(deps: Deps, client: AsyncWebClient) -> None:
    for swap in await deps.swaps.expire_due():
        try:
            await tell_outcome(client, deps, swap)
        except Exception:
            # The expiry itself is stored and audited; one failed message must not keep the
            # others (or the reminder job) from running.
            log.exception("could not tell the requester that swap #%s expired", swap.id)


async def send_reminders(deps: Deps, client: AsyncWebClient) -> None:
    now = deps.clock.now()
    store = deps.swaps.store
    for conflict in await deps.swaps.conflicts(now, now + REMINDER_HORIZON):
        lead = due_reminders(conflict, now)
        if lead is None:
            continue
        key = keys.swap_reminder(
            conflict.member, int(conflict.start.timestamp()), conflict.reason, lead
        )
        if not await store.claim(key, conflict.end - now + timedelta(days=1)):
            continue
        try:
            await remind(client, deps, conflict)
        except Exception:
            # Give the claim back so a later tick (here or on another replica) retries, and
            # go on with the other reminders.
            log.exception("reminder to %s failed; will retry", conflict.member)
            await store.release(key)


async def prune(deps: Deps) -> None:
    if await deps.swaps.store.claim(keys.SWAPS_PRUNED, PRUNE_EVERY):
        await deps.swaps.store.prune(deps.clock.now(), deps.config.policy.retention)
