"""What listeners and services need, built once at start-up and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import Clock
from bot.config import TeamConfig, load_config
from bot.domain.calendar import HolidayCalendar
from bot.services.schedule import ScheduleService
from bot.services.swaps import SwapService
from bot.settings import Settings
from bot.store.swaps import SwapStore


@dataclass
class Deps:
    settings: Settings
    config: TeamConfig
    calendar: HolidayCalendar
    redis: "Redis"
    clock: Clock
    schedule: ScheduleService
    swaps: SwapService


def build_deps(
    settings: Settings, redis: "Redis", clock: Clock, config: TeamConfig | None = None
) -> Deps:
    cfg = config if config is not None else load_config(Path(settings.config_dir))
    calendar = HolidayCalendar(cfg.policy.holidays)
    swaps = SwapService(cfg, calendar, SwapStore(redis), clock)
    return Deps(
        settings=settings,
        config=cfg,
        calendar=calendar,
        redis=redis,
        clock=clock,
        # Approved swaps are the last word on who holds a role (see bot.domain.swaps).
        schedule=ScheduleService(cfg, calendar, overrides=swaps.overrides, flags=swaps.flags),
        swaps=swaps,
    )
