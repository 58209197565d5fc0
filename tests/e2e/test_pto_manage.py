"""`/oncall pto`: listing, cancelling and merging leave; the swap request's role and PTO."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.domain.swaps import Window
from bot.slack.blocks.swaps import request_dm, requested_reply
from tests.conftest import ist
from tests.e2e.swap_helpers import AM, CW, PR, SK, dms_to, oncall, swap_cmd

# Week 2 (2025-09-01 09:00 → 09-08 09:00): PR Primary, CW Backup.
WEEK_2_PTO = "PR is Primary on PTO with no swap"


@pytest.fixture(autouse=True)
def before_week_two(clock: FakeClock) -> None:
    clock.set(ist("2025-08-28 10:00"))


async def test_no_args_lists_your_pto_with_ids_weekdays_and_conflicts(harness: Harness) -> None:
    await oncall(harness, PR, "pto 2025-09-03")
    await oncall(harness, PR, "pto 2025-09-20..2025-09-21")
    await oncall(harness, SK, "pto 2025-09-10")  # someone else's: not listed

    said = await oncall(harness, PR, "pto")
    assert "*Your PTO*" in said
    assert "• #1 Wed 3 Sep 2025, 00:00–24:00 IST" in said
    assert "⚠ Primary Wed 3 Sep 2025, 00:00–24:00 IST" in said
    assert "`/swap @member 2025-09-03`" in said
    assert "• #2 Sat 20 Sep 2025, 00:00 → Sun 21 Sep 2025, 24:00 IST" in said
    assert "#3" not in said
    assert said.index("#1 ") < said.index("#2 ")
    assert await oncall(harness, PR, "pto list") == said

    nothing = await oncall(harness, AM, "pto")
    assert "none recorded" in nothing and "/oncall pto &lt;window&gt;" in nothing


async def test_help_says_how_to_list_and_cancel(harness: Harness) -> None:
    said = await oncall(harness, PR, "pto help")
    assert "`/oncall pto cancel &lt;id&gt;`" in said and "`/oncall pto`" in said


async def test_cancel_your_own(harness: Harness) -> None:
    await oncall(harness, PR, "pto 2025-09-03")
    said = await oncall(harness, PR, "pto cancel 1")
    assert "Cancelled your PTO #1 (Wed 3 Sep 2025, 00:00–24:00 IST)" in said
    assert WEEK_2_PTO not in await oncall(harness, AM, "schedule 2")
    assert "none recorded" in await oncall(harness, PR, "pto")
    again = await oncall(harness, PR, "pto cancel #1")
    assert "There is no PTO #1" in again


async def test_cancel_refuses_someone_elses_unknown_and_past(
    harness: Harness, clock: FakeClock
) -> None:
    await oncall(harness, PR, "pto 2025-09-03")
    theirs = await oncall(harness, CW, "pto cancel 1")
    assert "PTO #1 is PR's, not yours: only PR can cancel it." in theirs
    assert "There is no PTO #7" in await oncall(harness, PR, "pto cancel 7")
    assert "with an id from `/oncall pto`" in await oncall(harness, PR, "pto cancel one")
    assert "with an id from `/oncall pto`" in await oncall(harness, PR, "pto cancel")
    assert "#1 Wed 3 Sep 2025" in await oncall(harness, PR, "pto")  # still there

    clock.set(ist("2025-09-04 00:00"))
    assert "PTO #1 is already over" in await oncall(harness, PR, "pto cancel 1")


async def test_cancel_of_leave_under_way_is_allowed(harness: Harness, clock: FakeClock) -> None:
    await oncall(harness, PR, "pto 2025-09-03..2025-09-04")
    clock.set(ist("2025-09-03 12:00"))
    assert "Cancelled your PTO #1" in await oncall(harness, PR, "pto cancel 1")


async def test_overlapping_leave_merges_and_the_schedule_flags_it_once(
    harness: Harness,
) -> None:
    await oncall(harness, PR, "pto 2025-09-03..2025-09-04")
    said = await oncall(harness, PR, "pto 2025-09-04..2025-09-05")
    assert "Recorded your PTO #1: Wed 3 Sep 2025, 00:00 → Fri 5 Sep 2025, 24:00 IST." in said
    assert "Merged with your PTO #1, which it overlapped or touched" in said

    schedule = await oncall(harness, AM, "schedule 2")
    assert schedule.count(WEEK_2_PTO) == 1
    week = await oncall(harness, AM, "week 2025-09-03")
    assert week.count(WEEK_2_PTO) == 1
    listed = await oncall(harness, PR, "pto")
    assert listed.count("• #") == 1


async def test_touching_leave_merges_and_a_bridge_joins_two(harness: Harness) -> None:
    await oncall(harness, SK, "pto 2025-09-10")
    await oncall(harness, SK, "pto 2025-09-13")
    await oncall(harness, CW, "pto 2025-09-11")  # another person's: never merged
    said = await oncall(harness, SK, "pto 2025-09-11..2025-09-12")
    assert "Merged with your PTO #1 and #2" in said
    assert "Recorded your PTO #1: Wed 10 Sep 2025, 00:00 → Sat 13 Sep 2025, 24:00 IST." in said
    listed = await oncall(harness, SK, "pto")
    assert listed.count("• #") == 1 and "#2" not in listed
    assert "• #3 Thu 11 Sep 2025" in await oncall(harness, CW, "pto")
    # Leave a minute apart is two entries: only overlapping or touching leave merges.
    apart = await oncall(harness, SK, "pto 2025-09-14 00:01..2025-09-14 10:00")
    assert "Merged" not in apart


async def test_concurrent_overlapping_leave_ends_as_one_entry(harness: Harness) -> None:
    assert harness.deps is not None
    swaps = harness.deps.swaps
    day = [
        Window(start=ist("2025-09-10 00:00"), end=ist("2025-09-11 12:00")),
        Window(start=ist("2025-09-11 00:00"), end=ist("2025-09-12 00:00")),
        Window(start=ist("2025-09-11 06:00"), end=ist("2025-09-13 00:00")),
    ]
    await asyncio.gather(*(swaps.record_pto("SK", w) for w in day))
    [one] = await swaps.ptos_of("SK")
    assert (one.start, one.end) == (ist("2025-09-10 00:00"), ist("2025-09-13 00:00"))
    assert len(await swaps.store.all_ptos()) == 1


async def test_request_names_role_window_and_the_counterparts_pto(harness: Harness) -> None:
    await oncall(harness, CW, "pto 2025-09-02..2025-09-03")
    said = await swap_cmd(harness, PR, "@CW 2025-09-03")
    assert "swap #1" in said
    assert harness.deps is not None
    swap = await harness.deps.swaps.get(1)
    assert swap is not None
    roles, back_roles, ptos = await harness.deps.swaps.request_context(swap)
    assert (roles, back_roles, [p.id for p in ptos]) == (["Primary"], [], [1])

    cfg = harness.deps.config
    dm = request_dm(cfg, swap, roles, back_roles, ptos).text
    assert ("asks you to take their on-call role: *Primary, Wed 3 Sep 2025, 00:00–24:00 IST*") in dm
    assert "⚠ You have PTO #1 (Tue 2 Sep 2025, 00:00 → Wed 3 Sep 2025, 24:00 IST) then." in dm
    answer = requested_reply(cfg, swap, ptos).text
    assert "⚠ CW has PTO #1 (Tue 2 Sep 2025, 00:00 → Wed 3 Sep 2025, 24:00 IST) then." in answer


async def test_exchange_request_names_both_roles_and_no_pto_warning(harness: Harness) -> None:
    # Week 2 PR Primary / CW Backup; an exchange: CW takes PR's 09-03, PR takes CW's 09-04.
    await oncall(harness, CW, "pto 2025-09-20")  # outside the window: no warning
    await swap_cmd(harness, PR, "@CW 2025-09-03 for 2025-09-04")
    assert harness.deps is not None
    swap = await harness.deps.swaps.get(1)
    assert swap is not None
    roles, back_roles, ptos = await harness.deps.swaps.request_context(swap)
    assert (roles, back_roles, ptos) == (["Primary"], ["Backup"], [])
    dm = request_dm(harness.deps.config, swap, roles, back_roles, ptos).text
    assert "and to give them yours: *Backup, Thu 4 Sep 2025, 00:00–24:00 IST*" in dm
    assert "PTO" not in dm


async def test_request_dm_delivered_carries_role_and_pto(harness: Harness) -> None:
    await oncall(harness, CW, "pto 2025-09-03")
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    [ask] = dms_to(harness, CW)
    assert "*Primary, Wed 3 Sep 2025, 00:00–24:00 IST*" in ask.args["text"]
    assert "⚠ You have PTO #1" in ask.args["text"]
