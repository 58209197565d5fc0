"""PTO and holiday conflicts, reminders, the swap form, export and the console."""

from __future__ import annotations

import io
import tomllib
from typing import Any

import pytest

from bot.cli import export_text
from bot.clock import FakeClock
from bot.console import Console, run_console
from bot.devtools.harness import Harness
from bot.slack import ids
from tests.conftest import ist
from tests.e2e.swap_helpers import AM, CW, PR, SK, dms_to, oncall, press, stored, swap_cmd


@pytest.fixture(autouse=True)
def before_week_two(clock: FakeClock) -> None:
    clock.set(ist("2025-08-28 10:00"))


async def test_the_swap_offered_for_a_part_of_a_day_can_be_pasted_as_it_is(
    harness: Harness,
) -> None:
    # PR is Primary until the Monday 09:00 handoff, so leave on Mon 8 Sep clashes for 9 h.
    said = await oncall(harness, PR, "pto 2025-09-08")
    assert "⚠ Primary Mon 8 Sep 2025, 00:00–09:00 IST: `/swap @member 2025-09-08 00:00..09:00`" in (
        said
    )
    offered = said.split("`/swap @member ")[1].split("`")[0]
    asked = await swap_cmd(harness, PR, f"@SK {offered}")
    assert "Asked Samir Kapoor" in asked and "Mon 8 Sep 2025, 00:00–09:00 IST" in asked


async def test_pto_conflict_is_flagged_and_reminded_once(
    harness: Harness, clock: FakeClock
) -> None:
    said = await oncall(harness, PR, "pto 2025-09-03..2025-09-04")
    assert "Recorded your PTO #1: Wed 3 Sep 2025, 00:00 → Thu 4 Sep 2025, 24:00 IST." in said
    assert "⚠ Primary Wed 3 Sep 2025, 00:00 → Thu 4 Sep 2025, 24:00 IST" in said
    assert "`/swap @member 2025-09-03..2025-09-04`" in said

    schedule = await oncall(harness, AM, "schedule 2")
    assert "⚠ 2025-09-03..2025-09-04: PR is Primary on PTO with no swap" in schedule
    # 2025-09-05 is a company (not critical) holiday in week 2: both on-callers are flagged.
    assert "⚠ 2025-09-05: PR is Primary on a company holiday (Prophet's Birthday)" in schedule
    assert "⚠ 2025-09-05: CW is Backup on a company holiday (Prophet's Birthday)" in schedule

    assert harness.deps is not None and harness.app is not None
    for _ in range(2):  # a second tick (or replica) must not send it again
        await harness.deps.swaps.queue_reminders()
        await harness.deliver()
    [reminder] = dms_to(harness, PR)
    assert "on call in 6 days (2025-09-03..2025-09-04)" in reminder.args["text"]
    assert "PTO" in reminder.args["text"]

    await press(harness, PR, PR, ids.ACTION_SWAP_OPEN_MODAL)
    [opened] = harness.slack.of("views.open")
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert blocks[ids.BLOCK_SWAP_START_DATE]["element"]["initial_date"] == "2025-09-03"
    assert blocks[ids.BLOCK_SWAP_END_DATE]["element"]["initial_date"] == "2025-09-04"

    clock.set(ist("2025-09-02 01:00"))
    await harness.deps.swaps.queue_reminders()
    await harness.deliver()
    await harness.deps.swaps.queue_reminders()
    await harness.deliver()
    tomorrow = [c for c in dms_to(harness, PR) if "tomorrow" in c.args["text"]]
    assert len(tomorrow) == 1


async def test_an_approved_swap_clears_the_pto_flag(harness: Harness) -> None:
    await oncall(harness, PR, "pto 2025-09-03")
    await swap_cmd(harness, PR, "@SK 2025-09-03")
    await press(harness, SK, SK, ids.ACTION_SWAP_APPROVE)
    schedule = await oncall(harness, AM, "schedule 2")
    assert "PR is Primary on PTO" not in schedule
    # PR hands Primary to SK, who was off duty: CW (Backup) took no part, so is not named.
    assert "2025-09-03: PR→SK (swap #1)" in schedule
    assert "⇄" not in schedule.split("2025-09-03:")[1].split("\n")[0]


async def test_bad_pto_window_says_what_is_valid(harness: Harness) -> None:
    said = await oncall(harness, PR, "pto next tuesday")
    assert "A window is one of" in said and "/oncall pto &lt;window&gt;" in said


def _submission(user: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T0ONCALL", "domain": "oncall"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0ONCALL"},
        "api_app_id": "A0ONCALL",
        "token": "unused",
        "trigger_id": "trigger.3",
        "view": {
            "id": "V0VIEW",
            "type": "modal",
            "callback_id": ids.CALLBACK_SWAP_MODAL,
            "private_metadata": "",
            "state": {"values": values},
        },
    }


