"""The fault suite's machinery: three `oncall-bot serve` processes on one real Redis and one
fake Slack, a private redis-server that can be restarted, and the checks every scenario
makes (every page delivered, nothing delivered twice, rungs on time).

Copied in spirit from tests/e2e/test_replicas.py (its `Bot`, `_alerts`,
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
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
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
from bot.domain.incident import Incident
from bot.domain.schedule import LadderRole
from bot.store import keys
from bot.store.incident_records import incident_from
from bot.store.incidents import IncidentStore
from bot.store.outbox import Outbox
from tests.processes import fast_config, free_port

ROOT = Path(__file__).resolve().parents[2]
INVESTOR = ("profit-agg", "growth-agg", "engagement-agg")
PAGE_CHANNEL = "#investor-kpis"
IDS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}
INITIALS = {v: k for k, v in IDS.items()}
ROSTER = sorted(IDS)
FINAL = "final"

# Every replica: fast ticks, and a pace that lets ~1,500 posts into the page channel in
# about 30 s; updates unpaced (they coalesce anyway; at the workspace-wide default of
# 0.8/s, 300 page redraws alone would take 6 min). Pacing itself is tested elsewhere.
BASE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "ALERTS_TOKEN": "t0ken",
    "ONCALL_TICK_SECONDS": "0.1",
    "SLACK_POST_RATE": "50",
    "SLACK_POST_BURST": "50",
    "SLACK_UPDATE_EVERY": "0",
    "SLACK_UPDATE_RATE": "0",
}


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
        self.is_ready = False  # healthy once: alerts may be sent to it
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
        return self.is_ready and not self.killed and self.proc.poll() is None

    async def ready(self, session: aiohttp.ClientSession, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited; see {self.log_path}"
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        self.is_ready = True
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become healthy; see {self.log_path}")

    async def try_alert(self, session: aiohttp.ClientSession, body: object) -> dict[str, Any]:
        """The answer's JSON when it is 200, else {"status": ..., "error": ...}."""
        headers = {"Authorization": "Bearer t0ken"}
        async with session.post(self.url + "/alerts", json=body, headers=headers) as resp:
            if resp.status != 200:
                return {"status": resp.status, "error": (await resp.text())[:200]}
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
                self.proc.send_signal(signal.SIGCONT)  # in case a test froze it
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

    def __init__(self, url: str, ids: list[str], every: float = 0.1) -> None:
        super().__init__(daemon=True, name="version-watcher")
        self.url = url
        self.ids = ids
        self.every = every
        self.first_seen: dict[tuple[str, int], float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        client = sync_redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        last: dict[str, tuple[int, float]] = {}  # id → (version, first seen)
        try:
            while not self.halt.is_set():
                # An incident past its lead rung whose version has not moved for a while
                # has reached its final page: stop polling it (this thread shares the
                # test process's CPU with the fake Slack).
                start = time.time()
                ids = [
                    i
                    for i in list(self.ids)
                    if not (i in last and last[i][0] >= 4 and start - last[i][1] > 8)
                ]
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
                    if v is not None and (incident_id, int(v)) not in self.first_seen:
                        self.first_seen[(incident_id, int(v))] = now
                        last[incident_id] = (int(v), now)
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
    redis: Redis
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

    async def kill_holding_rungs(self, victim: Bot, tries: int = 25) -> set[str]:
        """SIGKILL `victim` while it holds claimed rungs, if that can be caught: freeze it
        (SIGSTOP), and if rungs stay leased (scored claim time + 3 s in the due index)
        while the other replicas go on committing theirs, they are the victim's; otherwise
        let it run on (SIGCONT) and look again. Returns the incidents it held."""
        lease = IncidentStore.LEASE.total_seconds()
        held: set[str] = set()
        for _ in range(tries):
            victim.proc.send_signal(signal.SIGSTOP)
            now = time.time()
            # Due dates are at most backup_after (2 s) ahead; a claim's lease is 3 s ahead.
            leased: list[Any] = await self.redis.zrangebyscore(
                keys.ESCALATION_DUE, now + lease - 0.9, now + lease + 0.1, withscores=True
            )
            await asyncio.sleep(0.4)
            rows: list[Any] = await self.redis.zrange(keys.ESCALATION_DUE, 0, -1, withscores=True)
            after = {str(m): float(score) for m, score in rows}
            held = {str(m) for m, score in leased if after.get(str(m)) == float(score)}
            if held:
                break
            victim.proc.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.2)
        await asyncio.to_thread(victim.kill)
        self.note(f"SIGKILL {victim.name} holding {len(held)} claimed rungs")
        return held

    async def open_incidents(self, n: int, batch: int = 5, every: float = 0.25) -> None:
        """`n` alerts with distinct dedupe keys, `batch` per POST, one POST every `every`
        seconds, round robin over the live replicas. Monitoring retries a POST that fails
        (a replica killed under it, Redis down: 503); alerts a failed POST had already
        opened are joined by the retry, so each incident is counted once."""
        bodies = alerts(n, self.name)
        seen: set[str] = set()
        for k, start in enumerate(range(0, n, batch)):
            await self.at(k * every)
            attempt = 0
            while True:
                live = self.live()
                if not live:  # every replica down: wait for one to come back
                    await asyncio.sleep(0.2)
                    continue
                bot = live[(k + attempt) % len(live)]
                attempt += 1
                try:
                    answer = await bot.try_alert(self.session, bodies[start : start + batch])
                except (aiohttp.ClientError, TimeoutError) as exc:
                    answer = {"error": repr(exc)}
                if "accepted" in answer and not answer.get("rejected"):
                    break
                self.note(f"alert POST to {bot.name} failed ({answer}); retrying")
                await asyncio.sleep(0.2)
            assert len(answer["accepted"]) == len(bodies[start : start + batch]), answer
            for accepted in answer["accepted"]:
                incident_id = str(accepted["incident"])
                if incident_id not in seen:
                    seen.add(incident_id)
                    self.ids.append(incident_id)


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
    rungs: list[tuple[str, float, float, float]]  # (incident, due, fired, committed) epoch s
    worst_delivery: float  # a page DM's arrival after its rung fired
    slack_failures: int
    dead_letters: int
    dms_per_incident: set[int]  # what each incident's record says it paged, final page included
    wall: float
    events: list[str]
    logs: Path  # where the bots' logs (and, on failure, every problem found) are

    def worst_of(self, incidents: set[str]) -> float:
        """The worst committed lateness among these incidents' rungs."""
        return max((c - d for i, d, _, c in self.rungs if i in incidents), default=0.0)

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


