"""The fake Slack, driven by a real slack_sdk client, misbehaves the way it is told to."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable
from decimal import Decimal

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.devtools.fakeslack import Call, FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


def client(fake: FakeSlack, timeout: float = 5.0) -> AsyncWebClient:
    # No retry handlers: each test sees exactly what the fake answered.
    # slack_sdk types timeout as int, but hands it to aiohttp, which takes seconds as float.
    return AsyncWebClient(
        base_url=fake.api_url,
        token="x",
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=[],
    )


async def timed(call: Awaitable[object]) -> float:
    start = time.monotonic()
    await call
    return time.monotonic() - start


async def test_slow_delays_only_the_named_methods(fake: FakeSlack) -> None:
    web = client(fake)
    fake.slow(0.3, ["chat.postMessage"])
    assert await timed(web.chat_postMessage(channel="C1", text="hi")) >= 0.3
    assert await timed(web.auth_test()) < 0.3
    assert fake.latency == {"chat.postMessage": 0.3}


async def test_slow_without_methods_delays_every_message_call_and_the_response_url(
    fake: FakeSlack,
) -> None:
    web = client(fake)
    fake.slow(0.3)
    assert await timed(web.chat_postEphemeral(channel="C1", user="U1", text="hi")) >= 0.3
    assert await timed(web.conversations_open(users="U1")) < 0.3
    async with aiohttp.ClientSession() as session:
        start = time.monotonic()
        async with session.post(fake.response_url(), json={"text": "done"}) as resp:
            assert resp.status == 200
        assert time.monotonic() - start >= 0.3
    assert fake.of("response_url")[0].args["text"] == "done"


async def test_star_latency_delays_every_method(fake: FakeSlack) -> None:
    fake.slow(0.3, ["*"])
    assert await timed(client(fake).auth_test()) >= 0.3


async def test_stall_stores_the_message_once_although_the_client_times_out(
    fake: FakeSlack,
) -> None:
    fake.stall("chat.postMessage", 5.0)
    with pytest.raises((TimeoutError, aiohttp.ClientError)):
        await client(fake, timeout=0.3).chat_postMessage(channel="C1", text="page")
    assert [m["text"] for m in fake.messages.values()] == ["page"]
    assert len(fake.of("chat.postMessage")) == 1
    # Only the next call stalls.
    assert await timed(client(fake).chat_postMessage(channel="C1", text="again")) < 1
    assert len(fake.messages) == 2
    # stop() does not wait out a stalled answer.
    fake.stall("chat.postMessage", 30.0)
    with pytest.raises((TimeoutError, aiohttp.ClientError)):
        await client(fake, timeout=0.2).chat_postMessage(channel="C1", text="late")
    assert await timed(fake.stop()) < 5


async def test_channel_scoped_429_fails_only_that_channel(fake: FakeSlack) -> None:
    web = client(fake)
    fake.fail("chat.postMessage", 429, retry_after=7, channel="C1")
    await web.chat_postMessage(channel="C2", text="elsewhere")
    with pytest.raises(SlackApiError) as raised:
        await web.chat_postMessage(channel="C1", text="limited")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in raised.value.response.headers.items()}
    assert headers["retry-after"] == "7"
    assert fake.failures[("chat.postMessage", "C1")].times == 0
    await web.chat_postMessage(channel="C1", text="later")
    assert [c.args["text"] for c in fake.of("chat.postMessage")] == ["elsewhere", "later"]
    assert [c.args["text"] for c in fake.failed_calls] == ["limited"]


async def test_unscoped_failure_is_still_keyed_by_method(fake: FakeSlack) -> None:
    web = client(fake)
    fake.fail("chat.postMessage", 500, times=2)
    for channel in ("C1", "C2"):
        with pytest.raises(SlackApiError) as raised:
            await web.chat_postMessage(channel=channel, text="x")
        assert raised.value.response.status_code == 500
    assert fake.failures["chat.postMessage"].times == 0
    await web.chat_postMessage(channel="C1", text="x")
    assert len(fake.calls) == 1 and len(fake.failed_calls) == 2


async def test_refuse_answers_ok_false_with_http_200(fake: FakeSlack) -> None:
    web = client(fake)
    fake.refuse("chat.postMessage", "not_in_channel", channel="C1")
    fake.refuse("users.lookupByEmail", "users_not_found", times=1)
    with pytest.raises(SlackApiError) as raised:
        await web.chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as raised:
        await web.users_lookupByEmail(email="ana@example.com")
    assert raised.value.response["error"] == "users_not_found"
    assert [c.method for c in fake.failed_calls] == ["chat.postMessage", "users.lookupByEmail"]
    assert fake.messages == {} and fake.calls == []
    found = await web.users_lookupByEmail(email="ana@example.com")
    assert found["user"]["id"] == "UANA"


async def test_history_lists_top_level_messages_newest_first_with_metadata_on_request(
    fake: FakeSlack,
) -> None:
    web = client(fake)
    meta = {"event_type": "oncall_page", "event_payload": {"incident": "I1"}}
    first = await web.chat_postMessage(channel="C1", text="page", metadata=meta)
    await web.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    await web.chat_postMessage(channel="C2", text="other channel")
    # A form-encoded body carries metadata as a JSON string.
    second = await web.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "second", "metadata": json.dumps(meta)},
    )
    assert fake.messages[("C1", second["ts"])]["metadata"] == meta

    plain = await web.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["second", "page"]
    assert all("metadata" not in m for m in plain["messages"])

    full = await web.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["metadata"] for m in full["messages"]] == [meta, meta]

    newer = await web.conversations_history(channel="C1", oldest=first["ts"])
    assert [m["text"] for m in newer["messages"]] == ["second"]
    limited = await web.conversations_history(channel="C1", limit=1)
    assert [m["text"] for m in limited["messages"]] == ["second"] and limited["has_more"]


async def test_replies_list_the_parent_then_replies_oldest_first(fake: FakeSlack) -> None:
    web = client(fake)
    meta = {"event_type": "checklist", "event_payload": {"step": 1}}
    parent = await web.chat_postMessage(channel="C1", text="parent", metadata=meta)
    one = await web.chat_postMessage(channel="C1", text="one", thread_ts=parent["ts"])
    await web.chat_postMessage(channel="C1", text="two", thread_ts=parent["ts"], metadata=meta)
    await web.chat_postMessage(channel="C1", text="not in thread")

    thread = await web.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["parent", "one", "two"]
    assert all("metadata" not in m for m in thread["messages"])
    with_meta = await web.conversations_replies(
        channel="C1", ts=parent["ts"], include_all_metadata=True
    )
    assert [m.get("metadata") for m in with_meta["messages"]] == [meta, None, meta]
    newer = await web.conversations_replies(channel="C1", ts=parent["ts"], oldest=one["ts"])
    assert [m["text"] for m in newer["messages"]] == ["parent", "two"]
    with pytest.raises(SlackApiError) as raised:
        await web.conversations_replies(channel="C1", ts="1.000000")
    assert raised.value.response["error"] == "thread_not_found"


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str) -> dict[str, object]:
    return {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "a"}
        ],
    }


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        ([section("x" * 3001)], "3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "150"),
        ([button("x" * 76)], "75"),
        ([{**section("x"), "block_id": "b" * 256}], "255"),
        ([section("x")] * 51, "50"),
        ([{"type": "no_such_block"}], "unknown block type"),
    ],
)
async def test_invalid_blocks_are_rejected_and_not_stored(
    fake: FakeSlack, blocks: list[dict[str, object]], reason: str
) -> None:
    web = client(fake)
    with pytest.raises(SlackApiError) as raised:
        await web.chat_postMessage(channel="C1", text="x", blocks=blocks)
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_blocks"
    assert reason in raised.value.response["errors"][0]
    assert fake.messages == {} and fake.calls == []
    assert [method for method, _ in fake.invalid] == ["chat.postMessage"]
    assert reason in fake.invalid[0][1]


async def test_invalid_blocks_are_rejected_on_update_and_views(fake: FakeSlack) -> None:
    web = client(fake)
    posted = await web.chat_postMessage(channel="C1", text="x", blocks=[section("ok")])
    with pytest.raises(SlackApiError):
        await web.chat_update(channel="C1", ts=posted["ts"], text="x", blocks=[button("x" * 76)])
    assert fake.messages[("C1", posted["ts"])]["blocks"] == [section("ok")]
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as raised:
        await web.views_open(trigger_id="T", view={**modal, "blocks": [section("x")]})
    assert raised.value.response["error"] == "invalid_blocks"
    assert [m for m, _ in fake.invalid] == ["chat.update", "views.open"]


async def test_validation_can_be_turned_off(fake: FakeSlack) -> None:
    fake.validate_blocks = False
    await client(fake).chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3001)])
    assert len(fake.messages) == 1 and fake.invalid == []


async def test_ts_are_strictly_increasing_and_real_time(fake: FakeSlack) -> None:
    web = client(fake)
    before = Decimal(f"{time.time():.6f}") - 1
    posted = await asyncio.gather(
        *(web.chat_postMessage(channel="C1", text=str(i)) for i in range(30))
    )
    ephemeral = await web.chat_postEphemeral(channel="C1", user="U1", text="e")
    stamps = sorted(Decimal(str(p["ts"])) for p in posted)
    assert len(set(stamps)) == 30
    assert all(len(str(p["ts"]).split(".")[1]) == 6 for p in posted)
    assert before < stamps[0] and stamps[-1] < Decimal(ephemeral["message_ts"])
    in_arrival_order = [Decimal(ts) for _, ts in fake.messages]
    assert in_arrival_order == stamps


async def test_calls_carry_a_monotonic_timestamp(fake: FakeSlack) -> None:
    web = client(fake)
    before = time.monotonic()
    await web.chat_postMessage(channel="C1", text="a")
    await web.chat_postMessage(channel="C1", text="b")
    first, second = fake.calls
    assert before <= first.at <= second.at <= time.monotonic()
    assert Call("m", {}) == Call("m", {})


async def test_admin_methods_answer_ok(fake: FakeSlack) -> None:
    web = client(fake)
    assert (await web.conversations_open(users="U1,U2"))["channel"]["id"] == "DU1"
    topic = await web.conversations_setTopic(channel="C1", topic="on call: ana")
    assert topic["channel"]["topic"]["value"] == "on call: ana"
    gid = fake.add_usergroup("data-oncall")
    group = await web.usergroups_users_update(usergroup=gid, users=["U1", "U2"])
    assert group["usergroup"]["users"] == ["U1", "U2"]
    assert fake.group_users("data-oncall") == ["U1", "U2"]
    home = {"type": "home", "blocks": [section("hello")]}
    assert (await web.views_publish(user_id="U1", view=home))["view"]["id"] == "V0VIEW"
    assert (await web.auth_test())["user_id"] == fake.bot_user_id
    assert fake.topics["C1"] == "on call: ana"
    assert [c.method for c in fake.calls] == [
        "conversations.open",
        "conversations.setTopic",
        "usergroups.users.update",
        "views.publish",
        "auth.test",
    ]


async def test_history_pages_with_a_cursor() -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        c = client(fake)
        for n in range(5):
            await c.chat_postMessage(channel="C1", text=f"m{n}")
        first = await c.conversations_history(channel="C1", limit=2)
        assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
        cursor = first["response_metadata"]["next_cursor"]
        second = await c.conversations_history(channel="C1", limit=2, cursor=cursor)
        assert [m["text"] for m in second["messages"]] == ["m2", "m1"]
    finally:
        await fake.stop()


async def test_user_groups_are_kept_and_unknown_ones_refused(fake: FakeSlack) -> None:
    web = client(fake)
    created = await web.usergroups_create(name="data-oncall", handle="data-oncall")
    gid = created["usergroup"]["id"]
    await web.usergroups_users_update(usergroup=gid, users=["U1"])
    assert (await web.usergroups_users_list(usergroup=gid))["users"] == ["U1"]
    listed = await web.usergroups_list(include_users=True)
    assert [(g["handle"], g["users"]) for g in listed["usergroups"]] == [("data-oncall", ["U1"])]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        await web.usergroups_users_list(usergroup="S0NOPE")
    with pytest.raises(SlackApiError, match="name_already_exists"):
        await web.usergroups_create(name="data-oncall", handle="data-oncall")
    # Real Slack reports the token's scopes on every answer; check --slack reads them.
    answer = await web.auth_test()
    assert "usergroups:write" in answer.headers["x-oauth-scopes"].split(",")
