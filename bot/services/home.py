"""What one person's App Home tab shows, gathered from the other services.

Read when the tab is published (bot/slack/home_sender.py), never on a request path: the
`app_home_opened` listener only queues a HomeRefresh. Drawn from current state each time,
so a refresh that comes late still shows the truth.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.config.models import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Incident, Status
from bot.domain.rca import ActionItem, Rca
from bot.domain.schedule import BeforeRotation, Segment
from bot.domain.shifts import Shift, horizon, shifts
from bot.domain.swaps import Swap
from bot.services.paging import PagingService
from bot.services.rcas import RcaService
from bot.services.schedule import ScheduleService
from bot.services.swaps import SwapService

# The open incidents a tab considers, most urgent first (waiting for an ACK, then pages,
# by severity, longest open): far more than it shows, so the ones paging the reader are
# among them whenever fewer than this many pages wait for an ACK.
HOME_CANDIDATES = 100


class HomeIncident(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident: Incident
    paging_you: bool


class OwnedAction(BaseModel):
    """An action item with the RCA it came from (its incident and pipeline)."""

    model_config = ConfigDict(frozen=True)

    rca: Rca
    item: ActionItem


class HomeData(BaseModel):
    """Everything one person's Home tab shows, as of `now`."""

    model_config = ConfigDict(frozen=True)

    user: str  # Slack user id
    now: datetime
    member: str | None = None  # initials; None off the roster (then only `on_call` is set)
    on_call: Segment | None = None  # None before the rotation starts
    rotation_starts: datetime
    shifts: list[Shift] = Field(default_factory=list)
    to_answer: list[Swap] = Field(default_factory=list)  # pending, asking this person
    waiting: list[Swap] = Field(default_factory=list)  # this person's own, pending
    incidents: list[HomeIncident] = Field(default_factory=list)
    # How many are open in all: `incidents` holds only the most urgent HOME_CANDIDATES.
    open_count: int = 0
    rcas: list[Rca] = Field(default_factory=list)
    actions: list[OwnedAction] = Field(default_factory=list)


class HomeService:
    def __init__(
        self,
        config: TeamConfig,
        calendar: HolidayCalendar,
        schedule: ScheduleService,
        swaps: SwapService,
        paging: PagingService,
        rcas: RcaService,
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.schedule = schedule
        self.swaps = swaps
        self.paging = paging
        self.rcas = rcas

    async def gather(self, user: str, now: datetime) -> HomeData:
        try:
            on_call: Segment | None = await self.schedule.resolve(now)
        except BeforeRotation:
            on_call = None
        base = HomeData(
            user=user, now=now, on_call=on_call, rotation_starts=self.config.rotation.start_at
        )
        member = self.config.member_by_slack_id(user)
        if member is None:
            return base
        me = member.initials
        open_count, incidents = await self._incidents(me)
        return base.model_copy(
            update={
                "member": me,
                "shifts": await self._shifts(me, now),
                **await self._swaps(me, now),
                "incidents": incidents,
                "open_count": open_count,
                "rcas": [r for r in await self.rcas.open_rcas() if r.owner == me],
                "actions": [
                    OwnedAction(rca=rca, item=item)
                    for rca, item in await self.rcas.actions(owner=me)
                ],
            }
        )

    async def _shifts(self, member: str, now: datetime) -> list[Shift]:
        # The same reading as `/oncall me`: approved swaps and PTO/holiday conflicts.
        start, end = horizon(self.config, now)
        overrides = await self.swaps.overrides(start, end)
        clashes = await self.swaps.conflicts(start, end)
        return shifts(self.config, self.calendar, member, now, overrides, clashes)

    async def _swaps(self, member: str, now: datetime) -> dict[str, list[Swap]]:
        pending, _ = await self.swaps.listing()
        # One whose window has started is past answering; the expiry job closes it.
        live = [s for s in pending if s.first_start > now]
        return {
            "to_answer": [s for s in live if s.counterpart == member],
            "waiting": [s for s in live if s.requester == member],
        }

    async def _incidents(self, member: str) -> tuple[int, list[HomeIncident]]:
        """(how many are open, the most urgent of them as the tab lists them). Read from
        the urgency index like `/oncall incidents`, not all of them: during an alert storm
        every rung redraws a tab, and decoding thousands of open incidents each time held
        the event loop for a tenth of a second (issue #14)."""
        total, page = await self.paging.store.page_open(0, HOME_CANDIDATES)
        rows = [
            HomeIncident(
                incident=stored.incident,
                paging_you=stored.incident.status is Status.TRIGGERED
                and any(p.member == member for p in stored.incident.paged),
            )
            for stored, _ in page
            if stored.incident.open
        ]
        # During an incident the tab is opened to ACK: pages waiting on you lead, then any
        # page still unACKed, newest first, since the list is capped.
        rows.sort(key=lambda r: -r.incident.opened_at.timestamp())
        rows.sort(key=lambda r: (not r.paging_you, r.incident.status is not Status.TRIGGERED))
        return total, rows
