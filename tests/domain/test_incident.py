"""The escalation state machine, as pure transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config.models import EscalationPolicy
from bot.domain import incident as sm
from bot.domain.schedule import LadderRole, Rung
from tests.conftest import ist

T0 = ist("2025-09-03 12:00")
LADDER = [
    Rung(role=LadderRole.PRIMARY, member="PR", reason=""),
    Rung(role=LadderRole.BACKUP, member="CW", reason=""),
    Rung(role=LadderRole.COMMANDER, member="SK", reason=""),
    Rung(role=LadderRole.LEAD, member="AM", reason=""),
]


def _open(policy: EscalationPolicy, ladder: list[Rung] = LADDER) -> sm.Incident:
    inc, _ = sm.open_incident(
        id="INC-1",
        pipeline="growth-agg",
        severity=sm.Severity.SEV1,
        summary="late",
        signal=None,
        dedupe_key="k",
        mode=sm.Mode.PAGE,
        ladder=ladder,
        now=T0,
        opened_by="AM",
        policy=policy,
        checklist=False,
    )
    return inc


def _walk(policy: EscalationPolicy, ladder: list[Rung] = LADDER) -> list[tuple[float, str]]:
    """(minutes after the page, thread text) of every automatic step until none is due."""
    inc, out = _open(policy, ladder), []
    while inc.next_at is not None:
        now = inc.next_at
        inc, notices = sm.fire_due(inc, now, policy)
        texts = [n.text for n in notices if n.kind == "thread_reply"]
        out.append(((now - T0).total_seconds() / 60, texts[0]))
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
        sm.fire_due(inc, T0 + timedelta(hours=1), policy)


def test_step_not_due_is_refused() -> None:
    policy = EscalationPolicy()
    with pytest.raises(sm.TransitionError, match="no step due"):
        sm.fire_due(_open(policy), T0 + timedelta(minutes=9), policy)
