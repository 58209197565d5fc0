"""What listeners and services need, built once at start-up and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import Clock
from bot.config import TeamConfig, load_config
from bot.domain.calendar import HolidayCalendar
from bot.services.paging import PagingService
from bot.services.schedule import ScheduleService
from bot.settings import Settings
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox
from bot.waker import Waker


@dataclass
class Deps:
    settings: Settings
    config: TeamConfig
    calendar: HolidayCalendar
    redis: Redis
    clock: Clock
    schedule: ScheduleService
    waker: Waker
    incidents: IncidentStore
    outbox: Outbox
    paging: PagingService


def build_deps(
    settings: Settings, redis: Redis, clock: Clock, config: TeamConfig | None = None
) -> Deps:
    cfg = config if config is not None else load_config(Path(settings.config_dir))
    calendar = HolidayCalendar(cfg.policy.holidays)
    schedule = ScheduleService(cfg, calendar)
    waker = Waker()
    incidents = IncidentStore(redis, cfg.policy.retention)
    paging = PagingService(cfg, calendar, schedule, incidents, waker.wake, checklists=False)
    return Deps(
        settings=settings,
        config=cfg,
        calendar=calendar,
        redis=redis,
        clock=clock,
        schedule=schedule,
        waker=waker,
        incidents=incidents,
        outbox=Outbox(redis),
        paging=paging,
    )
