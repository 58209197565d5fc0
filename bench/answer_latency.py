"""HTTP answer time of every command, button and view submission while Slack is slow.

    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/answer_latency.py [ROUNDS]

Flushes that database. The real app runs its background loops (escalation, delivery, ...:
`bot.runtime.run_forever`) on the wall clock with the production pacing (1 post/s per channel,
burst 4, one chat.update per message per 3 s), and the fake Slack answers every message call
(chat.postMessage, chat.update, response URLs) in 2 s; views.open stays fast (the one call a
listener makes inline). A scripted session (26 signed requests per round, default 10 rounds)
covers every slash command, button and the swap form; buttons are built from the messages the
fake Slack received, as a user would click them. Reports p50/p99/max of the answer time per
kind and overall (goal: p99 < 300 ms), then waits for the outbox to drain and checks that
every message was posted exactly once (no two posts carry the same notice id in `metadata`).
Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import logging
import os
import re
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import load_config
from bot.devtools.harness import Harness, Response
from bot.devtools.signing import block_actions_payload
from bot.domain.notices import Notice
from bot.domain.swaps import parse_swap_window, roles_held
from bot.runtime import run_forever
from bot.slack import ids
from bot.store import outbox as outbox_module
from bot.store.connection import connect
from bot.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[1]
SLACK_SECONDS = 2.0
GOAL_P99_MS = 300.0
DRAIN_TIMEOUT = 120.0
IDS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}
RUNBOOK_CHANNEL = "C0INVESTOR"
PAGE_CHANNEL = "#investor-kpis"
Msg = dict[str, Any]


class LogCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines[f"{record.levelname} {record.name}: {record.getMessage()[:120]}"] += 1


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def element(msg: Msg, action_id: str, value: str | None = None) -> tuple[Msg, str] | None:
    for block in msg.get("blocks") or []:
        for el in block.get("elements") or []:
            # A page's Escalate now value also carries its position ("INC-1@0.0").
            got = str(el.get("value"))
            if el.get("action_id") == action_id and (
                value is None or got == value or got.startswith(f"{value}@")
            ):
                return el, str(block.get("block_id"))
    return None


class Session:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.bad: list[str] = []
        assert h.deps is not None
        self.deps = h.deps

    async def timed(self, kind: str, send: Any) -> Response:
        t0 = time.perf_counter()
        resp: Response = await send
        self.samples[kind].append((time.perf_counter() - t0) * 1000)
        wrong = ("Something went wrong", "state store (Redis)")
        if resp.status != 200 or any(w in resp.text for w in wrong):
            self.bad.append(f"{kind}: {resp.status} {resp.text[:160]}")
        return resp

    async def cmd(self, kind: str, command: str, text: str, who: str, **kw: Any) -> Response:
        return await self.timed(kind, self.h.command(command, text, IDS[who], **kw))

    async def click(self, kind: str, who: str, msg: Msg, action_id: str, value: str) -> None:
        found = element(msg, action_id, value)
        assert found is not None, f"no {action_id} {value} button in {msg.get('text')!r}"
        el, block_id = found
        payload = block_actions_payload(
            user_id=IDS[who],
            action={"type": "button", "action_id": action_id, "value": el["value"]},
            block_id=block_id,
            response_url=self.h.slack.response_url(),
            channel=str(msg["channel"]),
            message=copy.deepcopy(msg),
        )
        await self.timed(kind, self.h.interact(payload))

    async def message(self, where: str, pred: Any, within: float = 60.0) -> Msg:
        """The first message in `where` matching `pred`, once the fake Slack has it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for (channel, _), m in list(self.h.slack.messages.items()):
                if channel == where and pred(m):
                    return m
            await asyncio.sleep(0.05)
        raise SystemExit(f"timed out waiting for a message in {where}")

    def requester(self, day: date) -> tuple[str, str] | None:
        """Who holds a role for all of `day`, and a counterpart (CW unless that is them)."""
        cfg = self.deps.config
        window = parse_swap_window(cfg, day.isoformat(), self.deps.clock.now())
        for who in IDS:
            if roles_held(cfg, self.deps.calendar, who, window) is not None:
                return who, "CW" if who != "CW" else "SK"
        return None

    async def swap(self, day: date) -> tuple[int, str, str]:
        found = self.requester(day)
        assert found is not None
        who, other = found
        resp = await self.cmd("/swap @X <date>", "/swap", f"@{other} {day}", who)
        m = re.search(r"swap #(\d+)", resp.text)
        if m is None:
            raise SystemExit(f"/swap @{other} {day} by {who} answered {resp.text[:200]}")
        return int(m.group(1)), who, other

    async def request_dm(self, swap_id: int, other: str) -> Msg:
        return await self.message(
            "D" + IDS[other], lambda m: element(m, ids.ACTION_SWAP_APPROVE, str(swap_id))
        )

    async def round(self, i: int, days: list[date], pto_day: date) -> None:
        for kind, text in [
            ("now", "now"),
            ("at", f"at {days[0]} 10:00"),
            ("week", "week"),
            ("schedule", "schedule 4"),
            ("incidents", "incidents"),
            ("help", "help"),
            ("pto list", "pto list"),
            ("pto add", f"pto {pto_day}"),
        ]:
            await self.cmd(f"/oncall {kind}", "/oncall", text, ["AM", "PR", "CW", "SK"][i % 4])
        resp = await self.cmd("/page", "/page", f"growth-agg sev1 bench round {i}", "AM")
        m = re.search(r"INC-\d+", resp.text)
        assert m is not None, resp.text
        incident = m.group(0)
        # The user's copy of the checklist: the newest checklist thread message in the channel.
        seen = {ts for (ch, ts) in self.h.slack.messages if ch == RUNBOOK_CHANNEL}
        await self.cmd("/runbook", "/runbook", "growth-agg", "PR", channel_id=RUNBOOK_CHANNEL)
        approve, decline, cancel = [await self.swap(d) for d in days[:3]]
        await self.cmd("/swap cancel", "/swap", f"cancel {cancel[0]}", cancel[1])
        await self.cmd("/swap (modal)", "/swap", "", "PR")
        found = self.requester(days[3])
        assert found is not None
        form = _submission(IDS[found[0]], _form(found[1], days[3].isoformat()))
        await self.timed("view_submission", self.h.interact(form))
        await self.cmd("/swap list", "/swap", "list", "SK")

        page = await self.message(
            PAGE_CHANNEL, lambda m: not m.get("thread_ts") and f"Page {incident} " in m["text"]
        )
        await self.click("button Escalate now", "AM", page, ids.ACTION_PAGE_ESCALATE, incident)
        await self.click("button ACK", "PR", page, ids.ACTION_PAGE_ACK, incident)
        await self.click("button Resolve", "PR", page, ids.ACTION_PAGE_RESOLVE, incident)
        # A stale click: answered privately through the response URL (an Ephemeral notice).
        await self.click("button Resolve (again)", "SK", page, ids.ACTION_PAGE_RESOLVE, incident)
        checklist = await self.message(
            RUNBOOK_CHANNEL,
            lambda m: m["ts"] not in seen and m.get("thread_ts") and element(m, ids.CHECKLIST_TICK),
        )
        for step, who in ((1, "CW"), (2, "SK"), (3, "PR")):
            await self.timed("checklist tick", self.h.interact(_tick(self.h, checklist, step, who)))
        for kind, (swap_id, _, other), action in (
            ("button Approve", approve, ids.ACTION_SWAP_APPROVE),
            ("button Decline", decline, ids.ACTION_SWAP_DECLINE),
        ):
            dm = await self.request_dm(swap_id, other)
            await self.click(kind, other, dm, action, str(swap_id))


