"""What listeners and services need, built once at start-up and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import Clock
from bot.config import TeamConfig, load_config
from bot.domain.calendar import HolidayCalendar
from bot.domain.runbook import Runbook, load_runbooks
from bot.services.schedule import ScheduleService
from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    config: TeamConfig
    calendar: HolidayCalendar
    redis: "Redis"
    clock: Clock
    schedule: ScheduleService
    # Loaded once at start-up, keyed by slug; empty when there is no runbook directory.
    runbooks: dict[str, Runbook] = field(default_factory=dict)


def build_deps(
    settings: Settings, redis: "Redis", clock: Clock, config: TeamConfig | None = None
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
        runbooks=_runbooks(Path(settings.runbooks_dir)),
    )


def _runbooks(directory: Path) -> dict[str, Runbook]:
    # A broken runbook raises RunbookError (file:line) here, stopping start-up: better than
    # serving a checklist with steps missing.
    return load_runbooks(directory) if directory.is_dir() else {}
