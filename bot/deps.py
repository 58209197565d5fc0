"""What listeners and services need, built once at start-up and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import Clock
from bot.config import TeamConfig, load_config
from bot.domain.calendar import HolidayCalendar
from bot.services.schedule import ScheduleService
from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    config: TeamConfig
    calendar: HolidayCalendar
    redis: Redis
    clock: Clock
    schedule: ScheduleService


def build_deps(
    settings: Settings, redis: Redis, clock: Clock, config: TeamConfig | None = None
) -> Deps:
    cfg = config if config is not None else load_config(Path(settings.config_dir))
    calendar = HolidayCalendar(cfg.policy.holidays)
    return Deps(
        settings=settings,
        config=cfg,
        calendar=calendar,
        redis=redis,
        clock=clock,
        schedule=ScheduleService(cfg, calendar),
    )