def _tick(h: Harness, msg: Msg, step: int, who: str) -> dict[str, Any]:
    """What Slack sends when `who` toggles `step` in their (possibly stale) copy of `msg`."""
    for block in msg["blocks"]:
        for el in block.get("elements") or []:
            if el.get("action_id") == ids.CHECKLIST_TICK and any(
                o["value"] == str(step) for o in el["options"]
            ):
                chosen = [o for o in el.get("initial_options", []) if o["value"] != str(step)]
                if len(chosen) == len(el.get("initial_options", [])):
                    chosen.append(next(o for o in el["options"] if o["value"] == str(step)))
                action = {
                    "type": "checkboxes",
                    "action_id": ids.CHECKLIST_TICK,
                    "selected_options": chosen,
                }
                return block_actions_payload(
                    user_id=IDS[who],
                    action=action,
                    block_id=block["block_id"],
                    response_url=h.slack.response_url(),
                    channel=RUNBOOK_CHANNEL,
                    message=copy.deepcopy(msg),
                )
    raise AssertionError(f"step {step} is not in this checklist message")


def _submission(user: str, values: dict[str, Any]) -> dict[str, Any]:
    view = {"id": "V0VIEW", "type": "modal", "callback_id": ids.CALLBACK_SWAP_MODAL}
    return {
        "type": "view_submission",
        "team": {"id": "T0ONCALL", "domain": "oncall"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0ONCALL"},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.3",
        "view": {**view, "private_metadata": "", "state": {"values": values}},
    }


def _form(member: str, day: str) -> dict[str, Any]:
    def pick(value: str) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value}}

    def date_(value: str) -> dict[str, Any]:
        return {"type": "datepicker", "selected_date": value}

    no_time = {"type": "timepicker", "selected_time": None}
    return {
        ids.BLOCK_SWAP_MEMBER: {ids.ACTION_SWAP_MEMBER: pick(member)},
        ids.BLOCK_SWAP_START_DATE: {ids.ACTION_SWAP_START_DATE: date_(day)},
        ids.BLOCK_SWAP_START_TIME: {ids.ACTION_SWAP_START_TIME: no_time},
        ids.BLOCK_SWAP_END_DATE: {ids.ACTION_SWAP_END_DATE: date_(day)},
        ids.BLOCK_SWAP_END_TIME: {ids.ACTION_SWAP_END_TIME: no_time},
        ids.BLOCK_SWAP_ROLE: {ids.ACTION_SWAP_ROLE: pick("any")},
        ids.BLOCK_SWAP_NOTE: {ids.ACTION_SWAP_NOTE: {"type": "plain_text_input", "value": "b"}},
    }