def _form(member: str, start: str, end: str, role: str = "any") -> dict[str, Any]:
    return {
        ids.BLOCK_SWAP_MEMBER: {
            ids.ACTION_SWAP_MEMBER: {"type": "static_select", "selected_option": {"value": member}}
        },
        ids.BLOCK_SWAP_START_DATE: {
            ids.ACTION_SWAP_START_DATE: {"type": "datepicker", "selected_date": start}
        },
        ids.BLOCK_SWAP_START_TIME: {
            ids.ACTION_SWAP_START_TIME: {"type": "timepicker", "selected_time": None}
        },
        ids.BLOCK_SWAP_END_DATE: {
            ids.ACTION_SWAP_END_DATE: {"type": "datepicker", "selected_date": end}
        },
        ids.BLOCK_SWAP_END_TIME: {
            ids.ACTION_SWAP_END_TIME: {"type": "timepicker", "selected_time": None}
        },
        ids.BLOCK_SWAP_ROLE: {
            ids.ACTION_SWAP_ROLE: {"type": "static_select", "selected_option": {"value": role}}
        },
        ids.BLOCK_SWAP_NOTE: {ids.ACTION_SWAP_NOTE: {"type": "plain_text_input", "value": "gig"}},
    }


async def test_swap_form_opens_and_submits(harness: Harness) -> None:
    resp = await harness.command("/swap", "", PR)
    assert resp.status == 200
    [opened] = harness.slack.of("views.open")
    assert opened.args["view"]["callback_id"] == ids.CALLBACK_SWAP_MODAL
    assert opened.args["trigger_id"] == "trigger.1"

    bad = await harness.interact(_submission(PR, _form("CW", "2025-09-03", "2025-09-03", "Backup")))
    assert bad.json["response_action"] == "errors"
    assert "You are Primary in 2025-09-03, not Backup" in bad.json["errors"][ids.BLOCK_SWAP_ROLE]

    off = await harness.interact(_submission(AM, _form("CW", "2025-09-03", "2025-09-03")))
    assert "not Primary or Backup" in off.json["errors"][ids.BLOCK_SWAP_START_DATE]

    ok = await harness.interact(_submission(PR, _form("CW", "2025-09-03", "2025-09-04")))
    assert ok.status == 200 and ok.text == ""
    swap = await stored(harness, 1)
    assert (swap.start, swap.end, swap.note) == (
        ist("2025-09-03 00:00"),
        ist("2025-09-05 00:00"),
        "gig",
    )
    assert "swap #1" in dms_to(harness, PR)[-1].args["text"]
    assert "Swap #1" in dms_to(harness, CW)[-1].args["text"]


async def test_export_prints_swaps_and_pto_as_toml(harness: Harness) -> None:
    await swap_cmd(harness, PR, "@CW 2025-09-03")
    await press(harness, CW, CW, ids.ACTION_SWAP_APPROVE)
    await oncall(harness, SK, "pto 2025-09-20..2025-09-21")
    assert harness.deps is not None
    text = await export_text(harness.redis, harness.deps.config, harness.clock.now())
    data = tomllib.loads(text)
    [swap] = data["swaps"]
    assert (swap["id"], swap["status"], swap["requester"], swap["counterpart"]) == (
        1,
        "approved",
        "PR",
        "CW",
    )
    assert swap["start"] == ist("2025-09-03 00:00") and swap["decided_by"] == "CW"
    [pto] = data["pto"]
    assert pto["member"] == "SK" and pto["end"] == ist("2025-09-22 00:00")


CONSOLE_SCRIPT = (
    "at 2025-08-28 10:00\n"
    "as PR\n"
    "/swap @CW 2025-09-03\n"
    "as CW\n"
    "press 1\n"
    "/oncall at 2025-09-03 12:00\n"
)


async def test_console_script_shows_the_exchange(harness: Harness, clock: FakeClock) -> None:
    assert harness.deps is not None
    out = io.StringIO()
    console = Console(harness, clock, harness.deps.config, out=out)
    await run_console(console, io.StringIO(CONSOLE_SCRIPT), interactive=False)
    text = out.getvalue()
    assert "[DM to Chen Wu (CW)]" in text and "[1: Approve] [2: Decline]" in text
    answer = text.split("CW> /oncall at 2025-09-03 12:00")[1]
    assert "Primary: Chen Wu (@CW)" in answer
    assert "Backup: Priya Rao (@PR)" in answer
    assert "CW⇄PR" in answer