Fault = Callable[[Fleet], Coroutine[Any, Any, None]]


async def run_scenario(
    name: str,
    tmp: Path,
    redis_url: str,
    fault: Fault,
    *,
    env: dict[str, str] | None = None,
    incidents: int = 300,
    replicas: int = 3,
    within: float = 150.0,
) -> Report:
    """Start `replicas` bots, open `incidents` incidents spread over 15 s while `fault`
    runs, wait until every incident reached its final page and the outbox stayed empty,
    and check what the fake Slack received. Everything is bounded by `within` seconds, and
    every process started here is stopped however it ends."""
    started = time.time()
    # Block Kit validity is tested elsewhere; here validating ~3,000 messages would only
    # take CPU from the bots on a 2-core machine.
    slack = FakeSlack(validate_blocks=False)
    await slack.start()
    config_dir = fast_config(tmp)
    policy = load_config(config_dir).policy.escalation
    client: Redis = Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    watcher = Watcher(redis_url, [])
    fleet: Fleet | None = None
    fault_task: asyncio.Task[None] | None = None
    deadline = asyncio.timeout(within)
    try:
        async with deadline, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(20)) as session:
            fleet = Fleet(name, tmp, slack, redis_url, env or {}, config_dir, session, client)
            for _ in range(replicas):
                fleet.spawn()
            await asyncio.gather(*(b.ready(session) for b in fleet.bots))
            watcher.ids = fleet.ids
            watcher.start()
            fleet.t0 = time.time()
            fault_task = asyncio.create_task(fault(fleet))
            await fleet.open_incidents(incidents)
            await fault_task
            await _settle(fleet, client, incidents)
            stored = await _incidents(client, fleet.ids)
            dead = await Outbox(client).dead_total()
    except TimeoutError:
        if not deadline.expired():
            raise
        progress = "?" if fleet is None else await _progress(client, fleet.ids)
        events = [] if fleet is None else fleet.events
        raise AssertionError(
            f"{name}: not done within {within:.0f} s ({progress}); events {events}; "
            f"bot logs in {tmp}"
        ) from None
    finally:
        if fault_task is not None and not fault_task.done():
            fault_task.cancel()
            with contextlib.suppress(BaseException):
                await fault_task
        if watcher.is_alive():
            watcher.stop()
        if fleet is not None:
            for bot in fleet.bots:
                bot.stop()
        await slack.stop()
        with contextlib.suppress(RedisError):
            await client.aclose()
    assert fleet is not None
    return _check(name, slack, stored, watcher, policy, fleet, dead, wall=time.time() - started)


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
        inc = incident_from(incident_id, raw) if raw else None
        if inc is not None:
            out[incident_id] = StoredIncident(
                inc,
                int(raw["version"]),
                raw.get("msg_channel"),
                raw.get("msg_ts"),
            )
    return out


