"""home_view, table-tested on hand-built HomeData: every part renders, buttons carry the
swap and page action ids their handlers listen to, each view passes slack_sdk's View model
(as the fake Slack checks views.publish), and long lists say how much they left out."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Incident, Mode, Paged, Severity, Status
from bot.domain.rca import ActionItem, Rca
from bot.domain.schedule import LadderRole, Override, Rung, resolve
from bot.domain.shifts import shifts
from bot.domain.swaps import Swap
from bot.services.home import HomeData, HomeIncident, OwnedAction
from bot.slack import ids
from bot.slack.blocks.home import (
    MAX_BLOCKS,
    NOT_ON_ROTATION,
    SECTION_CHARS,
    SHOWN_INCIDENTS,
    SHOWN_SWAPS,
    home_view,
    listing,
)
from tests.conftest import ist

NOW = ist("2025-08-28 10:00")  # week 1: AM Primary, PR Backup; week 2: PR Primary, CW Backup
PR_ID = "U0PRRAO002"


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def data(config: TeamConfig, cal: HolidayCalendar, **kw: Any) -> HomeData:
    base: dict[str, Any] = {
        "user": PR_ID,
        "now": NOW,
        "member": "PR",
        "on_call": resolve(config, cal, NOW),
        "rotation_starts": config.rotation.start_at,
    }
    return HomeData(**(base | kw))


def swap(n: int, requester: str = "CW", counterpart: str = "PR", note: str = "") -> Swap:
    start = ist("2025-09-10 00:00") + timedelta(days=n % 20)
    return Swap(
        id=n,
        requester=requester,
        counterpart=counterpart,
        start=start,
        end=start + timedelta(days=1),
        note=note,
        created_at=NOW - timedelta(hours=1),
    )


def incident(n: int, status: Status = Status.TRIGGERED, mode: Mode = Mode.PAGE) -> Incident:
    opened = NOW - timedelta(minutes=5 + n)
    inc = Incident(
        id=f"INC-{n}",
        pipeline="growth-agg",
        severity=Severity.SEV1,
        summary=f"DAU table late #{n}",
        dedupe_key=str(n),
        mode=mode,
        opened_at=opened,
        opened_by="alert",
        ladder=[Rung(role=LadderRole.PRIMARY, member="PR", reason="rotation week 1")],
        paged=[Paged(member="PR", level=0, at=opened)],
        next_at=opened + timedelta(minutes=10),
        status=status,
    )
    if status is Status.ACKNOWLEDGED:
        inc = inc.model_copy(update={"acked_by": "PR", "acked_at": opened + timedelta(minutes=2)})
    return inc


def rca(n: int, owner: str = "PR", due: datetime | None = None) -> Rca:
    return Rca(
        incident_id=f"INC-{n}",
        pipeline="profit-agg",
        severity=Severity.SEV1,
        title=f"profit aggregate late #{n}",
        zone="Asia/Kolkata",
        incident_opened_at=ist("2025-08-20 10:00"),
        resolved_at=ist("2025-08-20 12:00"),
        opened_at=ist("2025-08-20 12:00"),
        due_at=due or ist("2025-08-29 23:59:59"),
        owner=owner,
    )


def action(n: int, due: date = date(2025, 9, 2)) -> OwnedAction:
    item = ActionItem(id=n, text=f"alert on FX lag, part {n}", owner="PR", due=due)
    return OwnedAction(rca=rca(7), item=item)


def text(view: dict[str, Any]) -> str:
    out = []
    for b in view["blocks"]:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


def buttons(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (b["block_id"], e["action_id"], e["value"])
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def valid(view: dict[str, Any]) -> dict[str, Any]:
    """Slack's limits, checked as the fake Slack checks views.publish, plus unique block ids
    (Slack refuses a view with two the same)."""
    assert view["type"] == "home"
    assert len(view["blocks"]) <= MAX_BLOCKS
    parsed = View(**view)
    parsed.validate_json()
    parsed.to_dict()
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for b in view["blocks"]:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= SECTION_CHARS
    return view


def test_on_call_now_until_when_and_why(config: TeamConfig, cal: HolidayCalendar) -> None:
    body = text(valid(home_view(data(config, cal), config)))
    assert "*Primary:* Alex Mehta (<@U0AMEHTA01>)" in body
    assert "*Backup:* Priya Rao (<@U0PRRAO002>) — *you*" in body
    assert "Until Mon 1 Sep 2025, 09:00 IST (in 3 d 23 h) · Why: rotation week 1" in body
    assert "Updated Thu 28 Aug 2025, 10:00 IST" in body


def test_before_the_rotation_starts_it_says_when(config: TeamConfig, cal: HolidayCalendar) -> None:
    early = config.rotation.start_at - timedelta(days=2)
    view = valid(home_view(data(config, cal, now=early, on_call=None), config))
    assert "Nobody yet: the rotation starts" in text(view) and "(in 2 d)" in text(view)


@pytest.mark.parametrize(
    ("overrides", "wanted"),
    [
        ((), ["*Backup* now, until Mon 1 Sep 2025, 09:00 IST", "— rotation week 1"]),
        ((), ["*Primary* Mon 1 Sep 2025, 09:00 → Mon 8 Sep 2025, 09:00 IST (in 3 d 23 h)"]),
        (
            (
                Override(
                    id=4, start=ist("2025-09-03 00:00"), end=ist("2025-09-04 00:00"), a="PR", b="CW"
                ),
            ),
            ["*Backup* Wed 3 Sep 2025, 00:00–24:00 IST", "swap #4 with CW"],
        ),
        ((), ["Diwali exchange"]),
    ],
)
def test_next_shifts_with_their_reasons(
    config: TeamConfig, cal: HolidayCalendar, overrides: tuple[Override, ...], wanted: list[str]
) -> None:
    # Over 9 weeks, so Diwali's exchange (Mon 20 Oct) is among them.
    found = shifts(config, cal, "PR", NOW, overrides, weeks=9)
    body = text(valid(home_view(data(config, cal, shifts=found), config)))
    for line in wanted:
        assert line in body


def test_no_shifts_says_so(config: TeamConfig, cal: HolidayCalendar) -> None:
    assert "You are not on call in these weeks." in text(home_view(data(config, cal), config))


@pytest.mark.parametrize("count", [0, 1, SHOWN_SWAPS, SHOWN_SWAPS + 5])
def test_pending_swaps_carry_approve_and_decline(
    config: TeamConfig, cal: HolidayCalendar, count: int
) -> None:
    asks = [swap(n, note="dentist" if n == 1 else "") for n in range(1, count + 1)]
    view = valid(home_view(data(config, cal, to_answer=asks), config))
    shown = min(count, SHOWN_SWAPS)
    expected = [
        (f"{ids.BLOCK_SWAP_DECISION}:{n}", action_id, str(n))
        for n in range(1, shown + 1)
        for action_id in (ids.ACTION_SWAP_APPROVE, ids.ACTION_SWAP_DECLINE)
    ]
    assert buttons(view) == expected
    body = text(view)
    if count == 0:
        assert "Nothing to answer." in body
    else:
        assert "*Swap #1* — Chen Wu (<@U0CHENWU03>) asks you to take their on-call role" in body
        assert "_Note:_ dentist" in body
        assert "Expires unanswered Thu 11 Sep 2025, 00:00 IST" in body  # swap #1 starts then
    if count > SHOWN_SWAPS:
        assert f"… and {count - SHOWN_SWAPS} more: `/swap list`" in body
    else:
        assert "more: `/swap list`" not in body


def test_own_requests_waiting_on_others_have_no_buttons(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    mine = [swap(3, requester="PR", counterpart="SK")]
    view = valid(home_view(data(config, cal, waiting=mine), config))
    assert buttons(view) == []
    assert "*Swap #3* to Samir Kapoor (<@U0SKAPOOR4>): your role Sat 13 Sep 2025" in text(view)
    assert "`/swap cancel 3` withdraws it" in text(view)


@pytest.mark.parametrize(
    ("inc", "paging_you", "ack", "marks"),
    [
        (incident(1), True, True, ["*INC-1* · SEV1 · Growth — Aggregate", "*paging you*"]),
        (incident(2), False, True, [":rotating_light: Paging Primary <@U0PRRAO002>"]),
        (incident(3, Status.ACKNOWLEDGED), False, False, ["Acknowledged by <@U0PRRAO002>"]),
        (incident(4, mode=Mode.NOTIFY), False, False, ["nobody is paged"]),
    ],
)
def test_incidents_offer_ack_only_while_a_page_waits(
    config: TeamConfig,
    cal: HolidayCalendar,
    inc: Incident,
    paging_you: bool,
    ack: bool,
    marks: list[str],
) -> None:
    rows = [HomeIncident(incident=inc, paging_you=paging_you)]
    view = valid(home_view(data(config, cal, incidents=rows), config))
    want = [(f"{ids.PAGE_ACTIONS_BLOCK}:{inc.id}", ids.ACTION_PAGE_ACK, inc.id)] if ack else []
    assert buttons(view) == want
    body = text(view)
    for mark in marks:
        assert mark in body
    assert ("*paging you*" in body) is paging_you


def test_many_incidents_say_how_many_more(config: TeamConfig, cal: HolidayCalendar) -> None:
    rows = [HomeIncident(incident=incident(n), paging_you=False) for n in range(1, 13)]
    view = valid(home_view(data(config, cal, incidents=rows), config))
    assert len(buttons(view)) == SHOWN_INCIDENTS
    assert f"… and {12 - SHOWN_INCIDENTS} more: `/oncall incidents`" in text(view)


def test_the_count_of_more_covers_incidents_beyond_those_read(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    # The tab reads only the most urgent open incidents (HOME_CANDIDATES); the count says
    # how many are open in all.
    rows = [HomeIncident(incident=incident(n), paging_you=False) for n in range(1, 13)]
    view = valid(home_view(data(config, cal, incidents=rows, open_count=5000), config))
    assert f"… and {5000 - SHOWN_INCIDENTS} more: `/oncall incidents`" in text(view)


def test_rcas_and_action_items_owned(config: TeamConfig, cal: HolidayCalendar) -> None:
    late = rca(5, due=ist("2025-08-26 23:59:59"))
    view = valid(
        home_view(
            data(
                config, cal, rcas=[rca(6), late], actions=[action(1), action(2, date(2025, 8, 27))]
            ),
            config,
        )
    )
    body = text(view)
    assert "RCA for *INC-6* (Profit — Aggregate, Sev-1: profit aggregate late #6)" in body
    assert "due Fri 29 Aug 2025; `/rca write INC-6`" in body
    assert "*INC-5*" in body and "— *overdue*" in body
    assert "*A1* of INC-7: alert on FX lag, part 1 — due Tue 2 Sep 2025;" in body
    assert "*A2* of INC-7: alert on FX lag, part 2 — due Wed 27 Aug 2025 — *late*" in body
    assert "Nothing owed." not in body


def test_off_the_roster_only_who_is_on_call(config: TeamConfig, cal: HolidayCalendar) -> None:
    view = valid(home_view(data(config, cal, user="U0OUTSIDER9", member=None), config))
    body = text(view)
    assert "*Primary:* Alex Mehta" in body and "— *you*" not in body
    assert NOT_ON_ROTATION in body
    assert "Your shifts" not in body and "Swap requests" not in body and buttons(view) == []


def test_everything_at_once_stays_inside_slacks_limits(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    """Fifty of each, with long notes and summaries: under 100 blocks, 3000 characters a
    section, and every list says what it left out."""
    long = "x" * 2500
    view = valid(
        home_view(
            data(
                config,
                cal,
                shifts=shifts(config, cal, "PR", NOW, weeks=52),
                to_answer=[swap(n, note=long) for n in range(1, 51)],
                waiting=[swap(n, requester="PR", counterpart="SK") for n in range(51, 101)],
                incidents=[
                    HomeIncident(
                        incident=incident(n).model_copy(update={"summary": long}), paging_you=True
                    )
                    for n in range(1, 51)
                ],
                rcas=[rca(n) for n in range(1, 51)],
                actions=[action(n) for n in range(1, 51)],
            ),
            config,
        )
    )
    body = text(view)
    assert "… and 42 more: `/swap list`" in body
    assert "… and 42 more: `/oncall incidents`" in body
    assert "more: `/oncall me`" in body
    assert "more: `/rca`" in body and "more: `/rca actions`" in body
    assert len(view["blocks"]) < 70


@pytest.mark.parametrize(
    ("lines", "most", "expected"),
    [
        ([], 15, ""),
        (["a", "b"], 15, "a\nb"),
        (["a", "b", "c"], 2, "a\nb\n… and 1 more: hint"),
        (["y" * 1500, "z" * 1500, "w"], 15, "y" * 999 + "…\n" + "z" * 999 + "…\nw"),
        (["y" * 1000] * 4, 15, "\n".join(["y" * 1000] * 2) + "\n… and 2 more: hint"),
    ],
)
def test_listing_keeps_room_to_say_how_many_more(
    lines: list[str], most: int, expected: str
) -> None:
    out = listing(lines, "hint", most=most)
    assert out == expected
    assert len(out) <= SECTION_CHARS


def test_listing_counts_its_title() -> None:
    out = listing(["y" * 999] * 3, "hint", title="t" * 100)
    assert out.startswith("t" * 100) and out.endswith("… and 1 more: hint")
    assert len(out) <= SECTION_CHARS
