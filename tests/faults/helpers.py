"""The fault suite's machinery: three `oncall-bot serve` processes on one real Redis and one
fake Slack, a private redis-server that can be restarted, and the checks every scenario
makes (every page delivered, nothing delivered twice, rungs on time).

Copied in spirit from tests/e2e/test_replicas.py (its `Bot`, `_fast_config`, `_alerts`,
`_page_dms`), grown for hundreds of incidents and for faults injected while they escalate.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import redis as sync_redis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import load_config
from bot.config.models import EscalationPolicy
from bot.devtools.fakeslack import Call, FakeSlack
from bot.domain.incident import DELAY_OF, Incident
from bot.domain.schedule import LadderRole
from bot.store import keys
from bot.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
INVESTOR = ("profit-agg", "growth-agg", "engagement-agg")
PAGE_CHANNEL = "#investor-kpis"
IDS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}
INITIALS = {v: k for k, v in IDS.items()}
ROSTER = sorted(IDS)
FINAL = "final"

# Every replica: fast ticks, and a pace that lets ~1,500 posts into the page channel in
# about 30 s (pacing itself is tested elsewhere); updates unpaced (they coalesce anyway).
BASE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "ALERTS_TOKEN": "t0ken",
    "ONCALL_TICK_SECONDS": "0.1",
    "SLACK_POST_RATE": "50",
    "SLACK_POST_BURST": "50",
    "SLACK_UPDATE_EVERY": "0",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_config(tmp: Path, backup_after: str = "2s", step: str = "1s") -> Path:
    """The shipped schedules with escalation in seconds and one repeat (the final page)."""
    target = tmp / "schedules"
    shutil.copytree(ROOT / "schedules", target)
    policy = target / "policy.toml"
    text = policy.read_text()
    for old, new in [
        ('backup_after = "10m"', f'backup_after = "{backup_after}"'),
        ('commander_after = "15m"', f'commander_after = "{step}"'),
        ('lead_after = "15m"', f'lead_after = "{step}"'),
        ('repeat_every = "15m"', f'repeat_every = "{step}"'),
        ("repeat_count = 4", "repeat_count = 1"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    policy.write_text(text)
    return target


def alerts(n: int, prefix: str, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "pipeline": INVESTOR[i % 3],
            "signal": "freshness",
            "summary": f"{prefix} {i}",
            "dedupe_key": f"{prefix}-{i}",
        }
        for i in range(start, start + n)
    ]


# --- processes ------------------------------------------------------------------------------


class Bot:
    """One `oncall-bot serve` process; its output goes to `<log_dir>/<name>.log`."""

    def __init__(
        self,
        name: str,
        slack: FakeSlack,
        config_dir: Path,
        redis_url: str,
        log_dir: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.killed = False
        full_env = {
            **os.environ,
            **BASE_ENV,
            "REDIS_URL": redis_url,
            "PORT": str(self.port),
            "SLACK_API_URL": slack.api_url,
            "ONCALL_CONFIG_DIR": str(config_dir),
            "ONCALL_RUNBOOKS_DIR": str(config_dir / "no-runbooks"),
            **(env or {}),
        }
        self._log: IO[bytes] = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=full_env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return not self.killed and self.proc.poll() is None

    async def ready(self, session: aiohttp.ClientSession, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited; see {self.log_path}"
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become healthy; see {self.log_path}")

    async def alert(self, session: aiohttp.ClientSession, body: object) -> dict[str, Any]:
        headers = {"Authorization": "Bearer t0ken"}
        async with session.post(self.url + "/alerts", json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            answer: dict[str, Any] = await resp.json()
            return answer

    def kill(self) -> None:
        """SIGKILL: no cleanup, leases and in-flight sends left as they are."""
        self.killed = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        finally:
            self._log.close()


class RedisServer:
    """A private redis-server with AOF persistence, which a test may stop and start again
    on the same port and directory (the shared one must never be restarted)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, within: float = 15.0) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--dir",
                str(self.dir),
                "--logfile",
                "redis.log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = sync_redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + within
        try:
            while True:
                assert self.proc.poll() is None, f"redis-server exited; see {self.dir}/redis.log"
                try:
                    if client.ping():
                        return
                except RedisError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("redis-server did not start")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM: Redis shuts down cleanly (the AOF is flushed and fsynced)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Watcher(threading.Thread):
    """Polls every incident's version from its own thread (the test's event loop is busy
    serving the fake Slack) and notes when each version was first seen: when a rung was
    committed, as seen from outside the bots, within one poll."""

    def __init__(self, url: str, ids: list[str], every: float = 0.05) -> None:
        super().__init__(daemon=True, name="version-watcher")
        self.url = url
        self.ids = ids
        self.every = every
        self.first_seen: dict[tuple[str, int], float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        client = sync_redis.Redis.from_url(
            self.url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        try:
            while not self.halt.is_set():
                ids = list(self.ids)
                try:
                    pipe = client.pipeline(transaction=False)
                    for incident_id in ids:
                        pipe.hget(keys.incident(incident_id), "version")
                    versions = pipe.execute()
                except RedisError:
                    self.halt.wait(0.05)
                    continue
                now = time.time()
                for incident_id, v in zip(ids, versions, strict=True):
                    if v is not None:
                        self.first_seen.setdefault((incident_id, int(v)), now)
                self.halt.wait(self.every)
        finally:
            client.close()

    def committed(self, incident_id: str, version: int) -> float | None:
        """When `version` (or a later one, if a poll missed it) was first seen."""
        seen = [t for (i, v), t in self.first_seen.items() if i == incident_id and v >= version]
        return min(seen) if seen else None

    def stop(self) -> None:
        self.halt.set()
        self.join(5)


# --- a scenario -------------------------------------------------------------------------------


@dataclass
class Fleet:
    """Three replicas, a fake Slack and the incidents opened; handed to a scenario's fault."""

    name: str
    tmp: Path
    slack: FakeSlack
    redis_url: str
    env: dict[str, str]
    config_dir: Path
    session: aiohttp.ClientSession
    bots: list[Bot] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    t0: float = 0.0  # wall time the first alert was posted
    events: list[str] = field(default_factory=list)

    def spawn(self) -> Bot:
        bot = Bot(
            f"{self.name}-{len(self.bots)}",
            self.slack,
            self.config_dir,
            self.redis_url,
            self.tmp,
            self.env,
        )
        self.bots.append(bot)
        return bot

    def live(self) -> list[Bot]:
        return [b for b in self.bots if b.alive]

    async def at(self, seconds: float) -> None:
        """Sleep until `seconds` after the first alert."""
        await asyncio.sleep(max(0.0, self.t0 + seconds - time.time()))

    def note(self, what: str) -> None:
        self.events.append(f"t+{time.time() - self.t0:.1f}s {what}")

    async def open_incidents(self, n: int, batch: int = 10, every: float = 0.1) -> None:
        """`n` alerts with distinct dedupe keys, `batch` per POST, one POST every `every`
        seconds, round robin over the live replicas."""
        bodies = alerts(n, self.name)
        for k, start in enumerate(range(0, n, batch)):
            await self.at(k * every)
            live = self.live()
            answer = await live[k % len(live)].alert(self.session, bodies[start : start + batch])
            for accepted in answer["accepted"]:
                assert accepted["created"], accepted
                self.ids.append(str(accepted["incident"]))


@dataclass
class Report:
    name: str
    incidents: int
    dm_lines: int
    dm_posts: int
    posts: int
    updates: int
    missed: list[str]
    duplicated: list[str]
    worst_fired: float  # rung lateness by the bots' own clock (stepped_at, paged[].at)
    worst_committed: float  # rung lateness as the watcher saw the commit
    late_rungs: int  # rungs committed more than 1 s after due
    worst_delivery: float  # a page DM's arrival after its rung fired
    slack_failures: int
    wall: float
    events: list[str]

    def line(self) -> str:
        return (
            f"[faults] {self.name}: {self.incidents} incidents, {self.dm_lines} page DMs "
            f"in {self.dm_posts} DM posts, {self.posts} posts + {self.updates} updates, "
            f"missed {len(self.missed)}, duplicated {len(self.duplicated)}, "
            f"worst rung lateness {self.worst_committed:.2f} s committed "
            f"({self.worst_fired:.2f} s by the bots' clock; {self.late_rungs} rungs > 1 s), "
            f"worst DM delivery {self.worst_delivery:.1f} s after its rung, "
            f"{self.slack_failures} Slack faults, wall {self.wall:.0f} s"
        )


Fault = Callable[[Fleet], Awaitable[None]]


async def run_scenario(
    name: str,
    tmp: Path,
    redis_url: str,
    fault: Fault,
    *,
    env: dict[str, str] | None = None,
    incidents: int = 300,
    replicas: int = 3,
    settle_within: float = 120.0,
) -> Report:
    """Start `replicas` bots, open `incidents` incidents spread over ~3 s while `fault`
    runs, wait until every incident reached its final page and the outbox is empty, and
    check what the fake Slack received."""
    started = time.time()
    slack = FakeSlack()
    await slack.start()
    config_dir = fast_config(tmp)
    policy = load_config(config_dir).policy.escalation
    client: Redis = Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    watcher: Watcher | None = None
    fleet: Fleet | None = None
    fault_task: asyncio.Task[None] | None = None
    try:
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            fleet = Fleet(name, tmp, slack, redis_url, env or {}, config_dir, session)
            for _ in range(replicas):
                fleet.spawn()
            await asyncio.gather(*(b.ready(session) for b in fleet.bots))
            watcher = Watcher(redis_url, fleet.ids)
            watcher.start()
            fleet.t0 = time.time()
            fault_task = asyncio.create_task(fault(fleet))
            await fleet.open_incidents(incidents)
            async with asyncio.timeout(settle_within):
                await fault_task
                await _settle(fleet, client, incidents)
            stored = await _incidents(client, fleet.ids)
            dead = await Outbox(client).dead_total()
    except TimeoutError:
        progress = "?" if fleet is None else await _progress(client, fleet.ids)
        logs = "" if fleet is None else ", ".join(str(b.log_path) for b in fleet.bots)
        events = [] if fleet is None else fleet.events
        raise AssertionError(
            f"{name}: not settled within {settle_within:.0f} s ({progress}); events {events}; "
            f"logs: {logs}"
        ) from None
    finally:
        if fault_task is not None and not fault_task.done():
            fault_task.cancel()
            with contextlib.suppress(BaseException):
                await fault_task
        if watcher is not None:
            watcher.stop()
        if fleet is not None:
            for bot in fleet.bots:
                bot.stop()
        await slack.stop()
        with contextlib.suppress(RedisError):
            await client.aclose()
    assert watcher is not None and fleet is not None
    report = _check(name, slack, stored, watcher, policy, time.time() - started, fleet.events)
    assert dead == 0, f"{name}: {dead} notices were parked as dead letters"
    assert not slack.invalid, slack.invalid[:3]
    return report


async def _progress(client: Redis, ids: list[str]) -> str:
    try:
        stored = await _incidents(client, ids)
        pending = await Outbox(client).pending()
    except RedisError as exc:
        return f"Redis: {exc}"
    done = sum(1 for s in stored.values() if s.incident.exhausted)
    return f"{done}/{len(ids)} incidents at their final page, {pending} notices queued"


async def _settle(fleet: Fleet, client: Redis, incidents: int) -> None:
    """Until every incident reached its final page and the outbox stayed empty for a while
    (anything duplicated would have arrived by then)."""
    quiet_since: float | None = None
    while True:
        await asyncio.sleep(0.25)
        try:
            stored = await _incidents(client, fleet.ids)
            pending = await Outbox(client).pending()
        except RedisError:
            quiet_since = None
            continue
        finished = len(stored) == incidents and all(s.incident.exhausted for s in stored.values())
        if not (finished and pending == 0):
            quiet_since = None
            continue
        quiet_since = quiet_since or time.monotonic()
        if time.monotonic() - quiet_since >= 1.5:
            return


@dataclass
class StoredIncident:
    incident: Incident
    version: int
    msg_channel: str | None
    msg_ts: str | None


async def _incidents(client: Redis, ids: list[str]) -> dict[str, StoredIncident]:
    pipe = client.pipeline(transaction=False)
    for incident_id in ids:
        pipe.hgetall(keys.incident(incident_id))
    out = {}
    for incident_id, raw in zip(ids, await pipe.execute(), strict=True):
        if raw and "data" in raw:
            out[incident_id] = StoredIncident(
                Incident.model_validate_json(raw["data"]),
                int(raw["version"]),
                raw.get("msg_channel"),
                raw.get("msg_ts"),
            )
    return out


# --- what Slack received ------------------------------------------------------------------------

_PAGED_AS = re.compile(r"You are paged as (.+?)\.")
_INCIDENT = re.compile(r"\b(INC-\d+)\b")
_PAGE_TITLE = re.compile(r"\bPage (INC-\d+) ·")


def dm_kind(text: str) -> str:
    """What a page DM line is: the role it pages, FINAL, or the text itself (unexpected)."""
    if text.startswith("Final page"):
        return FINAL
    m = _PAGED_AS.match(text)
    return m.group(1) if m else text


def page_dms(slack: FakeSlack) -> list[tuple[str, str, str, Call]]:
    """(incident, member, line text, call) for every page DM line; a DM may fold several
    pages, one line each."""
    out = []
    for c in slack.of("chat.postMessage"):
        channel = str(c.args.get("channel", ""))
        if not channel.startswith("D"):
            continue
        for line in str(c.args.get("text", "")).splitlines():
            m = _INCIDENT.search(line)
            if m and " INC-" in line:
                out.append((m.group(1), INITIALS[channel[1:]], line.split(" *")[0], c))
    return out


def notice_ids(call: Call) -> list[str]:
    payload = (call.args.get("metadata") or {}).get("event_payload") or {}
    ids = payload.get("ids") or [payload.get("id")]
    return [str(i) for i in ids]


def _delay(policy: EscalationPolicy, role: str) -> timedelta:
    # As bot.domain.incident._delay: the delay of the role after the rung reached last.
    delay: timedelta = getattr(policy, DELAY_OF.get(role, "lead_after"))
    return delay


def _fires(inc: Incident, policy: EscalationPolicy) -> list[tuple[datetime, datetime, str]]:
    """(due, fired, what) for every rung after the first, from the incident's record: each
    rung is due a delay after the previous one actually fired."""
    by_level: dict[int, datetime] = {}
    for p in inc.paged:
        by_level.setdefault(p.level, p.at)
    levels = sorted(by_level)
    out = []
    prev_level, prev_at = levels[0], by_level[levels[0]]
    for level in levels[1:]:
        due = prev_at + _delay(policy, inc.rungs[prev_level + 1])
        out.append((due, by_level[level], inc.rungs[level]))
        prev_level, prev_at = level, by_level[level]
    if inc.exhausted and inc.repeats and inc.stepped_at is not None:
        out.append((prev_at + policy.repeat_every, inc.stepped_at, FINAL))
    return out


def _check(
    name: str,
    slack: FakeSlack,
    stored: dict[str, StoredIncident],
    watcher: Watcher,
    policy: EscalationPolicy,
    wall: float,
    events: list[str],
) -> Report:
    clock_offset = time.time() - time.monotonic()  # Call.at is monotonic
    posts = slack.of("chat.postMessage")
    missed: list[str] = []
    duplicated: list[str] = []

    # Each notice is posted once (a folded DM carries every folded notice's id).
    for nid, n in collections.Counter(i for c in posts for i in notice_ids(c)).items():
        if n > 1:
            duplicated.append(f"notice {nid} posted {n} times")

    # Page DMs: per incident, what its record says it paged, plus the final page to all.
    dms = page_dms(slack)
    got: dict[str, collections.Counter[tuple[str, str]]] = collections.defaultdict(
        collections.Counter
    )
    arrival: dict[tuple[str, str, str], float] = {}
    for incident_id, member, text, call in dms:
        got[incident_id][(member, dm_kind(text))] += 1
        arrival.setdefault((incident_id, member, dm_kind(text)), call.at + clock_offset)
    worst_delivery = 0.0
    for incident_id, s in stored.items():
        inc = s.incident
        expected: collections.Counter[tuple[str, str]] = collections.Counter(
            (p.member, LadderRole(inc.rungs[p.level]).label) for p in inc.paged
        )
        fired_at = {
            (p.member, LadderRole(inc.rungs[p.level]).label): p.at.timestamp() for p in inc.paged
        }
        if inc.exhausted and inc.repeats:
            for m in ROSTER:
                expected[(m, FINAL)] += 1
                if inc.stepped_at is not None:
                    fired_at[(m, FINAL)] = inc.stepped_at.timestamp()
        for key in (expected - got[incident_id]).elements():
            missed.append(f"{incident_id} DM {key}")
        for key in (got[incident_id] - expected).elements():
            duplicated.append(f"{incident_id} DM {key}")
        for key, at in fired_at.items():
            if (incident_id, *key) in arrival:
                worst_delivery = max(worst_delivery, arrival[(incident_id, *key)] - at)
        if not inc.exhausted:
            missed.append(f"{incident_id} never reached its final page")
    for incident_id in set(got) - set(stored):
        duplicated.append(f"DMs for unknown incident {incident_id}")

    # One page post per incident, and one thread reply per rung after the first.
    page_posts = collections.Counter(
        m.group(1)
        for c in posts
        if not str(c.args.get("channel", "")).startswith("D") and not c.args.get("thread_ts")
        for m in [_PAGE_TITLE.search(str(c.args.get("text", "")))]
        if m
    )
    replies = collections.Counter(
        str(c.args["thread_ts"]) for c in posts if c.args.get("thread_ts")
    )
    reply_texts = collections.Counter(
        (str(c.args["thread_ts"]), str(c.args.get("text"))) for c in posts if c.args.get("thread_ts")
    )
    for (ts, text), n in reply_texts.items():
        if n > 1:
            duplicated.append(f"thread {ts} reply {text!r} x{n}")
    for incident_id, s in stored.items():
        n = page_posts.get(incident_id, 0)
        if n == 0:
            missed.append(f"{incident_id} page post")
        elif n > 1:
            duplicated.append(f"{incident_id} page post x{n}")
        want = s.version - 1  # every transition after the open replied in the thread
        have = replies.get(str(s.msg_ts), 0) if s.msg_ts else 0
        if have < want:
            missed.append(f"{incident_id} thread replies {have}/{want}")
        elif have > want:
            duplicated.append(f"{incident_id} thread replies {have}/{want}")

    # Rung lateness: by the bots' clock (the `now` the rung was committed with), and as
    # the watcher saw the commit land.
    worst_fired = worst_committed = 0.0
    late = 0
    for incident_id, s in stored.items():
        for k, (due, fired, _) in enumerate(_fires(s.incident, policy)):
            worst_fired = max(worst_fired, (fired - due).total_seconds())
            seen = watcher.committed(incident_id, k + 2)  # version 1 is the open
            committed = (seen if seen is not None else fired.timestamp()) - due.timestamp()
            worst_committed = max(worst_committed, committed)
            late += committed > 1.0

    return Report(
        name=name,
        incidents=len(stored),
        dm_lines=len(dms),
        dm_posts=len({id(c) for *_, c in dms}),
        posts=len(posts),
        updates=len(slack.of("chat.update")),
        missed=missed,
        duplicated=duplicated,
        worst_fired=worst_fired,
        worst_committed=worst_committed,
        late_rungs=late,
        worst_delivery=worst_delivery,
        slack_failures=len(slack.failed_calls),
        wall=wall,
        events=events,
    )


def assert_clean(report: Report) -> None:
    print(report.line(), flush=True)
    if report.events:
        print(f"[faults] {report.name} events: {'; '.join(report.events)}", flush=True)
    assert report.incidents > 0
    assert not report.missed, f"{len(report.missed)} missed: {report.missed[:10]}"
    assert not report.duplicated, f"{len(report.duplicated)} duplicated: {report.duplicated[:10]}"
