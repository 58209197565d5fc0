"""What listeners and services need, built once at start-up and passed down explicitly."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from bot.clock import Clock
from bot.config import TeamConfig, load_config
from bot.config.runbooks import load_runbooks
from bot.domain.calendar import HolidayCalendar
from bot.domain.runbook import Runbook
from bot.mail import Mailer
from bot.metrics import Metrics, PromMetrics
from bot.services.checklists import ChecklistService
from bot.services.handover import HandoverService
from bot.services.home import HomeService
from bot.services.notice_tasks import NoticeTasks
from bot.services.paging import PagingService
from bot.services.presence import PresenceService
from bot.services.rcas import RcaService
from bot.services.runs import RunService
from bot.services.schedule import ScheduleService
from bot.services.status_updates import StatusUpdateService
from bot.services.suppressions import SuppressionService
from bot.services.swaps import SwapService
from bot.settings import Settings
from bot.store.checklists import ChecklistStore
from bot.store.handover import HandoverStore
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox
from bot.store.rcas import RcaStore
from bot.store.runs import RunStore
from bot.store.status_updates import StatusUpdateStore
from bot.store.suppressions import SuppressionStore
from bot.store.swaps import SwapStore
from bot.waker import Waker


@dataclass
class Deps:
    settings: Settings
    config: TeamConfig
    calendar: HolidayCalendar
    redis: Redis
    clock: Clock
    # For `/oncall` answers: swaps up to settings.answer_staleness old (paging has its own).
    schedule: ScheduleService
    waker: Waker
    incidents: IncidentStore
    outbox: Outbox
    paging: PagingService
    # Loaded once at start-up, keyed by slug; empty when there is no runbook directory.
    runbooks: dict[str, Runbook]
    swaps: SwapService
    checklists: ChecklistService
    suppressions: SuppressionService
    status_updates: StatusUpdateService
    rcas: RcaService
    # Runs the outbox's non-Slack notices: emails (when SMTP_URL is set), opening RCAs.
    tasks: NoticeTasks
    handover: HandoverService
    runs: RunService
    # The on-call user groups, the team channel's topic and the shift notices.
    presence: PresenceService
    # Counters for GET /metrics (bot/metrics.py); the no-op unless build_deps wires one.
    metrics: Metrics = field(default_factory=Metrics)
    # Draws each person's App Home tab (HomeRefresh notices); None in a bot without.
    home: HomeService | None = None


def build_deps(
    settings: Settings,
    redis: Redis,
    clock: Clock,
    config: TeamConfig | None = None,
    runbooks: dict[str, Runbook] | None = None,
    metrics: Metrics | None = None,
) -> Deps:
    """`config` and `runbooks` when the caller loaded them already (serve checks both before
    starting); read from the settings' directories otherwise. `metrics`: a registry to
    share (the escalation thread's Deps count into the app's), else a new one."""
    cfg = config if config is not None else load_config(Path(settings.config_dir))
    calendar = HolidayCalendar(cfg.policy.holidays)
    outbox = Outbox(redis)
    swaps = SwapService(cfg, calendar, SwapStore(redis, outbox), clock)
    # Approved swaps are the last word on who holds a role (see bot.domain.swaps); pages
    # use this same schedule, so they follow swaps too.
    schedule = ScheduleService(cfg, calendar, overrides=swaps.overrides, flags=swaps.flags)
    # `/oncall` answers may use swaps up to answer_staleness old; pages (above) never do.
    answers = ScheduleService(
        cfg,
        calendar,
        overrides=functools.partial(swaps.overrides, max_age=settings.answer_staleness),
        flags=swaps.flags,
    )
    waker = Waker()
    incidents = IncidentStore(redis, cfg.policy.retention, outbox)
    if runbooks is None:
        runbooks = _runbooks(Path(settings.runbooks_dir))
    if metrics is None:
        metrics = PromMetrics()  # a registry of its own per app (see bot/metrics.py)
    paging = PagingService(
        cfg, calendar, schedule, incidents, waker.wake, checklists=bool(runbooks)
    )
    swaps.on_schedule_change = paging.schedule_changes_at
    suppressions = SuppressionService(cfg, SuppressionStore(redis, outbox), clock)
    paging.suppressed = suppressions.record_alert
    paging.metrics = metrics
    rcas = RcaService(cfg, calendar, RcaStore(redis, outbox, cfg.policy.retention, cfg.zone), clock)
    mailer = Mailer.from_settings(settings)
    if mailer.enabled:
        paging.email = True
        rcas.mail_to = list(cfg.policy.email_to)
    checklists = ChecklistService(
        ChecklistStore(redis, cfg.policy.retention, outbox), runbooks, clock
    )
    # Reads every other service to gather the Monday digest, so it is built last.
    handover = HandoverService(
        cfg,
        calendar,
        HandoverStore(redis, outbox),
        clock,
        swaps=swaps,
        paging=paging,
        checklists=checklists,
        suppressions=suppressions,
        rcas=rcas,
    )
    # The deadline watch raises and closes its alerts through paging's rules.
    runs = RunService(cfg, RunStore(redis, outbox), paging, clock)
    runs.metrics = metrics
    return Deps(
        settings=settings,
        config=cfg,
        calendar=calendar,
        redis=redis,
        clock=clock,
        schedule=answers,
        waker=waker,
        incidents=incidents,
        outbox=outbox,
        paging=paging,
        runbooks=runbooks,
        swaps=swaps,
        checklists=checklists,
        suppressions=suppressions,
        status_updates=StatusUpdateService(
            cfg, StatusUpdateStore(redis, cfg.policy.retention, outbox), incidents, clock
        ),
        rcas=rcas,
        tasks=NoticeTasks(cfg, paging, rcas, mailer if mailer.enabled else None),
        handover=handover,
        runs=runs,
        presence=PresenceService(cfg, calendar, swaps, outbox, clock),
        metrics=metrics,
        home=HomeService(cfg, calendar, schedule, swaps, paging, rcas),
    )


def _runbooks(directory: Path) -> dict[str, Runbook]:
    # A broken runbook raises RunbookError (file:line) here, stopping start-up: better than
    # serving a checklist with steps missing.
    return load_runbooks(directory) if directory.is_dir() else {}
