"""Calendar feeds through the real app (issue #11 item 6): `GET /calendar/team.ics` and
`GET /calendar/<initials>.ics`, token in the URL, parsed back with icalendar."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar
from redis.asyncio import Redis

from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.devtools.harness import Harness, Response
from bot.domain.swaps import Window
from bot.slack import ids
from tests.conftest import ROOT, ist
from tests.e2e.swap_helpers import CW, PR, press, swap_cmd

TOKEN = "cal-s3cret-token"


@pytest.fixture
async def feeds(redis: Redis, clock: FakeClock, config: TeamConfig) -> AsyncIterator[Harness]:
    """The app with CALENDAR_TOKEN set."""
    h = await Harness(
        redis,
        clock,
        config,
        settings_overrides={"runbooks_dir": ROOT / "runbooks", "calendar_token": TOKEN},
    ).start()
    yield h
    await h.stop()


async def get(h: Harness, path: str) -> Response:
    return await h.get(path)


def events(resp: Response) -> list[dict[str, Any]]:
    assert resp.status == 200, resp.text
    cal = Calendar.from_ical(resp.text)
    assert str(cal["VERSION"]) == "2.0" and cal.get("PRODID")
    out = []
    for ev in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION"):
            assert prop in ev, (prop, ev)
        out.append(
            {
                "uid": str(ev["UID"]),
                "start": ev.decoded("DTSTART"),
                "end": ev.decoded("DTEND"),
                "summary": str(ev["SUMMARY"]),
                "description": str(ev["DESCRIPTION"]),
                "member": str(ev["X-ONCALL-MEMBER"]),
                "modified": ev.decoded("LAST-MODIFIED") if "LAST-MODIFIED" in ev else None,
            }
        )
    return out


async def feed(h: Harness, who: str = "team") -> list[dict[str, Any]]:
    return events(await get(h, f"/calendar/{who}.ics?token={TOKEN}"))


def uids(evs: list[dict[str, Any]]) -> list[str]:
    return [e["uid"] for e in evs]


def at(evs: list[dict[str, Any]], when: datetime, summary_part: str) -> list[dict[str, Any]]:
    return [e for e in evs if e["start"] <= when < e["end"] and summary_part in e["summary"]]


# ---------------------------------------------------------------------------- access


async def test_feeds_are_off_without_a_token_setting(harness: Harness) -> None:
    for path in ("/calendar/team.ics", "/calendar/PR.ics?token=anything"):
        resp = await get(harness, path)
        assert resp.status == 404
        assert "calendar feeds are off" in resp.json["error"]


@pytest.mark.parametrize("who", ["team", "PR", "ZZ"])
@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong", f"?token={TOKEN}x", "?tok=x"])
async def test_a_wrong_or_missing_token_is_401(feeds: Harness, who: str, query: str) -> None:
    resp = await get(feeds, f"/calendar/{who}.ics{query}")
    assert resp.status == 401
    assert "calendar token" in resp.json["error"]
    assert "BEGIN:VCALENDAR" not in resp.text


async def test_unknown_initials_are_404_with_the_roster(feeds: Harness) -> None:
    resp = await get(feeds, f"/calendar/ZZ.ics?token={TOKEN}")
    assert resp.status == 404
    assert "no team member with initials 'ZZ'" in resp.json["error"]
    assert "AM, PR, CW, SK" in resp.json["error"]


async def test_the_feed_is_text_calendar(feeds: Harness) -> None:
    assert feeds._session is not None
    async with feeds._session.get(f"{feeds.url}/calendar/team.ics?token={TOKEN}") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/calendar"
        assert (await resp.text()).startswith("BEGIN:VCALENDAR")


# ---------------------------------------------------------------------------- content


async def test_holiday_exchanges_appear_with_the_right_people(
    feeds: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-10-01 12:00"))  # window: 2025-09-01 → 2026-04-06
    team = await feed(feeds)
    assert len(set(uids(team))) == len(team)
    assert min(e["start"] for e in team) == ist("2025-09-01 09:00")
    assert max(e["end"] for e in team) == ist("2026-04-06 09:00")

    # Diwali 2025 (Mon 20 Oct): week 8 (SK Primary, PR Backup) hands over to week 1 (AM, PR)
    # at 09:00, and all day PR (Backup in both) is Primary.
    [diwali] = at(team, ist("2025-10-20 12:00"), "Primary")
    assert diwali["summary"] == "PR — Primary on call: Diwali exchange"
    assert (diwali["start"], diwali["end"]) == (ist("2025-10-20 00:00"), ist("2025-10-21 00:00"))
    assert "Diwali (2025-10-20) is a critical holiday" in diwali["description"]
    [early] = at(team, ist("2025-10-20 08:00"), "Backup")
    [late] = at(team, ist("2025-10-20 12:00"), "Backup")
    assert early["summary"] == "SK — Backup on call: Diwali exchange"
    assert late["summary"] == "AM — Backup on call: Diwali exchange"
    [before] = at(team, ist("2025-10-19 12:00"), "Primary")
    assert before["summary"] == "SK — Primary on call (rotation week 8)"
    assert before["end"] == ist("2025-10-20 00:00")
    [after] = at(team, ist("2025-10-21 12:00"), "Primary")
    assert after["summary"] == "AM — Primary on call (rotation week 1)"

    # Holi 2026 (Wed 4 Mar), rotation week 4 (SK Primary, AM Backup): AM⇄SK for the day.
    [holi_p] = at(team, ist("2026-03-04 12:00"), "Primary")
    [holi_b] = at(team, ist("2026-03-04 12:00"), "Backup")
    assert holi_p["summary"] == "AM — Primary on call: Holi exchange"
    assert holi_b["summary"] == "SK — Backup on call: Holi exchange"
    assert (holi_p["start"], holi_p["end"]) == (ist("2026-03-04 00:00"), ist("2026-03-05 00:00"))
    assert "why" in holi_p["description"].casefold() and "Holi" in holi_p["description"]
    sk_week = [e for e in team if e["summary"] == "SK — Primary on call (rotation week 4)"]
    assert ist("2026-03-04 00:00") in {e["end"] for e in sk_week}
    assert ist("2026-03-05 00:00") in {e["start"] for e in sk_week}

    # The person's feed: only theirs, summaries without initials.
    pr = await feed(feeds, "pr")
    assert pr and {e["member"] for e in pr} == {"PR"}
    assert "Primary on call: Diwali exchange" in {e["summary"] for e in pr}
    assert not at(pr, ist("2026-03-04 12:00"), "")
    am = await feed(feeds, "AM")
    [holi] = at(am, ist("2026-03-04 12:00"), "")
    assert holi["summary"] == "Primary on call: Holi exchange"
    assert set(uids(pr)) | set(uids(am)) <= set(uids(team))

    # Stable: the same feed later in the week has the same events.
    clock.set(ist("2025-10-03 18:00"))
    assert uids(await feed(feeds)) == uids(team)


async def test_a_swap_appears_and_cancelling_it_leaves_no_duplicates(
    feeds: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-08-28 10:00"))  # week 2 ahead: PR Primary, CW Backup
    before = await feed(feeds)
    assert len(set(uids(before))) == len(before)

    await swap_cmd(feeds, PR, "@CW 2025-09-03")
    assert uids(await feed(feeds)) == uids(before)  # pending: not in the schedule
    await press(feeds, CW, CW, ids.ACTION_SWAP_APPROVE)

    swapped = await feed(feeds)
    assert len(set(uids(swapped))) == len(swapped)
    [cw] = at(swapped, ist("2025-09-03 12:00"), "Primary")
    [pr] = at(swapped, ist("2025-09-03 12:00"), "Backup")
    assert cw["summary"] == "CW — Primary on call: swap #1 with PR"
    assert pr["summary"] == "PR — Backup on call: swap #1 with CW"
    assert cw["uid"] == "swap-1-primary-CW@oncall-bot"
    assert (cw["start"], cw["end"]) == (ist("2025-09-03 00:00"), ist("2025-09-04 00:00"))
    assert "swap #1: PR and CW exchange roles" in cw["description"]
    assert "approved by CW" in cw["description"]
    assert cw["modified"] == ist("2025-08-28 10:00").astimezone(UTC)
    # PR's rotation week keeps its UID for the part before the swap.
    [pr_week] = at(swapped, ist("2025-09-02 12:00"), "Primary")
    first = next(e for e in before if e["uid"] == pr_week["uid"])
    assert pr_week["end"] == ist("2025-09-03 00:00") and first["end"] == ist("2025-09-08 09:00")
    mine = await feed(feeds, "CW")
    assert "Primary on call: swap #1 with PR" in {e["summary"] for e in mine}

    # Cancelled: the swap's events go, the week is whole again under its old UID.
    await swap_cmd(feeds, PR, "cancel 1")
    cancelled = await feed(feeds)
    assert uids(cancelled) == uids(before)
    assert not [u for u in uids(cancelled) if u.startswith("swap-")]

    # Another swap over other hours: still one event per UID.
    await swap_cmd(feeds, PR, "@CW 2025-09-04 09:00..18:00")
    await press(feeds, CW, CW, ids.ACTION_SWAP_APPROVE)
    again = await feed(feeds)
    counts = Counter(uids(again))
    assert max(counts.values()) == 1
    [cw2] = at(again, ist("2025-09-04 12:00"), "Primary")
    assert cw2["uid"] == "swap-2-primary-CW@oncall-bot"
    assert (cw2["start"], cw2["end"]) == (ist("2025-09-04 09:00"), ist("2025-09-04 18:00"))
    # PR's Primary week is two events now, either side of the swap (the second a new UID).
    week = [
        e
        for e in again
        if e["summary"] == "PR — Primary on call (rotation week 2)"
        and e["start"] < ist("2025-09-08 09:00")
    ]
    assert [(e["start"], e["end"]) for e in week] == [
        (ist("2025-09-01 09:00"), ist("2025-09-04 09:00")),
        (ist("2025-09-04 18:00"), ist("2025-09-08 09:00")),
    ]
    assert week[0]["uid"] == first["uid"]


async def test_pto_appears_in_the_team_feed_and_the_person_feed(
    feeds: Harness, clock: FakeClock
) -> None:
    clock.set(ist("2025-09-10 12:00"))
    assert feeds.deps is not None
    pto = await feeds.deps.swaps.add_pto(
        "SK", Window(start=ist("2025-09-22 00:00"), end=ist("2025-09-24 00:00"))
    )
    team = await feed(feeds)
    [leave] = [e for e in team if e["uid"] == f"pto-{pto.id}@oncall-bot"]
    assert leave["summary"] == "SK — PTO"
    assert (leave["start"], leave["end"]) == (ist("2025-09-22 00:00"), ist("2025-09-24 00:00"))
    assert "Samir Kapoor (SK) is on leave: 2025-09-22..2025-09-23" in leave["description"]
    assert leave["modified"] == ist("2025-09-10 12:00").astimezone(UTC)
    assert "PTO" in {e["summary"] for e in await feed(feeds, "SK")}
    assert "PTO" not in {e["summary"] for e in await feed(feeds, "PR")}
