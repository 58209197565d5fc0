"""Checklist notices as Slack calls: a page's checklist opened in its thread (once per
pipeline per `checklist_once_per` unless asked for), a `/runbook` run posted, a run redrawn
after a tick. A mixin of bot.slack.senders.Senders, which holds the services it uses."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config.models import TeamConfig
from bot.domain.checklist import ChecklistNotFound, ChecklistRun
from bot.domain.notices import ChecklistPost, IncidentChecklist, PageUpdate
from bot.services.checklists import ChecklistService
from bot.services.paging import PagingService
from bot.slack.blocks.common import error_reply
from bot.slack.blocks.runbook import parent_message, thread_messages
from bot.slack.not_ready import NotReady
from bot.slack.slackout import SlackOut
from bot.store.incident_records import Stored

log = logging.getLogger(__name__)


class ChecklistSending:
    config: TeamConfig
    out: SlackOut
    paging: PagingService
    checklists: ChecklistService

    async def _placed(self, incident_id: str) -> Stored | None:
        raise NotImplementedError  # Senders: the incident once its page is posted

    async def _incident_checklist(self, notice: IncidentChecklist) -> None:
        stored = await self._placed(notice.incident)
        if stored is None or stored.msg_channel is None or stored.msg_ts is None:
            return
        pipeline = stored.incident.pipeline
        if pipeline not in self.checklists.runbooks:
            return
        run_id = stored.checklist
        if run_id is None and not notice.requested:
            every = self.config.policy.escalation.checklist_once_per
            holder = await self.checklists.claim_auto(pipeline, stored.incident.id, every)
            if holder != stored.incident.id:
                log.info(
                    "%s: %s's checklist is in %s's thread; not opened again",
                    stored.incident.id,
                    pipeline,
                    holder,
                )
                # Its page offers "Open checklist" (it may have been drawn before).
                await self.out.outbox.enqueue(
                    [PageUpdate(incident=stored.incident.id)], self.out.now()
                )
                return
        if run_id is None:
            run_id = await self.checklists.new_id()
            run = self.checklists.new_run(
                pipeline,
                stored.msg_channel,
                run_id,
                thread_ts=stored.msg_ts,
                incident_id=stored.incident.id,
            )
            await self.checklists.save(run)
            # Two workers racing here keep whichever run was recorded first.
            run_id = await self.paging.set_checklist(stored.incident.id, run_id)
        await self._post_run(notice.id, await self.checklists.get(run_id), None)
        if notice.requested:
            # The page stops offering "Open checklist" and shows the progress instead.
            await self.out.outbox.enqueue([PageUpdate(incident=stored.incident.id)], self.out.now())

    async def _checklist_post(self, notice: ChecklistPost) -> None:
        try:
            run = await self.checklists.get(notice.run)
        except ChecklistNotFound:
            log.warning("checklist %s expired before it was posted", notice.run)
            return
        try:
            await self._post_run(notice.id, run, notice.response_url)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if notice.response_url and code in ("not_in_channel", "channel_not_found"):
                await AsyncWebhookClient(notice.response_url).send(
                    **error_reply(cannot_post(code)).body(), replace_original=False
                )
            raise

    async def _post_run(self, marker: str, run: ChecklistRun, response_url: str | None) -> None:
        """Post the parent (when the run has no thread yet) and each thread message not yet
        posted, recording each ts at once so a resumed delivery skips what is there."""
        channel, parent = run.channel, run.parent_ts
        if not run.thread_ts:
            body = parent_message(self.config, run)
            channel, parent = await self.out.post_once(
                f"{marker}#0", run.channel, text=body.text, blocks=body.blocks
            )
            await self.checklists.record_posted(
                run.id, channel=channel, parent_ts=parent, message_ts=[]
            )
            await self.out.outbox.clear_inflight([f"{marker}#0"])
            run = await self.checklists.get(run.id)
        posted = list(run.message_ts)
        for i, body in enumerate(thread_messages(self.config, run)):
            if i < len(posted):
                continue
            channel, ts = await self.out.post_once(
                f"{marker}#{i + 1}",
                run.channel,
                thread_ts=run.thread_ts,
                text=body.text,
                blocks=body.blocks,
            )
            posted.append(ts)
            await self.checklists.record_posted(
                run.id, channel=channel, parent_ts=None, message_ts=posted
            )
            await self.out.outbox.clear_inflight([f"{marker}#{i + 1}"])
        log.info("checklist %s posted in %s", run.id, channel)

    async def _redraw(self, run_id: str) -> None:
        try:
            run = await self.checklists.get(run_id)
        except ChecklistNotFound:
            return
        messages = thread_messages(self.config, run)
        if len(run.message_ts) < len(messages):
            raise NotReady(f"run:{run_id}")  # still being posted (and draws the latest state)
        if run.parent_ts is not None:
            body = parent_message(self.config, run)
            await self.out.update(run.channel, run.parent_ts, text=body.text, blocks=body.blocks)
        for ts, body in zip(run.message_ts, messages, strict=True):
            await self.out.update(run.channel, ts, text=body.text, blocks=body.blocks)


def cannot_post(code: str) -> str:
    if code in ("not_in_channel", "channel_not_found"):
        return (
            f"I can't post in this channel (`{code}`): invite me with `/invite @oncall-bot`, "
            "or run `/runbook` in a channel I'm in."
        )
    return f"Slack refused to post the checklist (`{code}`). Try again."