# --- what Slack received ------------------------------------------------------------------------

_PAGED_AS = re.compile(r"You are paged as (.+?)\.")
_INCIDENT = re.compile(r"\b(INC-\d+)\b")
_PAGE_TITLE = re.compile(r"\bPage (INC-\d+) ·")
_JOIN_REPLY = re.compile(r"^(Another (alert|page) joined|\d+ more (alert|page)s? joined)")


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
    """The outbox notices a post carries: its own, and those of the DMs folded into it."""
    payload = (call.args.get("metadata") or {}).get("event_payload") or {}
    ids = payload.get("ids") or [payload.get("id")]
    return [str(i) for i in ids]


# The policy's delay before each role's rung (as the escalation state machine reads it).
DELAY_OF = {"backup": "backup_after", "commander": "commander_after", "lead": "lead_after"}


def _describe(posts: list[Call], calls: list[Call], lookups: list[Call], t0: float) -> str:
    """Where and when a notice was posted again: as the head of a post or folded into
    another person's DM, how many messages its channel (or thread) got in between (a retry
    looks for the first post among the latest 200), and whether anyone looked for it
    (conversations.history / .replies in that channel) before posting it again."""
    first, again = calls[0], calls[1]
    channel, thread = first.args.get("channel"), first.args.get("thread_ts")
    between = sum(
        1
        for c in posts
        if c.args.get("channel") == channel
        and c.args.get("thread_ts") == thread
        and first.at < c.at < again.at
    )
    where = f"{channel}" + (f" thread {thread}" if thread else "")
    offset = time.time() - time.monotonic()

    def post(c: Call) -> str:
        ids = notice_ids(c)
        stamp = datetime.fromtimestamp(c.at + offset).strftime("%H:%M:%S.%f")[:-3]
        return f"{stamp} (t+{c.at + offset - t0:.2f}s) with {ids[0]} +{len(ids) - 1} folded"

    looked = sum(
        1 for c in lookups if c.args.get("channel") == channel and first.at < c.at < again.at
    )
    return (
        f"{where}, {between} messages and {looked} history lookups in between: "
        f"first {post(first)}, again {post(again)}"
    )


def _delay(policy: EscalationPolicy, role: str) -> timedelta:
    """The wait after a rung before the next: the delay of the role that follows it."""
    delay: timedelta = getattr(policy, DELAY_OF.get(role, "lead_after"))
    return delay


