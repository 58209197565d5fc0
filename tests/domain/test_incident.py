"""The escalation state machine, as pure transitions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.config.models import EscalationPolicy
from bot.domain import escalation as esc
from bot.domain import incident as sm
from bot.domain.notices import Notice, PageDM, ThreadReply
from bot.domain.schedule import LadderRole, Rung
from tests.conftest import ist

T0 = ist("2025-09-03 12:00")
LADDER = [
    Rung(role=LadderRole.PRIMARY, member="PR", reason=""),
    Rung(role=LadderRole.BACKUP, member="CW", reason=""),
    Rung(role=LadderRole.COMMANDER, member="SK", reason=""),
    Rung(role=LadderRole.LEAD, member="AM", reason=""),
]
ROSTER = ["AM", "PR", "CW", "SK"]


def _open(policy: EscalationPolicy, ladder: list[Rung] = LADDER, **overrides: Any) -> sm.Incident:
    """A Sev-1 page on growth-agg opened at T0; `overrides` change any argument."""
    args: dict[str, Any] = {
        "id": "INC-1",
        "pipeline": "growth-agg",
        "severity": sm.Severity.SEV1,
        "summary": "late",
        "signal": None,
        "dedupe_key": "k",
        "mode": sm.Mode.PAGE,
        "ladder": ladder,
        "now": T0,
        "opened_by": "AM",
        "policy": policy,
        "checklist": False,
    }
    inc, _ = esc.open_incident(**{**args, **overrides})
    return inc


def _walk(policy: EscalationPolicy, ladder: list[Rung] = LADDER) -> list[tuple[float, str]]:
    """(minutes after the page, thread text) of every automatic step until none is due."""
    inc, out = _open(policy, ladder), []
    while inc.next_at is not None:
        now = inc.next_at
        inc, notices = esc.advance(inc, now, policy, ladder, roster=ROSTER)
        texts = [n.text for n in notices if isinstance(n, ThreadReply)]
        out.append(((now - T0).total_seconds() / 60, " ".join(texts)))
    return out


def test_default_timeline() -> None:
    steps = _walk(EscalationPolicy())
    assert [m for m, _ in steps] == [10, 25, 40, 55, 70, 85, 100]
    assert steps[0][1] == "No ACK in 10 min: escalated to Backup {CW}."
    assert steps[3][1].endswith("(repeat 1 of 4).")
    assert "final page (repeat 4 of 4)" in steps[-1][1]


def test_repeats_use_repeat_every_not_the_lead_delay() -> None:
    policy = EscalationPolicy(repeat_every=timedelta(minutes=5), repeat_count=3)
    assert [m for m, _ in _walk(policy)] == [10, 25, 40, 45, 50, 55]


def test_no_repeats_still_says_escalation_ran_out() -> None:
    policy = EscalationPolicy(repeat_count=0)
    steps = _walk(policy)
    assert [m for m, _ in steps] == [10, 25, 40]
    assert "Automatic escalation has run out" in steps[-1][1]


def test_single_person_ladder_repeats_then_stops() -> None:
    policy = EscalationPolicy(repeat_count=2)
    steps = _walk(policy, LADDER[:1])
    assert [m for m, _ in steps] == [15, 30]
    assert "final page" in steps[-1][1]


def test_ack_then_nothing_is_due() -> None:
    policy = EscalationPolicy()
    inc, _ = sm.acknowledge(_open(policy), "PR", T0 + timedelta(minutes=9))
    assert inc.next_at is None and inc.status is sm.Status.ACKNOWLEDGED
    with pytest.raises(sm.TransitionError, match="already acknowledged"):
        sm.acknowledge(inc, "CW", T0 + timedelta(minutes=9))
    with pytest.raises(sm.TransitionError, match="acknowledged: nothing to escalate"):
        esc.advance(inc, T0 + timedelta(hours=1), policy, LADDER)


def test_step_not_due_is_refused() -> None:
    policy = EscalationPolicy()
    with pytest.raises(sm.TransitionError, match="no step due"):
        esc.advance(_open(policy), T0 + timedelta(minutes=9), policy, LADDER)


def _dms(notices: list[Notice]) -> list[tuple[str, str]]:
    return [(n.member, n.text) for n in notices if isinstance(n, PageDM)]


def _thread(notices: list[Notice]) -> list[str]:
    return [n.text for n in notices if isinstance(n, ThreadReply)]


def _rungs(*pairs: tuple[LadderRole, str]) -> list[Rung]:
    return [Rung(role=role, member=who, reason="") for role, who in pairs]


P, B, C, L = LadderRole.PRIMARY, LadderRole.BACKUP, LadderRole.COMMANDER, LadderRole.LEAD


def test_a_handover_under_an_open_page_passes_it_on() -> None:
    """Page at Mon 08:55 to week 5's AM; at 09:00 week 6 (PR/SK) takes over."""
    policy = EscalationPolicy()
    before = _rungs((P, "AM"), (B, "CW"), (C, "SK"), (L, "PR"))
    after = _rungs((P, "PR"), (B, "SK"), (C, "CW"), (L, "AM"))
    t0 = ist("2025-09-29 08:55")
    inc = _open(policy, before, id="INC-7", now=t0, boundary=ist("2025-09-29 09:00"))
    assert inc.due == ist("2025-09-29 09:00")  # the boundary comes before the backup rung
    inc, notices = esc.advance(
        inc,
        ist("2025-09-29 09:00"),
        policy,
        after,
        change="rotation week 6 of 8",
        boundary=ist("2025-10-06 09:00"),
    )
    assert _dms(notices) == [
        ("PR", "You inherit INC-7 as Primary: open 5 min, not ACKed (rotation week 6 of 8)."),
        ("AM", "You are off the hook for INC-7: {PR} is Primary now (rotation week 6 of 8)."),
    ]
    assert _thread(notices) == [
        "The schedule changed (rotation week 6 of 8): Primary is now {PR}, and INC-7 is "
        "still not ACKed."
    ]
    assert inc.next_at == ist("2025-09-29 09:05") and inc.level == 0
    inc, notices = esc.advance(inc, ist("2025-09-29 09:05"), policy, after)
    assert _dms(notices) == [("SK", "You are paged as Backup. No ACK in 10 min.")]


