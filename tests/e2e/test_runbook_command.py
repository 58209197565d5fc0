"""`/runbook` and checklist ticks through the real app: signed requests, fake Slack Web API."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness
from bot.devtools.signing import block_actions_payload
from bot.domain.checklist import ChecklistRun
from bot.slack import ids
from bot.slack.blocks.runbook import run_id_of
from tests.conftest import ROOT
from tests.synthetic import long_runbook_text

AM, PR, CW, SK = "U0AMEHTA01", "U0PRRAO002", "U0CHENWU03", "U0SKAPOOR4"
CHANNEL = "C0INVESTOR"
Msg = dict[str, Any]


def _posted(h: Harness) -> list[Msg]:
    """Messages in the channel, oldest first (the fake keeps them in posting order)."""
    return [m for (channel, _), m in h.slack.messages.items() if channel == CHANNEL]


async def _open(h: Harness, text: str = "growth-agg", user: str = PR) -> tuple[Msg, list[Msg]]:
    before = len(_posted(h))
    resp = await h.command("/runbook", text, user, channel_id=CHANNEL)
    assert resp.status == 200
    new = _posted(h)[before:]
    assert new, f"nothing posted; the command answered {resp.text}"
    return new[0], new[1:]


def _latest(h: Harness, message: Msg) -> Msg:
    return h.slack.messages[(CHANNEL, message["ts"])]


def _group(message: Msg, step: int) -> tuple[str, dict[str, Any]]:
    for block in message["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == ids.CHECKLIST_TICK and any(
                o["value"] == str(step) for o in el["options"]
            ):
                return block["block_id"], el
    raise AssertionError(f"step {step} is not in this message")


def _click(h: Harness, message: Msg, step: int, user: str) -> dict[str, Any]:
    """What Slack sends when `user` toggles `step` in *their copy* of `message`."""
    block_id, el = _group(message, step)
    chosen = [o for o in el.get("initial_options", []) if o["value"] != str(step)]
    if len(chosen) == len(el.get("initial_options", [])):
        chosen.append(next(o for o in el["options"] if o["value"] == str(step)))
    action = {"type": "checkboxes", "action_id": ids.CHECKLIST_TICK, "selected_options": chosen}
    return block_actions_payload(
        user_id=user,
        action=action,
        block_id=block_id,
        response_url=h.slack.response_url(),
        channel=CHANNEL,
        message=copy.deepcopy(message),
    )


async def _tick(h: Harness, message: Msg, step: int, user: str) -> None:
    resp = await h.interact(_click(h, message, step, user))
    assert resp.status == 200
    errors = [c.args.get("text", "") for c in h.slack.of("response_url")]
    assert not errors, errors


def _ticked(message: Msg) -> dict[str, str]:
    """Step number → the option's description, for every ticked step in a thread message."""
    out: dict[str, str] = {}
    for block in message["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == ids.CHECKLIST_TICK:
                for o in el.get("initial_options", []):
                    out[o["value"]] = o["description"]["text"]
    return out


def _progress(parent: Msg) -> str:
    block = next(b for b in parent["blocks"] if b.get("block_id") == ids.CHECKLIST_PROGRESS)
    return str(block["text"]["text"])


async def _run(h: Harness, thread_message: Msg) -> ChecklistRun:
    assert h.deps is not None
    block_id, _ = _group(thread_message, 1)
    run_id = run_id_of(block_id)
    assert run_id is not None
    return await h.deps.checklists.get(run_id)


# --- posting ---------------------------------------------------------------------------------


async def test_posts_summary_in_the_channel_and_checklist_in_its_thread(harness: Harness) -> None:
    parent, thread = await _open(harness)
    assert parent["channel"] == CHANNEL and "thread_ts" not in parent
    assert parent["text"] == "Runbook for Growth — Aggregate: 0/8 done"
    summary = str(parent["blocks"])
    for part in ("Daily active users", "Auth events", "Earnings package", "Kafka backlog"):
        assert part in summary
    assert "*Progress:* 0/8 done" in _progress(parent)
    assert len(thread) == 1 and thread[0]["thread_ts"] == parent["ts"]
    _, el = _group(thread[0], 1)
    labels = [o["text"]["text"] for o in el["options"]]
    assert labels[:2] == ["1. Stream lag", "2. Ingestion rate"]
    assert len(el["options"]) == 8 and "initial_options" not in el
    steps = str(thread[0]["blocks"])
    assert "<https://grafana.company.example/d/freshness-lag|Freshness &amp; Lag>" in steps
    assert "*8. Comms:* Notify #investor-kpis if SLA risk." in steps


async def test_the_command_itself_answers_nothing_visible(harness: Harness) -> None:
    resp = await harness.command("/runbook", "growth-agg", PR, channel_id=CHANNEL)
    assert resp.text == ""


@pytest.mark.parametrize(
    "name", ["growth-agg", "growth-aggregate", "Growth — Aggregate", "growth agg"]
)
async def test_aliases_open_the_same_runbook(harness: Harness, name: str) -> None:
    parent, _ = await _open(harness, name)
    assert parent["text"].startswith("Runbook for Growth — Aggregate:")


async def test_no_argument_lists_runbooks_privately(harness: Harness) -> None:
    body = (await harness.command("/runbook", "", PR, channel_id=CHANNEL)).json
    assert body["response_type"] == "ephemeral"
    for line in (
        "`growth-agg` — Growth — Aggregate, 8 steps",
        "`profit-unit` — Profit — Unit-level, 6 steps",
    ):
        assert line in body["text"]
    assert harness.slack.of("chat.postMessage") == []


async def test_unknown_name_suggests_the_nearest(harness: Harness) -> None:
    body = (await harness.command("/runbook", "growth-agregate", PR, channel_id=CHANNEL)).json
    assert body["response_type"] == "ephemeral"
    assert "Unknown pipeline `growth-agregate`. Did you mean `growth-agg`?" in body["text"]
    assert "`/runbook` alone lists the runbooks" in body["text"]
    assert harness.slack.of("chat.postMessage") == []


async def test_slack_refusing_the_post_is_reported_privately(harness: Harness) -> None:
    harness.slack.refuse("chat.postMessage", "not_in_channel")
    await harness.command("/runbook", "growth-agg", PR, channel_id=CHANNEL)
    [told] = harness.slack.of("response_url")
    assert "I can't post in this channel (`not_in_channel`)" in told.args["text"]
    assert "/invite @oncall-bot" in told.args["text"]


async def test_a_rate_limited_post_waits_and_is_posted_once(
    harness: Harness, clock: FakeClock
) -> None:
    harness.slack.fail("chat.postMessage", 429, times=1, retry_after=30)
    await harness.command("/runbook", "growth-agg", PR, channel_id=CHANNEL)
    assert _posted(harness) == [] and harness.slack.of("response_url") == []
    clock.advance(timedelta(seconds=29))
    await harness.deliver()
    assert _posted(harness) == []  # Retry-After is honoured
    clock.advance(timedelta(seconds=1))
    await harness.deliver()
    assert len(_posted(harness)) == 2  # the summary and its checklist, once each


# --- ticking ---------------------------------------------------------------------------------


async def test_tick_updates_thread_and_parent_in_place(harness: Harness) -> None:
    parent, [checklist] = await _open(harness)
    await _tick(harness, checklist, 3, CW)
    assert _ticked(_latest(harness, checklist)) == {"3": "✓ Chen Wu · Wed 3 Sep 2025, 12:00 IST"}
    assert "1/8 done" in _progress(_latest(harness, parent))
    assert "1/8 done" in _latest(harness, checklist)["text"]
    updated = {c.args["ts"] for c in harness.slack.of("chat.update")}
    assert updated == {parent["ts"], checklist["ts"]}
    assert len(harness.slack.of("chat.postMessage")) == 2, "ticks edit, never post"


async def test_tick_time_comes_from_the_clock(harness: Harness, clock: FakeClock) -> None:
    _, [checklist] = await _open(harness)
    clock.set(clock.now().replace(hour=13, minute=7))
    await _tick(harness, checklist, 1, SK)
    assert _ticked(_latest(harness, checklist)) == {
        "1": "✓ Samir Kapoor · Wed 3 Sep 2025, 13:07 IST"
    }


async def test_untick(harness: Harness) -> None:
    parent, [checklist] = await _open(harness)
    await _tick(harness, checklist, 2, CW)
    await _tick(harness, _latest(harness, checklist), 2, PR)
    assert _ticked(_latest(harness, checklist)) == {}
    assert "0/8 done" in _progress(_latest(harness, parent))
    assert (await _run(harness, checklist)).ticks == {}


async def test_two_users_ticking_from_stale_messages_both_count(harness: Harness) -> None:
    parent, [checklist] = await _open(harness)
    # Both clients still show the checklist as first posted: nothing ticked.
    await _tick(harness, checklist, 1, CW)
    await _tick(harness, checklist, 2, SK)
    assert set(_ticked(_latest(harness, checklist))) == {"1", "2"}
    assert "2/8 done" in _progress(_latest(harness, parent))
    run = await _run(harness, checklist)
    assert {n: t.by for n, t in run.ticks.items()} == {1: CW, 2: SK}


async def test_stale_message_cannot_untick_what_its_user_never_saw(harness: Harness) -> None:
    _, [checklist] = await _open(harness)
    seen_by_sk = copy.deepcopy(checklist)
    await _tick(harness, checklist, 1, CW)
    await _tick(harness, _latest(harness, checklist), 4, CW)
    await _tick(harness, seen_by_sk, 6, SK)
    assert set(_ticked(_latest(harness, checklist))) == {"1", "4", "6"}


async def test_each_redraw_gets_new_block_ids(harness: Harness) -> None:
    _, [checklist] = await _open(harness)
    before, _ = _group(checklist, 1)
    await _tick(harness, checklist, 1, CW)
    after, _ = _group(_latest(harness, checklist), 1)
    assert before != after and run_id_of(before) == run_id_of(after)


async def test_state_survives_a_restart(
    harness: Harness, redis: Redis, clock: FakeClock, config: TeamConfig
) -> None:
    parent, [checklist] = await _open(harness)
    await _tick(harness, checklist, 1, CW)
    stale = copy.deepcopy(_latest(harness, checklist))
    await harness.stop()
    restarted = Harness(
        redis, clock, config, settings_overrides={"runbooks_dir": ROOT / "runbooks"}
    )
    # Slack keeps its messages while the bot restarts.
    restarted.slack.messages.update(harness.slack.messages)
    await restarted.start()
    try:
        await _tick(restarted, stale, 5, SK)
        latest = restarted.slack.messages[(CHANNEL, checklist["ts"])]
        assert set(_ticked(latest)) == {"1", "5"}
        parent_now = restarted.slack.messages[(CHANNEL, parent["ts"])]
        assert "2/8 done" in _progress(parent_now)
    finally:
        await restarted.stop()


async def test_click_on_a_foreign_block_is_a_specific_error(harness: Harness) -> None:
    _, [checklist] = await _open(harness)
    payload = _click(harness, checklist, 1, CW)
    payload["actions"][0]["block_id"] = "something-else"
    await harness.interact(payload)
    [told] = harness.slack.of("response_url")
    assert "not part of a checklist I know" in told.args["text"]
    assert told.args["response_type"] == "ephemeral"


async def test_click_on_an_expired_run_says_so(harness: Harness, redis: Redis) -> None:
    _, [checklist] = await _open(harness)
    await redis.delete(*[k async for k in redis.scan_iter("oncall:checklist:*")])
    await harness.interact(_click(harness, checklist, 1, CW))
    [told] = harness.slack.of("response_url")
    assert "is no longer stored" in told.args["text"]
    assert "kept 90 days" in told.args["text"]


# --- long runbooks ---------------------------------------------------------------------------


@pytest.fixture
async def long_harness(redis: Redis, clock: FakeClock, config: TeamConfig, tmp_path: Path) -> Any:
    (tmp_path / "growth-agg.md").write_text(long_runbook_text(300, detail_words=60))
    h = await Harness(redis, clock, config, settings_overrides={"runbooks_dir": tmp_path}).start()
    yield h
    await h.stop()


async def test_long_checklist_is_split_within_slack_limits(long_harness: Harness) -> None:
    h = long_harness
    parent, thread = await _open(h)
    assert len(thread) > 1
    offered: list[str] = []
    for message in thread:
        assert len(message["blocks"]) <= 50
        assert message["thread_ts"] == parent["ts"]
        for block in message["blocks"]:
            for el in block.get("elements", []):
                if el.get("type") == "checkboxes":
                    assert len(el["options"]) <= 10
                    offered += [o["value"] for o in el["options"]]
    assert offered == [str(n) for n in range(1, 301)]
    last = thread[-1]
    await _tick(h, last, 300, CW)
    assert set(_ticked(_latest(h, last))) == {"300"}
    assert "1/300 done" in _progress(_latest(h, parent))


# --- the API paging uses ---------------------------------------------------------------------


async def test_open_checklist_into_an_existing_thread(harness: Harness) -> None:
    assert harness.deps is not None and harness.app is not None
    client = harness.app.client
    page = await client.chat_postMessage(channel=CHANNEL, text="PAGE: growth-agg is late")
    run = await harness.deps.checklists.start(
        "growth-agg", CHANNEL, thread_ts=page["ts"], incident_id="inc-7"
    )
    run_id = run.id
    await harness.deliver()
    [checklist] = _posted(harness)[1:]
    assert checklist["thread_ts"] == page["ts"]
    assert "Daily active users" in str(checklist["blocks"]), "no summary above: say what it is"
    assert await harness.deps.checklists.progress(run_id) == (0, 8)
    await _tick(harness, checklist, 7, CW)
    assert await harness.deps.checklists.progress(run_id) == (1, 8)
    assert (await harness.deps.checklists.get(run_id)).incident_id == "inc-7"
    assert page["ts"] not in {c.args["ts"] for c in harness.slack.of("chat.update")}
