"""Checklist runs as the app sees them: post, record clicks, redraw, report progress.

Used by `/runbook` and by paging (a page opens a run of its pipeline's runbook in the page's
own thread, and `/oncall incidents` shows its progress).
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.checklist import Change, ChecklistRun, apply_change
from bot.domain.incident import Notice
from bot.slack.blocks.runbook import parent_message, thread_messages
from bot.store.checklists import ChecklistStore

log = logging.getLogger(__name__)

# Redraws chase concurrent clicks; each pass is needed only if another click landed meanwhile.
MAX_REDRAWS = 5


class NoRunbook(LookupError):
    """No runbook is loaded for the slug (see `oncall-bot check`)."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no runbook is loaded for '{slug}'")
        self.slug = slug


class ChecklistNotFound(LookupError):
    """The run id is unknown or its record expired (policy.retention after the last tick)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"checklist run '{run_id}' is not stored")
        self.run_id = run_id


def _store(deps: Deps) -> ChecklistStore:
    return ChecklistStore(deps.redis, deps.config.policy.retention)


async def open_checklist(
    deps: Deps,
    client: AsyncWebClient,
    slug: str,
    channel: str,
    thread_ts: str | None = None,
    incident_id: str | None = None,
    *,
    opened_by: str | None = None,
) -> str:
    """Post a new run of ``slug``'s runbook and return its run id.

    Without ``thread_ts`` the bot posts a summary message in ``channel`` (kept up to date with
    the progress) and the checklist in its thread; with it, the checklist goes into that
    existing thread and nothing else is posted. Raises NoRunbook, or SlackApiError when Slack
    refuses a post (e.g. the bot is not in the channel).
    """
    runbook = deps.runbooks.get(slug)
    if runbook is None:
        raise NoRunbook(slug)
    store = _store(deps)
    run = ChecklistRun(
        id=await store.new_id(),
        runbook=runbook,
        channel=channel,
        thread_ts=thread_ts or "",
        incident_id=incident_id,
        opened_by=opened_by,
        opened_at=deps.clock.now(),
    )
    if thread_ts is None:
        body = parent_message(deps.config, run)
        posted = await client.chat_postMessage(channel=channel, text=body.text, blocks=body.blocks)
        # Slack answers with the channel's ID even when given a name; chat.update needs the ID.
        ts = str(posted["ts"])
        run = run.model_copy(
            update={"channel": str(posted["channel"]), "thread_ts": ts, "parent_ts": ts}
        )
    message_ts: list[str] = []
    for body in thread_messages(deps.config, run):
        posted = await client.chat_postMessage(
            channel=run.channel, thread_ts=run.thread_ts, text=body.text, blocks=body.blocks
        )
        run = run.model_copy(update={"channel": str(posted["channel"])})
        message_ts.append(str(posted["ts"]))
    run = run.model_copy(update={"message_ts": message_ts})
    await store.save(run)
    log.info("checklist %s opened for %s in %s", run.id, slug, run.channel)
    return run.id


async def get_checklist(deps: Deps, run_id: str) -> ChecklistRun:
    run = await _store(deps).get(run_id)
    if run is None:
        raise ChecklistNotFound(run_id)
    return run


async def checklist_progress(deps: Deps, run_id: str) -> tuple[int, int]:
    """(done, total) for a run; raises ChecklistNotFound."""
    return (await get_checklist(deps, run_id)).progress


async def record_click(
    deps: Deps, client: AsyncWebClient, run_id: str, change: Change, user_id: str
) -> ChecklistRun:
    """Merge one click atomically, then redraw the run's messages in place."""
    now = deps.clock.now()
    run = await _store(deps).update(run_id, lambda r: apply_change(r, change, user_id, now))
    if run is None:
        raise ChecklistNotFound(run_id)
    if run.incident_id:
        # The page message shows the checklist's progress: have it redrawn too.
        await deps.outbox.enqueue([Notice(kind="update_page", incident=run.incident_id)], now)
        deps.waker.wake()
    await redraw(deps, client, run)
    return run


async def redraw(deps: Deps, client: AsyncWebClient, run: ChecklistRun) -> None:
    """Edit the parent and thread messages to show ``run``, then any newer revision.

    Two clicks redraw concurrently and Slack applies edits in arrival order, so an older
    drawing can land last; checking the stored revision afterwards repairs that.
    """
    store = _store(deps)
    for _ in range(MAX_REDRAWS):
        await _draw(deps, client, run)
        latest = await store.get(run.id)
        if latest is None or latest.revision <= run.revision:
            return
        run = latest


async def _draw(deps: Deps, client: AsyncWebClient, run: ChecklistRun) -> None:
    if run.parent_ts is not None:
        body = parent_message(deps.config, run)
        await client.chat_update(
            channel=run.channel, ts=run.parent_ts, text=body.text, blocks=body.blocks
        )
    for ts, body in zip(run.message_ts, thread_messages(deps.config, run), strict=True):
        await client.chat_update(channel=run.channel, ts=ts, text=body.text, blocks=body.blocks)


async def progress_text(deps: Deps, run_id: str) -> str | None:
    """`3/8 done` for a page message or `/oncall incidents`; None once the run has expired."""
    try:
        done, total = await checklist_progress(deps, run_id)
    except ChecklistNotFound:
        return None
    return f"{done}/{total} done"
