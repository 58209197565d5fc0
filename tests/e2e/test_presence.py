"""Where people already look (issue #11): the @data-oncall user groups, the team channel's
topic and the shift notices, through the real app and the fake Slack on a fake clock, with
two replicas running their jobs side by side.

The week under test holds every kind of boundary: Diwali falls on Monday 20 Oct 2025, so
the roles exchange at 00:00 and the new rotation week starts at 09:00 inside the exchange,
and an approved swap hands Alex Mehta's Primary to Chen Wu for Wednesday 22 Oct. The
expected answers below are written out by hand from the policy, not computed by the code
under test.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.fakeslack import Call, FakeSlack
from bot.devtools.harness import Harness
from bot.domain.swaps import Window
from tests.conftest import ROOT, ist
from tests.e2e.swap_helpers import AM, CW, PR, SK

NAMES = {AM: "AM", PR: "PR", CW: "CW", SK: "SK"}
TOPIC = "On call: Primary {} · Backup {} · until {}"


async def _replicas(
    shared_redis: tuple[Redis, Redis], clock: FakeClock, config: TeamConfig, slack: FakeSlack
) -> tuple[Harness, Harness]:
    extra = {"runbooks_dir": ROOT / "runbooks"}
    one = await Harness(shared_redis[0], clock, config, extra, slack=slack).start()
    two = await Harness(shared_redis[1], clock, config, extra, slack=slack).start()
    return one, two


async def _hourly(one: Harness, two: Harness, clock: FakeClock, until: datetime) -> None:
    """Both replicas run every job concurrently on each hour up to `until`: every boundary
    of the week falls on an hour, so each is looked at exactly when it happens."""
    while clock.now() < until:
        clock.set(min(clock.now() + timedelta(hours=1), until))
        await asyncio.gather(one.run_jobs(), two.run_jobs())


def _local(at: datetime) -> str:
    return at.astimezone(ist("2025-10-20 00:00").tzinfo).strftime("%a %d %H:%M")


async def test_groups_topic_and_shift_notices_follow_the_schedule_once_each(
    shared_redis: tuple[Redis, Redis], config: TeamConfig
) -> None:
    clock = FakeClock(ist("2025-10-18 20:00"))
    slack = FakeSlack()
    # An admin created both groups by hand, with whoever they thought was on call.
    slack.add_usergroup("data-oncall", [AM])
    slack.add_usergroup("data-oncall-primary", [AM])
    seen: list[tuple[str, Call]] = []
    slack.on_call = lambda call: seen.append((_local(clock.now()), call))
    one, two = await _replicas(shared_redis, clock, config, slack)
    try:
        assert one.deps is not None
        swap = await one.deps.swaps.request(
            "AM", "CW", Window(start=ist("2025-10-22 00:00"), end=ist("2025-10-23 00:00"))
        )
        await one.deps.swaps.approve(swap.id, "CW")
        await _hourly(one, two, clock, ist("2025-10-27 10:00"))
    finally:
        await one.stop()
        await two.stop()
        await slack.stop()

    def updates(group: str) -> list[tuple[str, list[str]]]:
        gid = next(g for g, v in slack.usergroups.items() if v["handle"] == group)
        return [
            (at, [NAMES[u] for u in str(c.args["users"]).split(",")])
            for at, c in seen
            if c.method == "usergroups.users.update" and c.args["usergroup"] == gid
        ]

    # Primary and Backup; a holiday exchange keeps the same two people, so no call then.
    assert updates("data-oncall") == [
        ("Sat 18 21:00", ["SK", "PR"]),  # the hand-made group put right at the first look
        ("Mon 20 09:00", ["PR", "AM"]),  # new rotation week, inside the Diwali exchange
        ("Wed 22 00:00", ["CW", "PR"]),  # swap #1: CW takes AM's Primary for the day
        ("Thu 23 00:00", ["AM", "PR"]),  # the swap ends
        ("Mon 27 09:00", ["PR", "CW"]),  # the next rotation week
    ]
    assert updates("data-oncall-primary") == [
        ("Sat 18 21:00", ["SK"]),
        ("Mon 20 00:00", ["PR"]),  # Diwali: Backup PR becomes Primary at midnight...
        # ...and stays Primary across 09:00 (the new week's Backup), so no call then
        ("Tue 21 00:00", ["AM"]),  # the exchange ends: the week's Primary takes over
        ("Wed 22 00:00", ["CW"]),
        ("Thu 23 00:00", ["AM"]),
        ("Mon 27 09:00", ["PR"]),
    ]
    topics = [(at, c.args["topic"]) for at, c in seen if c.method == "conversations.setTopic"]
    assert topics == [
        ("Sat 18 21:00", TOPIC.format("Samir Kapoor", "Priya Rao", "Mon 20 Oct 2025, 00:00 IST")),
        ("Mon 20 00:00", TOPIC.format("Priya Rao", "Samir Kapoor", "Mon 20 Oct 2025, 09:00 IST")),
        ("Mon 20 09:00", TOPIC.format("Priya Rao", "Alex Mehta", "Tue 21 Oct 2025, 00:00 IST")),
        ("Tue 21 00:00", TOPIC.format("Alex Mehta", "Priya Rao", "Wed 22 Oct 2025, 00:00 IST")),
        ("Wed 22 00:00", TOPIC.format("Chen Wu", "Priya Rao", "Thu 23 Oct 2025, 00:00 IST")),
        ("Thu 23 00:00", TOPIC.format("Alex Mehta", "Priya Rao", "Mon 27 Oct 2025, 09:00 IST")),
        ("Mon 27 09:00", TOPIC.format("Priya Rao", "Chen Wu", "Mon 3 Nov 2025, 09:00 IST")),
    ]
    assert all(c.args["channel"] == "C0DATAPLATFORM" for _, c in seen if "Topic" in c.method)

    notices = [
        (at, NAMES[str(c.args["channel"])[1:]], str(c.args["text"]))
        for at, c in seen
        if c.method == "chat.postMessage"
        and str(c.args.get("text", "")).startswith((":calendar: You are", ":rotating_light: You"))
    ]
    got = [(at, who, text.split(":")[2].split(" (")[0]) for at, who, text in notices]
    expected_roles = [
        # (sent at, to whom, role) 24 h ahead and at the start, one of each, nothing twice.
        ("Sun 19 00:00", "PR", "Primary"),  # Diwali exchange
        ("Sun 19 00:00", "SK", "Backup"),
        ("Sun 19 09:00", "AM", "Backup"),
        ("Mon 20 00:00", "PR", "Primary"),
        ("Mon 20 00:00", "SK", "Backup"),
        ("Mon 20 00:00", "AM", "Primary"),  # 24 h before Tue 00:00
        ("Mon 20 00:00", "PR", "Backup"),
        ("Mon 20 09:00", "AM", "Backup"),
        ("Tue 21 00:00", "AM", "Primary"),
        ("Tue 21 00:00", "PR", "Backup"),
        ("Tue 21 00:00", "CW", "Primary"),  # 24 h before the swap
        ("Wed 22 00:00", "CW", "Primary"),
        ("Wed 22 00:00", "AM", "Primary"),  # 24 h before AM takes Primary back
        ("Thu 23 00:00", "AM", "Primary"),
        ("Sun 26 09:00", "PR", "Primary"),
        ("Sun 26 09:00", "CW", "Backup"),
        ("Mon 27 09:00", "PR", "Primary"),
        ("Mon 27 09:00", "CW", "Backup"),
    ]
    assert sorted((at, who, role.split("*")[1]) for at, who, role in got) == sorted(
        expected_roles
    ), notices
    texts = {(at, who): text for at, who, text in notices}
    assert texts[("Sun 19 00:00", "PR")] == (
        ":calendar: You are *Primary* in 1 d: Mon 20 Oct 2025, 00:00–24:00 IST "
        "(Diwali exchange). `/oncall me` lists your next shifts."
    )
    assert texts[("Wed 22 00:00", "CW")].startswith(
        ":rotating_light: You are *Primary* now: Wed 22 Oct 2025, 00:00–24:00 IST (swap #1 with AM)"
    )
    assert texts[("Tue 21 00:00", "AM")].endswith(
        "(rotation week 1). `/oncall me` lists your next shifts."
    )


async def test_a_group_edited_by_hand_is_repaired_and_a_right_one_is_left_alone(
    harness: Harness, clock: FakeClock
) -> None:
    assert harness.deps is not None
    await harness.run_jobs()
    slack = harness.slack
    assert slack.group_users("data-oncall-primary") is not None
    right = slack.group_users("data-oncall")
    slack.clear()
    # Nothing drifted: the hourly repair reads and changes nothing.
    await harness.deps.presence.repair()
    await harness.deliver()
    assert slack.of("usergroups.users.update") == [] and slack.of("conversations.setTopic") == []
    assert len(slack.of("usergroups.users.list")) == 2 and slack.of("conversations.info")
    # Someone adds themselves by hand and edits the topic: the next repair puts both back.
    gid = next(g for g, v in slack.usergroups.items() if v["handle"] == "data-oncall")
    slack.usergroups[gid]["users"] = [*slack.usergroups[gid]["users"], SK]
    slack.topics["C0DATAPLATFORM"] = "ask in #help"
    await harness.deps.presence.repair()
    await harness.deliver()
    assert slack.group_users("data-oncall") == right
    assert slack.topics["C0DATAPLATFORM"].startswith("On call: Primary ")
    assert len(slack.of("usergroups.users.update")) == 1


async def test_a_failing_sync_is_retried_through_the_outbox(
    harness: Harness, clock: FakeClock
) -> None:
    # Wed 3 Sep 2025: rotation week 2, Priya Rao Primary, Chen Wu Backup.
    slack = harness.slack
    slack.fail("usergroups.users.update", 500, times=1)
    await harness.run_jobs()
    assert [c.method for c in slack.failed_calls] == ["usergroups.users.update"]
    groups = [slack.group_users("data-oncall"), slack.group_users("data-oncall-primary")]
    assert [] in groups  # created, and its update refused
    clock.set(clock.now() + timedelta(minutes=2))
    await harness.deliver()
    assert slack.group_users("data-oncall") == [PR, CW]
    assert slack.group_users("data-oncall-primary") == [PR]