def test_nobody_is_paged_twice_for_the_same_rung() -> None:
    policy = EscalationPolicy()
    inc = _open(policy)
    # A boundary with no change to anyone reached: nothing is sent but the redraw.
    inc = inc.model_copy(update={"check_at": T0 + timedelta(minutes=5)})
    inc, notices = esc.advance(inc, T0 + timedelta(minutes=5), policy, LADDER)
    assert _dms(notices) == [] and _thread(notices) == []


def test_when_the_commander_rung_is_empty_both_free_engineers_lead() -> None:
    policy = EscalationPolicy()
    ladder = _rungs((P, "CW"), (B, "SK"), (L, "AM"), (L, "PR"))
    inc = _open(policy, ladder)
    inc, _ = esc.advance(inc, T0 + timedelta(minutes=10), policy, ladder)
    inc, notices = esc.advance(inc, T0 + timedelta(minutes=25), policy, ladder)
    assert sorted(m for m, _ in _dms(notices)) == ["AM", "PR"]
    assert _thread(notices) == ["No ACK in 15 min: escalated to Data Platform Lead {AM} and {PR}."]


def test_the_final_page_reaches_every_engineer() -> None:
    policy = EscalationPolicy(repeat_count=1)
    inc = _open(policy, LADDER[:2])
    inc, _ = esc.advance(inc, T0 + timedelta(minutes=10), policy, LADDER[:2], roster=ROSTER)
    inc, notices = esc.advance(inc, T0 + timedelta(minutes=25), policy, LADDER[:2], roster=ROSTER)
    assert sorted(m for m, _ in _dms(notices)) == sorted(ROSTER)
    assert inc.exhausted and inc.next_at is None


def test_sev3_stops_after_the_backup() -> None:
    policy = EscalationPolicy()
    inc = _open(policy, severity=sm.Severity.SEV3, rungs=["primary", "backup"], repeat=False)
    inc, notices = esc.advance(inc, T0 + timedelta(minutes=10), policy, LADDER)
    assert [m for m, _ in _dms(notices)] == ["CW"]
    assert "Automatic escalation has run out" in " ".join(_thread(notices))
    assert inc.next_at is None


def test_a_member_who_cannot_be_reached_is_named_and_the_next_rung_fires_at_once() -> None:
    policy = EscalationPolicy()
    inc = _open(policy)
    inc, notices = esc.advance(
        inc,
        T0 + timedelta(minutes=10),
        policy,
        LADDER,
        unreachable={"CW": "no Slack ID in schedules/team.toml"},
    )
    assert _thread(notices)[:2] == [
        "No ACK in 10 min: escalated to Backup {CW}.",
        "Could not reach Backup {CW}: no Slack ID in schedules/team.toml.",
    ]
    # ...and the commander is paged in the same step, not 15 min later.
    assert [m for m, _ in _dms(notices)] == ["SK"]
    assert inc.next_at == T0 + timedelta(minutes=25)


def test_a_dm_slack_refused_moves_on_at_once() -> None:
    policy = EscalationPolicy()
    inc = _open(policy)
    inc, notices = sm.mark_unreachable(inc, "PR", "Slack says user_not_found", T0)
    assert _thread(notices) == ["Could not reach {PR}: Slack says user_not_found."]
    assert inc.next_at == T0  # the backup rung is due now
