"""How each kind of notice becomes Slack calls. Called by the delivery pool with one claimed
notice; raises Wait (come back later), NotReady (depends on a message not yet posted) or a
Slack error, and returns normally once the notice needs nothing more."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, assert_never

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config.models import TeamConfig
from bot.domain.incident import Status
from bot.domain.notices import (
    ChannelPost,
    ChecklistPost,
    ChecklistRedraw,
    ConflictReminder,
    Ephemeral,
    HandoverPost,
    HolidayNote,
    HomeRefresh,
    IncidentChecklist,
    IncidentMail,
    Mail,
    MemberDM,
    Notice,
    OpenRca,
    PageDM,
    PagePost,
    PageUpdate,
    PresenceSync,
    SuppressionEnded,
    SuppressionStarted,
    SwapAnnouncement,
    SwapOutcomeDM,
    SwapRequestDM,
    SwapRequestedDM,
    SwapRequestEdit,
    ThreadReply,
)
from bot.domain.swaps import SwapStatus
from bot.services.checklists import ChecklistService
from bot.services.home import HomeService
from bot.services.notice_tasks import NoticeTasks
from bot.services.paging import PagingService
from bot.services.swaps import SwapService
from bot.slack.blocks.common import Reply, section
from bot.slack.blocks.handover import digest_reply
from bot.slack.blocks.page import dm_message, fill, folded_dm_message, page_message
from bot.slack.blocks.suppressions import ended_text, started_text
from bot.slack.blocks.swaps import (
    announcement,
    decided_dm,
    exchange_dm,
    outcome_dm,
    reminder_dm,
    request_dm,
    requested_reply,
)
from bot.slack.checklist_senders import ChecklistSending
from bot.slack.home_sender import publish_home
from bot.slack.not_ready import NotReady
from bot.slack.permalinks import Permalinks
from bot.slack.presence import PresenceSender
from bot.slack.slackout import SlackOut
from bot.store.handover import read_digest
from bot.store.incident_records import Stored

log = logging.getLogger(__name__)


# Slack's answers to a DM that mean this person cannot be paged this way.
UNREACHABLE = frozenset(
    {"user_not_found", "account_inactive", "cannot_dm_bot", "user_disabled", "not_allowed"}
)


def posts_for(notice: Notice | None) -> str | None:
    """What other notices may be waiting for this one to post, if anything."""
    match notice:
        case PagePost():
            return f"incident:{notice.incident}"
        case ChecklistPost():
            return f"run:{notice.run}"
        case SwapRequestDM():
            return f"swap:{notice.swap}"
    return None


# A page whose checklist has not opened this long after the incident opened (another
# incident of the pipeline had it, and that claim has since lapsed) offers the button.
OWN_CHECKLIST_GRACE = timedelta(minutes=1)

# A page DM links to the page message, so its first DMs (queued with the page's post) look
# for that post for a moment (no longer than this after the incident opened): a page post
# that Slack refused, paced or left unanswered must not hold back the page itself, which
# then goes without its link.
PAGE_LINK_WAIT = timedelta(seconds=15)
# The page's post is usually being made alongside its first DMs (queued together): look
# again this often, this many times (a fraction of a second in all), then send without the
# link. Not NotReady: a Retry-After or a lost answer on the channel would hold the page DM
# with it for seconds; and a storm's DMs, folded, link to whichever pages are posted.
PAGE_POST_POLL = 0.05
PAGE_POST_POLLS = 8


@dataclass
class Senders(ChecklistSending):
    config: TeamConfig
    out: SlackOut
    paging: PagingService
    checklists: ChecklistService
    swaps: SwapService
    # Notices that are not Slack messages (emails, opening an RCA); None in a bot without.
    tasks: NoticeTasks | None = None
    # Keeps the on-call user groups and topic equal to the schedule; None in a bot without.
    presence: PresenceSender | None = None
    # Draws App Home tabs (HomeRefresh); None in a bot without.
    home: HomeService | None = None
    _links: Permalinks | None = field(default=None, init=False, repr=False)

    async def send(self, notice: Notice, folded: list[PageDM]) -> None:
        now = self.out.now()
        match notice:
            case PagePost():
                await self._page_post(notice, now)
            case PageDM():
                await self._page_dms([notice, *folded], now)
            case ThreadReply():
                stored = await self._placed(notice.incident)
                if stored is not None:
                    await self._thread(notice.id, stored, fill(self.config, notice.text))
            case PageUpdate():
                stored = await self._placed(notice.incident)
                if stored is not None and stored.msg_channel and stored.msg_ts:
                    body = await self._render(stored, now)
                    await self.out.update(stored.msg_channel, stored.msg_ts, **body)
            case IncidentChecklist():
                await self._incident_checklist(notice)
            case ChecklistPost():
                await self._checklist_post(notice)
            case ChecklistRedraw():
                await self._redraw(notice.run)
            case SwapRequestDM():
                await self._swap_request(notice)
            case SwapRequestedDM():
                swap = await self.swaps.get(notice.swap)
                if swap is not None:
                    _, _, ptos = await self.swaps.request_context(swap)
                    reply = requested_reply(self.config, swap, ptos)
                    await self._dm(notice.id, swap.requester, reply)
            case SwapRequestEdit():
                await self._swap_edit(notice)
            case SwapOutcomeDM():
                swap = await self.swaps.get(notice.swap)
                if swap is not None:
                    await self._dm(notice.id, notice.member, outcome_dm(self.config, swap))
            case SwapAnnouncement():
                await self._announce(notice)
            case ConflictReminder():
                reply = reminder_dm(self.config, notice.conflict, now)
                await self._dm(notice.id, notice.conflict.member, reply)
            case HolidayNote():
                reply = exchange_dm(self.config, notice.note)
                await self._dm(notice.id, notice.note.member, reply)
            case Ephemeral():
                await AsyncWebhookClient(notice.response_url).send(
                    text=notice.text,
                    blocks=notice.blocks or None,
                    response_type="ephemeral",
                    replace_original=False,
                )
            case SuppressionStarted() | SuppressionEnded():
                draw = started_text if isinstance(notice, SuppressionStarted) else ended_text
                text = draw(self.config, notice.suppression)
                await self.out.post_once(
                    notice.id, notice.channel, text=text, blocks=[section(text)]
                )
            case MemberDM():
                text = fill(self.config, notice.text)
                await self._dm(notice.id, notice.member, Reply(text=text, blocks=[section(text)]))
            case ChannelPost():
                await self.out.post_once(
                    notice.id, notice.channel, text=notice.text, blocks=[section(notice.text)]
                )
            case HandoverPost():
                # Drawn from the snapshot queued with it, so every copy says the same.
                digest = await read_digest(self.out.redis, notice.boundary)
                if digest is None:
                    log.warning("handover digest %s expired before delivery", notice.boundary)
                    return
                reply = digest_reply(self.config, digest)
                if notice.member:
                    await self._dm(notice.id, notice.member, reply)
                elif notice.channel:
                    await self.out.post_once(
                        notice.id, notice.channel, text=reply.text, blocks=reply.blocks
                    )
            case PresenceSync():
                if self.presence is None:
                    log.warning("presence sync %s dropped: no presence sender", notice.id)
                    return
                await self.presence.sync(notice)
            case IncidentMail() | Mail() | OpenRca():
                if self.tasks is None:
                    log.warning("%s %s dropped: no task runner", notice.kind, notice.id)
                    return
                await self.tasks.run(notice)
            case HomeRefresh():
                if self.home is None:
                    log.warning("home refresh %s dropped: no home service", notice.id)
                    return
                await publish_home(self.out, self.home, self.config, notice.user)
            case _:
                assert_never(notice)

    # --- pages ---------------------------------------------------------------------------

    async def _placed(self, incident_id: str) -> Stored | None:
        """The incident, once its page message is posted; None if it is gone."""
        stored = await self.paging.stored(incident_id)
        if stored is None:
            log.warning("notice for unknown incident %s dropped", incident_id)
            return None
        if not stored.msg_ts or not stored.msg_channel:
            raise NotReady(f"incident:{incident_id}")
        return stored

    async def _render(self, stored: Stored, now: datetime) -> dict[str, Any]:
        progress = None
        offer: str | None = None
        inc = stored.incident
        if stored.checklist:
            progress = await self.checklists.progress_text(stored.checklist)
        elif inc.open and inc.pipeline in self.checklists.runbooks:
            holder = await self.checklists.auto_holder(inc.pipeline)
            if holder is not None and holder != inc.id:
                offer = holder
            elif holder is None and now - inc.opened_at > OWN_CHECKLIST_GRACE:
                offer = ""  # its turn to open one by itself passed long ago

        return page_message(
            self.config,
            stored.incident,
            now,
            stored.count,
            stored.last_value,
            progress,
            stored.window_ms,
            offer,
        )

    async def _page_post(self, notice: PagePost, now: datetime) -> None:
        stored = await self.paging.stored(notice.incident)
        if stored is None or stored.msg_ts:
            return  # gone, or already posted by an earlier, interrupted delivery
        channel = self.config.pipeline(stored.incident.pipeline).channel
        body = await self._render(stored, now)
        posted_in, ts = await self.out.post_once(notice.id, channel, urgent=True, **body)
        await self.paging.set_message(stored.incident.id, posted_in, ts)

    async def _thread(self, marker: str, stored: Stored, text: str) -> None:
        assert stored.msg_channel and stored.msg_ts
        await self.out.post_once(marker, stored.msg_channel, thread_ts=stored.msg_ts, text=text)

    async def _page_dms(self, notices: list[PageDM], now: datetime) -> None:
        """One DM for every page of this person that is due: each incident with its ACK."""
        member = self.config.member(notices[0].member)
        live = []
        # Read in one round trip: a DM folds up to 20 pages.
        reads = await self.paging.stored_many([n.incident for n in notices])
        for n, stored in zip(notices, reads, strict=True):
            # Queued before an ACK or resolve: the first ACK stops every page.
            if stored is not None and stored.incident.status is Status.TRIGGERED:
                live.append((n, stored))
        if not live:
            return
        if not member.slack_id:
            # The transition already said so in the thread (no Slack ID is known from the
            # configuration); nothing to send.
            log.warning("cannot page %s: no slack_id in team.toml", member.initials)
            return
        first = live[0][1]
        if len(live) == 1 and not first.msg_ts and now - first.incident.opened_at < PAGE_LINK_WAIT:
            for _ in range(PAGE_POST_POLLS):
                await asyncio.sleep(PAGE_POST_POLL)
                again = await self.paging.stored(first.incident.id)
                if again is not None and again.msg_ts:
                    live[0] = (live[0][0], again)
                    break
        try:
            channel = await self.out.dm_channel(member.slack_id)
            # A page whose earlier send had no answer may be in Slack already: leave it
            # out (it is done), and send the others.
            posted = await self.out.already_posted([n.id for n, _ in live], channel)
            live = [(n, st) for n, st in live if n.id not in posted]
            if not live:
                return
            if len(live) == 1:
                n, stored = live[0]
                where = self.config.pipeline(stored.incident.pipeline).channel
                link = await self._permalink(stored)
                body = dm_message(self.config, stored.incident, n.text, where, link)
            else:
                pages = [(s.incident, n.text, await self._permalink(s)) for n, s in live]
                body = folded_dm_message(self.config, pages)
            ids = [n.id for n, _ in live]
            await self.out.post_once(ids[0], channel, also=ids[1:], urgent=True, **body)
        except SlackApiError as exc:
            code = str(exc.response.get("error", ""))
            if code not in UNREACHABLE:
                raise
            # No silent miss: each incident's thread names who could not be reached, and
            # its next rung fires at once when nobody else on this one can be.
            for _, stored in live:
                await self.paging.unreachable_member(
                    stored.incident.id, member.initials, f"Slack says `{code}`", now
                )

    async def _permalink(self, stored: Stored) -> str | None:
        """The page message's permalink; None when it is not posted or Slack will not say
        (the DM then names the channel only: a page never waits on its link)."""
        if not (stored.msg_channel and stored.msg_ts):
            return None
        if self._links is None:
            self._links = Permalinks(self.out.client)
        return await self._links.get(stored.msg_channel, stored.msg_ts)

    # --- swaps ------------------------------------------------------------------------------

    async def _dm(self, marker: str, initials: str, reply: Reply) -> tuple[str, str] | None:
        member = self.config.member(initials)
        if not member.slack_id:
            log.warning("cannot DM %s: no slack_id in team.toml", initials)
            return None
        channel = await self.out.dm_channel(member.slack_id)
        return await self.out.post_once(marker, channel, text=reply.text, blocks=reply.blocks)

    async def _swap_request(self, notice: SwapRequestDM) -> None:
        swap = await self.swaps.get(notice.swap)
        if swap is None or swap.dm_ts:
            return
        # The role(s) asked for and the asked person's PTO then, as the DM states them.
        roles, back_roles, ptos = await self.swaps.request_context(swap)
        dm = request_dm(self.config, swap, roles, back_roles, ptos)
        where = await self._dm(notice.id, swap.counterpart, dm)
        if where is not None:
            await self.swaps.record_request_dm(swap.id, *where)

    async def _swap_edit(self, notice: SwapRequestEdit) -> None:
        swap = await self.swaps.get(notice.swap)
        if swap is None:
            return
        if not (swap.dm_channel and swap.dm_ts):
            if self.config.member(swap.counterpart).slack_id:
                raise NotReady(f"swap:{swap.id}")  # the request DM is still on its way
            return
        reply = decided_dm(self.config, swap)
        await self.out.update(swap.dm_channel, swap.dm_ts, text=reply.text, blocks=reply.blocks)

    async def _announce(self, notice: SwapAnnouncement) -> None:
        swap = await self.swaps.get(notice.swap)
        if swap is None:
            return
        segs = await self.swaps.segments_of(swap) if swap.status is SwapStatus.APPROVED else []
        reply = announcement(self.config, swap, segs)
        await self.out.post_once(
            notice.id,
            self.config.policy.team_channel,
            text=reply.text,
            blocks=reply.blocks,
        )
