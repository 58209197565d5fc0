"""`/oncall me`, `/oncall next [@member]`, `/oncall @member`, `/oncall <date>` through the
real app: signed HTTP requests, fake Slack Web API. The clock starts Wed 2025-09-03 12:00
IST, in rotation week 2 (PR Primary, CW Backup)."""

from __future__ import annotations

from typing import Any

from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.slack import ids
from tests.conftest import ist
from tests.e2e.paging_helpers import IDS
from tests.e2e.swap_helpers import press, swap_cmd

NOT_ON_ROSTER = "U0NOTONROSTER"


async def ask(harness: Harness, text: str, who: str = "PR") -> dict[str, Any]:
    resp = await harness.command("/oncall", text, IDS.get(who, who))
    assert resp.status == 200
    body: dict[str, Any] = resp.json
    assert body["response_type"] == "ephemeral"
    return body


async def test_me_lists_each_shift_with_role_window_and_why(harness: Harness) -> None:
    body = await ask(harness, "me")
    text = body["text"]
    assert text.startswith("Your shifts, next 8 weeks:")
    assert (
        "• *Primary* now, until Mon 8 Sep 2025, 09:00 IST (since Mon 1 Sep 2025, 09:00 IST)"
        " — rotation week 2"
    ) in text
    assert (
        "• *Primary* Mon 29 Sep 2025, 09:00 → Mon 6 Oct 2025, 09:00 IST — rotation week 6"
    ) in text
    assert (
        "• *Backup* Mon 13 Oct 2025, 09:00 → Sun 19 Oct 2025, 24:00 IST — rotation week 8"
    ) in text
    # Diwali's exchange spans the week-8/week-9 handoff: one shift.
    assert ("• *Primary* Mon 20 Oct 2025, 00:00–24:00 IST — Diwali exchange") in text
    # A company holiday inside a shift is a conflict to arrange a swap for.
    assert "⚠ company holiday (Dussehra" in text
    assert "Thu 2 Oct 2025, 00:00–24:00 IST: you are Primary" in text
    assert body["blocks"][0]["text"]["text"] == "Your shifts, next 8 weeks"
    assert "rotation week 6" in body["blocks"][1]["text"]["text"]


async def test_me_shows_swaps_and_pto_conflicts(harness: Harness, clock: FakeClock) -> None:
    clock.set(ist("2025-08-28 10:00"))
    await swap_cmd(harness, IDS["PR"], "@CW 2025-09-03")
    await press(harness, IDS["CW"], IDS["CW"], ids.ACTION_SWAP_APPROVE)
    await ask(harness, "pto 2025-09-04..2025-09-05")

    text = (await ask(harness, "me"))["text"]
    assert "• *Backup* now, until Mon 1 Sep 2025, 09:00 IST" in text
    assert "Mon 1 Sep 2025, 09:00 → Tue 2 Sep 2025, 24:00 IST — rotation week 2" in text
    assert "• *Backup* Wed 3 Sep 2025, 00:00–24:00 IST — swap #1 with CW" in (text)
    assert (
        "⚠ PTO Thu 4 Sep 2025, 00:00 → Fri 5 Sep 2025, 24:00 IST: you are Primary with no swap"
    ) in text

    cw = (await ask(harness, "@CW", "AM"))["text"]
    assert cw.startswith("Shifts of Chen Wu (<@U0CHENWU03>), next 8 weeks:")
    assert "• *Primary* Wed 3 Sep 2025, 00:00–24:00 IST — swap #1 with PR" in (cw)


async def test_next_is_the_shift_under_way_or_the_next_one(harness: Harness) -> None:
    mine = (await ask(harness, "next"))["text"]
    assert mine.startswith("Your next shift:")
    assert "*Primary* now, until Mon 8 Sep 2025, 09:00 IST" in mine
    assert mine.count("•") == 1

    for form in ("next @SK", "next @sk", "next sk", "next <@U0SKAPOOR4>", "next <@U0SKAPOOR4|sam>"):
        sk = (await ask(harness, form))["text"]
        assert sk.startswith("Next shift of Samir Kapoor (<@U0SKAPOOR4>):"), form
        assert (
            "• *Backup* Mon 8 Sep 2025, 09:00 → Mon 15 Sep 2025, 09:00 IST — rotation week 3"
            in (sk)
        )

    # Asking about yourself by name reads as "you".
    assert (await ask(harness, "next @PR"))["text"].startswith("Your next shift:")


async def test_member_forms_answer_like_me(harness: Harness) -> None:
    mine = (await ask(harness, "me", "PR"))["text"]
    want = mine.replace("Your shifts", "Shifts of Priya Rao (<@U0PRRAO002>)").replace(
        "you are", "PR is"
    )
    for form in ("@PR", "@pr", "<@U0PRRAO002>", "<@U0PRRAO002|priya>"):
        assert (await ask(harness, form, "AM"))["text"] == want, form


async def test_non_roster_user_gets_a_specific_error(harness: Harness) -> None:
    for text in ("me", "next"):
        body = await ask(harness, text, NOT_ON_ROSTER)
        assert body["text"].startswith(":warning: You are not on the on-call roster")
        assert "`/oncall @PR`" in body["text"]
    # Asking about a roster member works for anyone.
    assert (await ask(harness, "@CW", NOT_ON_ROSTER))["text"].startswith("Shifts of Chen Wu")


async def test_unknown_member_lists_the_roster(harness: Harness) -> None:
    roster = "`@AM` (Alex Mehta), `@PR` (Priya Rao), `@CW` (Chen Wu), `@SK` (Samir Kapoor)"
    for text in ("@XY", "<@U0NOTONROSTER>", "next @XY", "next nobody"):
        body = await ask(harness, text)
        assert body["text"].startswith(":warning: Unknown member"), text
        assert roster in body["text"], text


async def test_me_takes_no_argument(harness: Harness) -> None:
    body = await ask(harness, "me @CW")
    assert "`/oncall @PR`" in body["text"] and body["text"].startswith(":warning:")


async def test_a_date_is_short_for_at(harness: Harness) -> None:
    for when in ("2025-10-20 10:00", "2025-10-20", "tomorrow 10:00", "2025-10-20 03:00 UTC"):
        short = await ask(harness, when)
        assert short == await ask(harness, f"at {when}"), when
    assert "Diwali" in (await ask(harness, "2025-10-20 10:00"))["text"]
    ladder = await ask(harness, "2025-09-03 12:00 growth-agg")
    assert "3. *Incident Commander:* Samir Kapoor" in ladder["blocks"][1]["text"]["text"]
    # A date that does not parse says why; a word that is no date is still unknown.
    assert "is not a date" in (await ask(harness, "2025-13-45"))["text"]
    unknown = (await ask(harness, "whoami"))["text"]
    assert "Unknown subcommand `whoami`" in unknown
    assert "now, at, week, schedule, help, me, next" in unknown


async def test_help_lists_the_new_forms(harness: Harness) -> None:
    text = (await ask(harness, "help"))["text"]
    for example in ("`/oncall me`", "`/oncall next @CW`", "`/oncall @PR`", "`/oncall 2025-10-20"):
        assert example in text, example
