"""Escalation and Slack delivery under load: the real loops, real time, real Redis.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/delivery.py \
        [rungs|storm|retry ...] [--replicas N] [--no-runbooks]

Flushes that database before each scenario. Each scenario starts N complete apps (each its
own Redis client and `bot.runtime.run_forever`: escalation, delivery pool, housekeeping) that
share one fake Slack answering message calls in 50 ms, with the production pacing (1 post/s
per channel, burst 4, one chat.update per message per 3 s).

- rungs: 600 escalation rungs fall due uniformly over 60 s, on all four engineers. The
  incidents are opened directly in the store, silently, with their page messages seeded as
  already posted (posting 600 pages into one channel first would take 10 min at the pace);
  each walks two rungs of this week's ladder, the second held by the engineer wanted. Rung
  lateness = commit time - due time (as the escalation worker reports it to the app); DM
  lateness = the fake Slack's receipt of the DM naming the incident (DMs fold several
  pages) - due time. Goals: rung p99 <= 100 ms, DM p99 <= 1.5 s, each rung DMed to its
  person exactly once.
- storm: 10,000 alerts in 60 s (100 every 0.6 s) on 50 dedupe keys over the 3 investor
  pipelines; key k first fires at 1.2 k s and then in every batch. Goals: exactly 50 page
  posts, each within 5 s of its first alert; per channel at most burst+1 posts in any 1 s
  and burst + 10 x rate in any 10 s; outbox empty within 10 s of the last alert.
  `--no-runbooks` drops the incident checklists (they post into the page's thread, so into
  the same channel's pace).
- retry: the pipelines' channel answers one chat.postMessage with 429 Retry-After: 65, then
  120 rungs over 20 s as in `rungs`. Goals as for rungs (DMs are other channels).

Under each scenario line: the delivery pool's claims and put-backs (a notice put back for
later whose move was refused stays leased: it waits out the 10 s lease), pages that went
out after a later-due page for the same person, the slowest items, and the bot's warnings.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import logging
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from bot.clock import SystemClock
from bot.config import load_config
from bot.config.models import FULL_LADDER
from bot.deps import Deps
from bot.devtools.fakeslack import Call, FakeSlack
from bot.devtools.harness import Harness
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.escalation_process import EscalationProcess
from bot.launch import settle_gc
from bot.runtime import run_forever
from bot.services.paging import PagingService
from bot.slack.delivery import DeliveryPool
from bot.store.connection import connect
from bot.store.incidents import IncidentStore
from bot.store.outbox import LANES

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}
BY_ID = {v: k for k, v in MEMBERS.items()}
INVESTOR = ["profit-agg", "growth-agg", "engagement-agg"]
RATE, BURST, UPDATE_EVERY = 1.0, 4, 3.0
SLACK_SECONDS = 0.05
RUNG_GOAL_MS, DM_GOAL_S, PAGE_GOAL_S, EMPTY_GOAL_S = 100.0, 1.5, 5.0, 10.0
PAGE_RE = re.compile(r"Page (INC-\d+) ")


class LogCount(logging.Handler):
    lines: ClassVar[collections.Counter[str]] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        msg = re.sub(r"\d+", "N", record.getMessage()[:100])
        self.lines[f"{record.levelname} {record.name}: {msg}"] += 1


LOGS = LogCount(logging.WARNING)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def wall(call: Call) -> float:
    """A call's monotonic receipt time on the wall clock (due times are wall-clock)."""
    return call.at + (time.time() - time.monotonic())


def most_per_channel(calls: list[Call], width: float) -> int:
    """The most calls to one channel in any `width` seconds."""
    times: dict[str, list[float]] = collections.defaultdict(list)
    for c in calls:
        times[str(c.args.get("channel"))].append(c.at)
    return max((most_in(t, width) for t in times.values()), default=0)


def most_in(times: list[float], width: float) -> int:
    """The most events in any window [t, t + width)."""
    times, best, j = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - width:
            j += 1
        best = max(best, i - j + 1)
    return best