def _fires(inc: Incident, policy: EscalationPolicy) -> list[tuple[datetime, datetime, str]]:
    """(due, fired, what) for every rung after the first, from the incident's record: each
    rung is due a delay after the previous one actually fired."""
    by_level: dict[int, datetime] = {}
    for p in inc.paged:
        by_level.setdefault(p.level, p.at)
    levels = sorted(by_level)
    out: list[tuple[datetime, datetime, str]] = []
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
    fleet: Fleet,
    dead: int,
    wall: float,
) -> Report:
    clock_offset = time.time() - time.monotonic()  # Call.at is monotonic
    posts = slack.of("chat.postMessage")
    lookups = slack.of("conversations.history") + slack.of("conversations.replies")
    missed: list[str] = []
    duplicated: list[str] = []

    # Each notice is posted once (a folded DM carries every folded notice's id).
    posted: dict[str, list[Call]] = collections.defaultdict(list)
    for c in posts:
        for nid in notice_ids(c):
            posted[nid].append(c)
    for nid, calls in posted.items():
        if len(calls) > 1:
            duplicated.append(
                f"notice {nid} posted {len(calls)} times: {_describe(posts, calls, lookups, fleet.t0)}"
            )

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
    sizes: set[int] = set()
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
        sizes.add(sum(expected.values()))
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
    # Replies telling of joining alerts (a retried alert POST joins its own incident) are
    # not transitions: counted apart from the one-per-rung rule below.
    replies = collections.Counter(
        str(c.args["thread_ts"])
        for c in posts
        if c.args.get("thread_ts") and not _JOIN_REPLY.match(str(c.args.get("text", "")))
    )
    reply_texts = collections.Counter(
        (str(c.args["thread_ts"]), str(c.args.get("text")))
        for c in posts
        if c.args.get("thread_ts") and not _JOIN_REPLY.match(str(c.args.get("text", "")))
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
    rungs: list[tuple[str, float, float, float]] = []
    for incident_id, s in stored.items():
        for k, (due, fired, _) in enumerate(_fires(s.incident, policy)):
            worst_fired = max(worst_fired, (fired - due).total_seconds())
            seen = watcher.committed(incident_id, k + 2)  # version 1 is the open
            committed = (seen if seen is not None else fired.timestamp()) - due.timestamp()
            worst_committed = max(worst_committed, committed)
            late += committed > 1.0
            rungs.append(
                (incident_id, due.timestamp(), fired.timestamp(), due.timestamp() + committed)
            )

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
        rungs=sorted(rungs, key=lambda r: r[1]),
        worst_delivery=worst_delivery,
        slack_failures=len(slack.failed_calls),
        dead_letters=dead,
        dms_per_incident=sizes,
        wall=wall,
        events=fleet.events,
        logs=fleet.tmp,
    )


def assert_clean(report: Report) -> None:
    print(report.line(), flush=True)
    if report.events:
        print(f"[faults] {report.name} events: {'; '.join(report.events)}", flush=True)
    assert report.incidents > 0
    # Primary, Backup, then Incident Commander and Lead (or two Leads), and the final page
    # to all four engineers: what the ladder gives with repeat_count = 1 and no faults.
    assert report.dms_per_incident == {8}, report.dms_per_incident
    assert report.dead_letters == 0, f"{report.dead_letters} notices parked as dead letters"
    if report.missed or report.duplicated:
        problems = report.logs / f"{report.name}-problems.txt"
        lines = [report.line(), *report.events, "MISSED", *report.missed]
        problems.write_text("\n".join([*lines, "DUPLICATED", *report.duplicated]))
        where = f"(all of them in {problems}, bot logs beside it)"
        assert not report.missed, f"{len(report.missed)} missed {where}: {report.missed[:10]}"
        assert not report.duplicated, (
            f"{len(report.duplicated)} duplicated {where}: {report.duplicated[:10]}"
        )