def swap_days(s: Session, start: date, n: int) -> list[date]:
    """`n` whole days someone holds a role all day (no Monday handoff, no holiday split)."""
    out, day = [], start
    while len(out) < n:
        if day.weekday() != 0 and s.requester(day) is not None:
            out.append(day)
        day += timedelta(days=1)
    return out


async def main(rounds: int) -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("set REDIS_URL to a Redis database this may flush")
    logs = LogCount()
    logging.getLogger().addHandler(logs)
    queued: list[Notice] = []  # every notice the run queued, as the outbox saw it
    envelopes = outbox_module.envelopes

    def spy(notices: Any, now: datetime) -> str:
        notices = [outbox_module.with_id(n, now) for n in notices]
        queued.extend(notices)
        return envelopes(notices, now)

    outbox_module.envelopes = spy  # type: ignore[assignment]
    redis = connect(url)
    await redis.flushdb()
    overrides = {
        "runbooks_dir": ROOT / "runbooks",
        "slack_post_rate": 1.0,
        "slack_post_burst": 4,
        "slack_update_every": 3.0,
        "slack_update_rate": 0.0,
        # As `serve` runs: with REDIS_URL the escalation timers get a thread of their own.
        "redis_url": url,
    }
    h = Harness(redis, SystemClock(), load_config(ROOT / "schedules"), overrides)
    h.autodeliver = False
    await h.start()
    h.slack.slow(SLACK_SECONDS)  # every message method; views.open stays fast
    assert h.deps is not None and h.pool is not None
    loops = asyncio.create_task(run_forever(h.deps, h.jobs(), h.pool))
    s = Session(h)
    try:
        await h.command("/oncall", "now", IDS["PR"])  # warm-up (auth.test, imports)
        today = h.deps.clock.now().astimezone(h.deps.config.zone).date()
        days = swap_days(s, today + timedelta(days=2), 4 * rounds)
        started = time.monotonic()
        for i in range(rounds):
            await s.round(i, days[4 * i : 4 * i + 4], today + timedelta(days=60 + i))
        session_s = time.monotonic() - started
        outbox = Outbox(redis)
        t0 = time.monotonic()
        for _ in range(int(DRAIN_TIMEOUT * 10)):
            if not await outbox.pending():
                break
            await asyncio.sleep(0.1)
        drain_s, pending = time.monotonic() - t0, await outbox.pending()
        await asyncio.sleep(1.0)  # a duplicate would be on its way by now
        dead = await outbox.dead_total()
    finally:
        loops.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loops
        await h.stop()
        await redis.flushdb()
        await redis.aclose()

    failed = 0
    every = [x for xs in s.samples.values() for x in xs]
    print(
        f"answer time over HTTP, fake Slack answering message calls in {SLACK_SECONDS:.0f} s, "
        f"{rounds} rounds ({len(every)} requests in {session_s:.0f} s):"
    )
    for kind, xs in s.samples.items():
        print(
            f"  {kind:22} n={len(xs):3}  p50 {pct(xs, 0.5):6.1f} ms  p99 {pct(xs, 0.99):6.1f} ms"
            f"  max {max(xs):6.1f} ms"
        )
    p99 = pct(every, 0.99)
    ok = p99 < GOAL_P99_MS and not s.bad
    failed += not ok
    print(
        f"  {'all':22} n={len(every):3}  p50 {pct(every, 0.5):6.1f} ms  p99 {p99:6.1f} ms  "
        f"max {max(every):6.1f} ms  goal p99 < {GOAL_P99_MS:.0f} ms: {'PASS' if ok else 'FAIL'}"
    )
    for line in s.bad[:10]:
        print(f"  bad answer: {line}")

    posts = h.slack.of("chat.postMessage")
    marks = [((c.args.get("metadata") or {}).get("event_payload") or {}) for c in posts]
    ids_ = [str(m.get("id")) for m in marks if m.get("id")]
    dupes = {k: v for k, v in collections.Counter(ids_).items() if v > 1}
    covered = {str(i).split("#")[0] for m in marks for i in [m.get("id"), *(m.get("ids") or [])]}
    kinds = collections.Counter(n.kind for n in queued)
    unposted = collections.Counter(
        n.kind
        for n in queued
        if n.kind not in ("page_update", "checklist_redraw", "swap_request_edit", "ephemeral")
        and n.id not in covered
    )
    eph = kinds["ephemeral"]
    once = not dupes and len(posts) == len(set(ids_)) and pending == 0 and dead == 0
    once = once and eph == len(h.slack.of("response_url"))
    failed += not once
    print(
        f"delivery: outbox empty after {drain_s:.1f} s (pending {pending}, dead letters {dead}); "
        f"{len(queued)} notices queued ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
    )
    print(
        f"  {len(posts)} chat.postMessage, {len(set(ids_))} distinct notice ids, "
        f"{len(posts) - len(ids_)} without an id, {len(dupes)} posted twice or more; "
        f"{len(h.slack.of('chat.update'))} chat.update, {len(h.slack.of('response_url'))} "
        f"response_url posts for {eph} ephemeral notices, {len(h.slack.of('views.open'))} "
        f"views.open; exactly once: {'PASS' if once else 'FAIL'}"
    )
    if dupes:
        print(f"  posted more than once: {list(dupes.items())[:10]}")
    if unposted:
        print(
            f"  queued but not posted (by kind): {dict(unposted)} (a page DM still queued when "
            "the page is ACKed is dropped by design)"
        )
    if h.slack.failed_calls or h.slack.invalid:
        print(f"  fake Slack refused {len(h.slack.failed_calls)} calls: {h.slack.invalid[:3]}")
    for line, n in logs.lines.most_common(8):
        print(f"  log x{n}: {line}")
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)) else 0)
