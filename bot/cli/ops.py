"""The commands that work on the bot's state rather than its configuration: `console`
(the bot in a terminal), `export` (swaps, PTO, RCAs) and `outbox` (dead letters)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.common import _config_dir, _fail
from bot.clock import FakeClock
from bot.config import ConfigError, TeamConfig, load_config
from bot.settings import ENV


async def _console(env: dict[str, str], at: str | None) -> int:
    from bot.console import Console, run_console
    from bot.devtools.harness import Harness
    from bot.domain.timeparse import TimeParseError, parse_instant
    from bot.store.connection import embedded

    try:
        cfg = load_config(_config_dir(env))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))
    start = datetime.now(UTC)
    if at:
        try:
            start = parse_instant(at, start, cfg.zone)[0]
        except TimeParseError as exc:
            return _fail(str(exc))
    clock = FakeClock(start)
    # One delivery worker: a page's DM and its checklist then arrive in one order every run,
    # so a script's `press 2` presses the same button each time (README, the console).
    overrides: dict[str, Any] = {"config_dir": _config_dir(env), "delivery_workers": 1}
    if env.get(ENV["runbooks_dir"]):
        overrides["runbooks_dir"] = Path(env[ENV["runbooks_dir"]])
    harness = await Harness(embedded(), clock, cfg, settings_overrides=overrides).start()
    assert harness.deps is not None and harness.app is not None
    try:
        await run_console(Console(harness, clock, cfg, tickers=[harness.run_jobs]))
    finally:
        await harness.stop()
    return 0


async def export_text(redis: Any, cfg: TeamConfig, now: datetime) -> str:
    from bot.domain.swap_export import export_toml
    from bot.store import keys
    from bot.store.outbox import Outbox
    from bot.store.swaps import SwapStore

    store = SwapStore(redis, Outbox(redis))
    swaps, ptos = await store.everything(), await store.all_ptos()
    return export_toml(swaps, ptos, cfg.zone, now, keys.SWAPS_AUDIT)


async def rca_export(rcas: Any, incidents: Any, incident_id: str) -> str:
    """The RCA as Markdown, its timeline drawn from the incident's log unless written."""
    from bot.services.rcas import parse_incident_id

    iid = parse_incident_id(incident_id)
    return str(await rcas.markdown(iid, await incidents.events(iid)))


async def _rca_text(redis: Any, cfg: TeamConfig, incident_id: str) -> str:
    from bot.clock import SystemClock
    from bot.domain.calendar import HolidayCalendar
    from bot.services.rcas import RcaService
    from bot.store.incidents import IncidentStore
    from bot.store.outbox import Outbox
    from bot.store.rcas import RcaStore

    outbox = Outbox(redis)
    store = RcaStore(redis, outbox, cfg.policy.retention, cfg.zone)
    rcas = RcaService(cfg, HolidayCalendar(cfg.policy.holidays), store, SystemClock())
    return await rca_export(rcas, IncidentStore(redis, cfg.policy.retention, outbox), incident_id)


def cmd_export(env: dict[str, str], rca: str | None = None, out: Any = sys.stdout) -> int:
    from bot.services.rcas import RcaError
    from bot.store.connection import connect

    url = env.get(ENV["redis_url"])
    if not url:
        return _fail("REDIS_URL is not set: export reads swaps, PTO and RCAs from that Redis")
    try:
        cfg = load_config(_config_dir(env))
    except ConfigError as exc:
        return _fail("bad configuration:\n  " + "\n  ".join(exc.problems))

    async def run() -> str:
        redis = connect(url)
        try:
            if rca is not None:
                return await _rca_text(redis, cfg, rca)
            return await export_text(redis, cfg, datetime.now(UTC))
        finally:
            await redis.aclose()

    try:
        print(asyncio.run(run()), end="", file=out)
    except RcaError as exc:
        return _fail(str(exc))
    return 0


async def outbox_report(redis: Any, requeue: str | None, now: datetime) -> str:
    """What `oncall-bot outbox` prints: queue depths and dead letters; re-queues on request."""
    from bot.domain.notices import load
    from bot.store.outbox import Outbox

    outbox = Outbox(redis)
    lines = []
    if requeue:
        back = await outbox.requeue_dead(None if requeue == "all" else [requeue], now)
        lines.append(f"re-queued {len(back)}: {', '.join(back) or 'none'}")
    dead = await outbox.dead()
    lines.append(
        f"outbox: {await outbox.pending()} queued; {len(dead)} dead letters "
        f"({await outbox.dead_total()} parked since the start)"
    )
    for nid, at, raw in dead:
        parked = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        what = "payload expired"
        if raw is not None:
            try:
                what = load(raw).model_dump_json(exclude={"id"})
            except ValueError:
                what = raw[:200]
        lines.append(f"  {nid}  parked {parked}  {what}")
    if dead:
        lines.append("re-queue with `oncall-bot outbox --requeue <id>` or `--requeue all`")
    return "\n".join(lines)


def cmd_outbox(env: dict[str, str], requeue: str | None, out: Any = sys.stdout) -> int:
    from bot.store.connection import connect

    url = env.get(ENV["redis_url"])
    if not url:
        return _fail("REDIS_URL is not set: the outbox lives in that Redis")

    async def run() -> str:
        redis = connect(url)
        try:
            return await outbox_report(redis, requeue, datetime.now(UTC))
        finally:
            await redis.aclose()

    print(asyncio.run(run()), file=out)
    return 0
