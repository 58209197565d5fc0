"""Checklist runs as the app sees them: start, record clicks, report progress.

Used by `/runbook` and by paging (a page opens a run of its pipeline's runbook in the page's
own thread, and `/oncall incidents` shows its progress). Posting and redrawing are notices:
this service stores the run and queues them in the same transaction; the Slack layer draws.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from bot.domain.checklist import (
    Change,
    ChecklistNotFound,
    ChecklistRun,
    NoRunbook,
    apply_change,
)
from bot.domain.notices import ChecklistPost, ChecklistRedraw, Notice, PageUpdate
from bot.domain.runbook import Runbook
from bot.store.checklists import ChecklistStore

log = logging.getLogger(__name__)


class ChecklistService:
    def __init__(self, store: ChecklistStore, runbooks: dict[str, Runbook], clock: Clock) -> None:
        self.store = store
        self.runbooks = runbooks
        self.clock = clock

    def runbook(self, slug: str) -> Runbook:
        runbook = self.runbooks.get(slug)
        if runbook is None:
            raise NoRunbook(slug)
        return runbook

    async def start(
        self,
        slug: str,
        channel: str,
        *,
        opened_by: str | None = None,
        response_url: str | None = None,
        thread_ts: str | None = None,
        incident_id: str | None = None,
    ) -> ChecklistRun:
        """Store a new run of ``slug``'s runbook and queue its posting.

        Without ``thread_ts`` the bot posts a summary message in ``channel`` (kept up to date
        with the progress) and the checklist in its thread; with it, the checklist goes into
        that existing thread. Raises NoRunbook.
        """
        run = self.new_run(
            slug,
            channel,
            await self.store.new_id(),
            opened_by=opened_by,
            thread_ts=thread_ts,
            incident_id=incident_id,
        )
        await self.store.save(run, [ChecklistPost(run=run.id, response_url=response_url)])
        log.info("checklist %s queued for %s in %s", run.id, slug, channel)
        return run

    def new_run(
        self,
        slug: str,
        channel: str,
        run_id: str,
        *,
        opened_by: str | None = None,
        thread_ts: str | None = None,
        incident_id: str | None = None,
    ) -> ChecklistRun:
        return ChecklistRun(
            id=run_id,
            runbook=self.runbook(slug),
            channel=channel,
            thread_ts=thread_ts or "",
            incident_id=incident_id,
            opened_by=opened_by,
            opened_at=self.clock.now(),
        )

    async def claim_auto(self, pipeline: str, incident_id: str, every: timedelta) -> str:
        """The incident allowed to open the pipeline's checklist by itself now (see
        EscalationPolicy.checklist_once_per): `incident_id`, or the one that did lately."""
        return await self.store.claim_auto(pipeline, incident_id, self.clock.now(), every)

    async def auto_holder(self, pipeline: str) -> str | None:
        """The incident whose thread holds the pipeline's checklist opened lately, if any."""
        return await self.store.auto_holder(pipeline, self.clock.now())

    async def new_id(self) -> str:
        return await self.store.new_id()

    async def save(self, run: ChecklistRun) -> None:
        await self.store.save(run)

    async def get(self, run_id: str) -> ChecklistRun:
        run = await self.store.get(run_id)
        if run is None:
            raise ChecklistNotFound(run_id)
        return run

    async def progress(self, run_id: str) -> tuple[int, int]:
        """(done, total) for a run; raises ChecklistNotFound."""
        return (await self.get(run_id)).progress

    async def progress_text(self, run_id: str) -> str | None:
        """`3/8 done` for a page message or `/oncall incidents`; None once the run expired."""
        try:
            done, total = await self.progress(run_id)
        except ChecklistNotFound:
            return None
        return f"{done}/{total} done"

    async def progress_of_record(self, raw: str | bytes | None) -> str | None:
        """`progress_text` of a record already read (`/oncall incidents` reads them with
        its page of incidents, in the same round trip)."""
        run = None if raw is None else await self.store.decode(raw)
        return None if run is None else f"{run.done}/{run.total} done"

    async def record_click(self, run_id: str, change: Change, user_id: str) -> ChecklistRun:
        """Merge one click atomically and queue the redraw (and the page's, whose message
        shows the checklist's progress) in the same transaction."""
        now = self.clock.now()

        def notices(run: ChecklistRun) -> list[Notice]:
            out: list[Notice] = [ChecklistRedraw(run=run.id)]
            if run.incident_id:
                out.append(PageUpdate(incident=run.incident_id))
            return out

        run = await self.store.update(
            run_id, lambda r: apply_change(r, change, user_id, now), notices, now
        )
        if run is None:
            raise ChecklistNotFound(run_id)
        return run

    async def record_posted(
        self, run_id: str, *, channel: str, parent_ts: str | None, message_ts: list[str]
    ) -> ChecklistRun | None:
        """Where the run's messages are, as each is posted (so a resumed post skips them)."""

        def place(run: ChecklistRun) -> ChecklistRun:
            update: dict[str, object] = {"channel": channel, "message_ts": message_ts}
            if parent_ts is not None:
                update.update(parent_ts=parent_ts, thread_ts=parent_ts)
            return run.model_copy(update=update)

        return await self.store.update(run_id, place)