class Apps:
    """`replicas` complete bots on one Redis database and one fake Slack, loops running."""

    def __init__(self, url: str, replicas: int, runbooks: bool) -> None:
        self.url, self.replicas, self.runbooks = url, replicas, runbooks
        self.slack = FakeSlack()
        self.harnesses: list[Harness] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.stats: collections.Counter[str] = collections.Counter()

    async def __aenter__(self) -> Apps:
        await self.slack.start()
        self.slack.slow(SLACK_SECONDS)
        config = load_config(ROOT / "schedules")
        overrides = {
            "runbooks_dir": ROOT / ("runbooks" if self.runbooks else "no-runbooks"),
            "slack_post_rate": RATE,
            "slack_post_burst": BURST,
            "slack_update_every": UPDATE_EVERY,
            # The bot's default (0: edits paced per message only); BENCH_UPDATE_RATE=0.8 caps
            # all edits at Slack's Tier 3 (~50/min), which makes a storm's redraws queue.
            "slack_update_rate": float(os.environ.get("BENCH_UPDATE_RATE", "0")),
            # As `serve` runs: with REDIS_URL the escalation timers get a thread of their own.
            "redis_url": self.url,
        }
        for i in range(self.replicas):
            redis = connect(self.url)
            if i == 0:
                await redis.flushdb()
            h = Harness(redis, SystemClock(), config, overrides, slack=self.slack)
            h.autodeliver = False
            self.harnesses.append(await h.start())
        # As `serve` does once started (bot/cli/serve.py): what start-up built is frozen out of
        # the collector's sight and young collections are rare. Without it a full collection
        # over the process's objects holds the interpreter lock for tens of milliseconds, and
        # the escalation thread waits: rung lateness p99 53.9 ms against 31.0 ms (issue #14).
        settle_gc()
        for h in self.harnesses:
            assert h.deps is not None and h.pool is not None
            watch(h.pool, self.stats)
            self.tasks.append(asyncio.create_task(run_forever(h.deps, h.jobs(), h.pool)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for h in self.harnesses:
            await h.stop()
        await self.slack.stop()
        gc.unfreeze()  # the next scenario's Apps freezes its own
        await self.harnesses[0].redis.flushdb()
        for h in self.harnesses:
            await h.redis.aclose()

    @property
    def deps(self) -> Deps:
        assert self.harnesses[0].deps is not None
        return self.harnesses[0].deps

    async def pending(self) -> int:
        return await self.deps.outbox.pending()


def watch(pool: DeliveryPool, stats: collections.Counter[str]) -> None:
    """Count claims, and notices put back for later (pace, Retry-After, not ready) whose move
    was refused because the lease under them changed (they then wait out the lease)."""
    claim, move = pool.outbox.claim, pool.outbox.move

    async def claim_(now: datetime, limit: int) -> Any:
        out = await claim(now, limit)
        stats["claimed"] += len(out)
        return out

    async def move_(held: list[Any], at: datetime) -> set[str]:
        # Wraps the store's move, so the pool's own locking stays what is measured.
        moved = await move(held, at)
        stats["put back"] += len(held)
        for c in held:
            if c.id not in moved:
                stats["put back refused"] += 1
                score = await pool.outbox.redis.zscore(LANES[c.lane], c.id)
                late = "gone" if score is None else f"{score - at.timestamp():.0f} s late"
                stats[f"refused {getattr(c.notice, 'kind', '?')}: {late}"] += 1
        return moved

    pool.outbox.claim = claim_  # type: ignore[method-assign]

    # DeliveryPool._later with the count added; same lock, same pop, same store call.
    async def later(group: list[Any], at: datetime) -> None:
        async with pool._leases:
            await move_([pool.held.pop(c.id, c) for c in group], at)

    pool._later = later  # type: ignore[method-assign]


def report_stats(apps: Apps) -> str:
    s = apps.stats
    sent = sum(h.pool.sent for h in apps.harnesses if h.pool is not None)
    refused = [f"{n} x {what}" for what, n in s.items() if what.startswith("refused ")]
    return (
        f"  delivery: {sent} notices sent, {s['claimed']} claims, {s['put back']} put back for "
        f"later, {s['put back refused']} of them refused ({'; '.join(refused) or '-'})"
    )


@contextlib.contextmanager
def observe(fired: list[tuple[str, float, float]]) -> Iterator[None]:
    """Record (incident, due, committed at) for every rung any escalation fires. With
    REDIS_URL, as here, each replica's timers run in a process of their own, which reports
    each tick's rungs with when the tick committed them (bot/escalation_process.py); where
    the timers run in this process (on a thread, or in the loop), on the classes' methods,
    not instances: the thread has Deps of its own. The list and dict are only appended to
    and popped from, which the interpreter lock keeps whole across threads."""
    tick, commit_many = PagingService.tick, IncidentStore.commit_many
    reported = EscalationProcess.fired

    def fired_(self: EscalationProcess, steps: list[list[Any]]) -> None:
        fired.extend((str(inc), float(due), float(at)) for inc, due, at in steps)

    committed: dict[str, float] = {}

    async def commit_many_(self: IncidentStore, commits: Any, now: datetime) -> list[bool]:
        out = await commit_many(self, commits, now)
        at = time.time()
        for c, ok in zip(commits, out, strict=True):
            if ok:
                committed[c.after.id] = at
        return out

    async def tick_(self: PagingService, now: datetime) -> list[tuple[str, datetime]]:
        out = await tick(self, now)
        for inc, due in out:
            fired.append((inc, due.timestamp(), committed.pop(inc, time.time())))
        return out

    IncidentStore.commit_many = commit_many_  # type: ignore[method-assign]
    PagingService.tick = tick_  # type: ignore[method-assign]
    EscalationProcess.fired = fired_  # type: ignore[method-assign]
    try:
        yield
    finally:
        IncidentStore.commit_many = commit_many  # type: ignore[method-assign]
        PagingService.tick = tick  # type: ignore[method-assign]
        EscalationProcess.fired = reported  # type: ignore[method-assign]


async def open_rungs(apps: Apps, n: int, start: float, window: float) -> dict[str, tuple]:
    """n incidents whose next rung is due in [start, start + window), round-robin over the
    four engineers; id -> (member, due). Each walks two rungs of this week's real ladder (as
    a severity's `rungs` may): the first reached at opening, silently; the second, measured,
    a role held by one engineer alone (so re-resolving the ladder at the rung changes nothing)."""
    deps, slack = apps.deps, apps.slack
    cfg, now = deps.config, datetime.now(UTC)
    options: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    ladders = {}
    for p in INVESTOR:
        ladders[p] = await deps.schedule.ladder(now, cfg.pipeline(p))
        for role in FULL_LADDER:
            held = [r.member for r in ladders[p][1] if r.role.value == role]
            if len(held) == 1:
                options[held[0]].append((p, role))
    members = [m for m in MEMBERS if options[m]]
    rng, out = random.Random(7), {}
    for i in range(n):
        member = members[i % len(members)]
        pipeline, role = options[member][(i // len(members)) % len(options[member])]
        seg, ladder = ladders[pipeline]
        inc, _ = esc.open_incident(
            id="pending", pipeline=pipeline, severity=sm.Severity.SEV1, summary=f"rung {i}",
            signal=sm.Signal.FRESHNESS, dedupe_key=f"rung-{i}", mode=sm.Mode.PAGE,
            ladder=ladder, now=now, opened_by="alert", policy=cfg.policy.escalation,
            checklist=False, boundary=seg.end,
            rungs=["backup" if role == "primary" else "primary", role],  # type: ignore[list-item]
        )  # fmt: skip
        inc.next_at = datetime.fromtimestamp(start + rng.random() * window, UTC)
        _, incident_id = await deps.incidents.open_or_join(inc, [], now)
        channel = cfg.pipeline(pipeline).channel
        ts = f"{int(now.timestamp())}.{i:06d}"
        slack.messages[(channel, ts)] = {"channel": channel, "ts": ts, "text": incident_id}
        await deps.incidents.set_message(incident_id, channel, ts)
        out[incident_id] = (member, inc.next_at.timestamp())
    return out


def page_dms(slack: FakeSlack) -> list[tuple[str, str, float, int]]:
    """(incident, member, received at, incidents in that DM) for each page in each DM."""
    out = []
    for c in slack.of("chat.postMessage"):
        channel = str(c.args.get("channel", ""))
        if channel.startswith("D"):
            found = PAGE_RE.findall(str(c.args.get("text", "")))
            out += [(inc, BY_ID[channel[1:]], wall(c), len(found)) for inc in found]
    return out


async def rungs(url: str, replicas: int, n: int, window: float, retry: bool) -> bool:
    fired: list[tuple[str, float, float]] = []
    with observe(fired):
        return await _rungs(fired, url, replicas, n, window, retry)


async def _rungs(
    fired: list[tuple[str, float, float]],
    url: str,
    replicas: int,
    n: int,
    window: float,
    retry: bool,
) -> bool:
    async with Apps(url, replicas, runbooks=False) as apps:
        channel = apps.deps.config.pipeline(INVESTOR[0]).channel
        if retry:
            apps.slack.fail("chat.postMessage", 429, times=1, retry_after=65, channel=channel)
        start = time.time() + 3 + n / 500
        targets = await open_rungs(apps, n, start, window)
        for _ in range(int((start + window + 15 - time.time()) * 10)):
            if len({d[0] for d in page_dms(apps.slack)}) >= n:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # a duplicate would have arrived by now
        backlog, stats = await apps.pending(), report_stats(apps)
    slack = apps.slack
    rung_ms = [(at - due) * 1000 for _, due, at in fired]
    dms = page_dms(slack)
    got: dict[str, list[tuple[str, float, int]]] = collections.defaultdict(list)
    for inc, member, at, folded in dms:
        got[inc].append((member, at, folded))
    late = {i: got[i][0][1] - due for i, (_, due) in targets.items() if got[i]}
    once = all(len(got[i]) == 1 and got[i][0][0] == m for i, (m, _) in targets.items())
    once = once and len(fired) == n and len({f[0] for f in fired}) == n
    per = collections.Counter(m for _, m, _, _ in dms)
    messages = len([c for c in slack.of("chat.postMessage") if c.args["channel"][0] == "D"])
    ok = once and pct(rung_ms, 0.99) <= RUNG_GOAL_MS and pct(list(late.values()), 0.99) <= DM_GOAL_S
    lates = sorted(late.values())
    head = f"retry (429 Retry-After 65 s on {channel})" if retry else "rungs"
    extra = ""
    if retry:
        hit = [c for c in slack.failed_calls if c.method == "chat.postMessage"]
        after = [c for c in slack.of("chat.postMessage") if c.args["channel"] == channel]
        after = [c for c in after if hit and c.at > hit[0].at]
        extra = f"; 429s served {len(hit)}, posts to {channel} after it {len(after)}"
    print(
        f"{head}: {n} rungs over {window:.0f} s, {replicas} replica(s): fired {len(fired)}; "
        f"rung lateness p50 {pct(rung_ms, 0.5):.1f} ms, p99 {pct(rung_ms, 0.99):.1f} ms, "
        f"max {max(rung_ms, default=float('nan')):.1f} ms (goal p99 <= {RUNG_GOAL_MS:.0f} ms); "
        f"DM lateness p50 {pct(lates, 0.5):.2f} s, p99 {pct(lates, 0.99):.2f} s, max "
        f"{max(lates, default=float('nan')):.2f} s (goal p99 <= {DM_GOAL_S} s); "
        f"{len(dms)} pages in {messages} DMs ({', '.join(f'{m} {per[m]}' for m in MEMBERS)}); "
        f"each rung to its person once: {'yes' if once else 'NO'}; outbox backlog at the end "
        f"{backlog} (thread replies paced in {channel}){extra}: {'PASS' if ok else 'FAIL'}"
    )
    print(stats)
    print(f"  {overtaken(dms, targets)} pages went out after a later-due page for the same person")
    if not ok:
        missing = [i for i in targets if not got[i]]
        twice = [i for i in targets if len(got[i]) > 1]
        if missing or twice:
            print(f"  no DM for {len(missing)} {missing[:5]}; DMed more than once {twice[:5]}")
        for i, s in sorted(late.items(), key=lambda kv: -kv[1])[:5]:
            member, _, folded = got[i][0]
            print(f"  late: {i} to {member} {s:.2f} s after due, in a DM of {folded} page(s)")
    return ok


def overtaken(dms: list[tuple[str, str, float, int]], targets: dict[str, tuple]) -> int:
    """Pages sent after a separate, earlier DM to the same person carried a later-due page."""
    rows: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for inc, member, at, _ in dms:
        rows[member].append((at, targets[inc][1]))
    count = 0
    for sent in rows.values():
        sent.sort()
        for at, due in sent:
            count += any(a < at and d > due for a, d in sent)
    return count


async def storm(url: str, replicas: int, runbooks: bool) -> bool:
    keys, batches, per, every = 50, 100, 100, 0.6
    first: dict[int, float] = {}
    incident_key: dict[str, int] = {}
    rejected = 0
    async with Apps(url, replicas, runbooks) as apps:
        t0 = time.time() + 0.5
        for b in range(batches):
            await asyncio.sleep(max(0.0, t0 + b * every - time.time()))
            active = min(keys, b // 2 + 1)  # key k first fires in batch 2k
            sent = time.time()
            for k in range(active):
                first.setdefault(k, sent)
            body = [
                {"pipeline": INVESTOR[j % active % 3], "summary": f"storm key {j % active}",
                 "signal": "freshness", "dedupe_key": f"storm-{j % active}"}
                for j in range(per)
            ]  # fmt: skip
            resp = await apps.harnesses[b % replicas].alert(body)
            for j, entry in enumerate(resp.json.get("accepted", [])):
                incident_key.setdefault(str(entry["incident"]), j % active)
            rejected += len(resp.json.get("rejected", [])) + (resp.status != 200)
        last = time.time()
        empty_after = float("nan")
        for _ in range(600):
            if not await apps.pending():
                empty_after = time.time() - last
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        backlog, stats = await apps.pending(), report_stats(apps)
    slack = apps.slack
    posts = slack.of("chat.postMessage")
    pages = [c for c in posts if c.args["channel"][0] != "D" and not c.args.get("thread_ts")]
    pages = [c for c in pages if PAGE_RE.search(c.args["text"])]
    delay = {}
    for c in pages:
        inc = PAGE_RE.search(c.args["text"]).group(1)  # type: ignore[union-attr]
        delay[inc] = wall(c) - first[incident_key[inc]]
    in1, in10 = most_per_channel(posts, 1.0), most_per_channel(posts, 10.0)
    upd1 = most_per_channel(slack.of("chat.update"), 1.0)
    paced = in1 <= BURST + 1 and in10 <= BURST + 10 * RATE
    worst = max(delay.values(), default=float("nan"))
    in_time = len(pages) == len(delay) == keys and worst <= PAGE_GOAL_S
    ok = in_time and paced and empty_after <= EMPTY_GOAL_S and not rejected
    ch = collections.Counter(c.args["channel"] for c in posts)
    print(
        f"storm: {batches * per} alerts in {last - t0:.1f} s on {keys} keys, {replicas} "
        f"replica(s), checklists {'on' if runbooks else 'off'}: {len(pages)} page posts (goal "
        f"{keys}); page posted after its first alert p50 {pct(list(delay.values()), 0.5):.2f} s, "
        f"max {worst:.2f} s (goal <= {PAGE_GOAL_S:.0f} s); chat.postMessage per channel at most "
        f"{in1} in 1 s (<= {BURST + 1}) and {in10} in 10 s (<= {BURST + 10 * RATE:.0f}); outbox "
        f"empty {empty_after:.1f} s after the last alert (goal <= {EMPTY_GOAL_S:.0f} s); "
        f"{len(slack.of('chat.update'))} chat.update, at most {upd1}/s in one channel; posts by "
        f"channel {dict(ch)}; rejected {rejected}: {'PASS' if ok else 'FAIL'}"
    )
    print(stats)
    if not ok:
        late = sorted(delay.items(), key=lambda kv: -kv[1])[:5]
        print(f"  slowest pages (incident, s after first alert): {late}")
        print(f"  outbox still holding {backlog} notice(s) 1 s after the check")
    return ok


async def main(args: argparse.Namespace) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    if set(args.scenario) - {"rungs", "storm", "retry"}:
        raise SystemExit("scenarios: rungs, storm, retry")
    logging.getLogger().addHandler(LOGS)
    failed = 0
    for name in args.scenario or ["rungs", "storm", "retry"]:
        if name == "rungs":
            failed += not await rungs(url, args.replicas, 600, 60.0, retry=False)
        elif name == "storm":
            failed += not await storm(url, args.replicas, runbooks=not args.no_runbooks)
        else:
            failed += not await rungs(url, args.replicas, 120, 20.0, retry=True)
        for line, count in LOGS.lines.most_common(6):
            print(f"  log x{count}: {line}")
        LOGS.lines.clear()
    return failed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="*", help="rungs, storm, retry (default: all)")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--no-runbooks", action="store_true")
    sys.exit(1 if asyncio.run(main(parser.parse_args())) else 0)
