"""The pure tick-merge rules: a click contributes only what that user changed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.runbooks import load_runbooks
from bot.domain.checklist import (
    Change,
    ChecklistRun,
    Tick,
    apply_change,
    chunk_steps,
    selection_change,
)
from tests.synthetic import long_runbook

IST = ZoneInfo("Asia/Kolkata")
T0 = datetime(2025, 9, 3, 12, 0, tzinfo=IST)
T1 = datetime(2025, 9, 3, 12, 5, tzinfo=IST)
GROWTH = load_runbooks(Path(__file__).parents[2] / "runbooks")["growth-agg"]
ALL = range(1, 9)


def _run(**ticks: Tick) -> ChecklistRun:
    return ChecklistRun(
        id="cl1",
        runbook=GROWTH,
        channel="C1",
        thread_ts="1.0",
        opened_at=T0,
        ticks={int(k.removeprefix("s")): v for k, v in ticks.items()},
    )


def test_ticking_one_step_is_the_only_change() -> None:
    assert selection_change(shown=[], selected=[3], offered=ALL) == Change(tick=frozenset({3}))


def test_unticking_is_what_was_shown_but_not_selected() -> None:
    change = selection_change(shown=[1, 3], selected=[1], offered=ALL)
    assert change == Change(untick=frozenset({3}))


def test_steps_outside_the_clicked_group_are_ignored() -> None:
    change = selection_change(shown=[], selected=[2, 11, 42], offered=range(1, 11))
    assert change.tick == {2}


def test_tick_records_who_and_when() -> None:
    run = apply_change(_run(), Change(tick=frozenset({1})), "U0CHENWU03", T1)
    assert run.ticks == {1: Tick(by="U0CHENWU03", at=T1)}
    assert run.progress == (1, 8)


def test_two_stale_clicks_from_the_same_old_message_both_count() -> None:
    run = _run()
    # Both users saw nothing ticked; each ticked a different step.
    first = selection_change(shown=[], selected=[1], offered=ALL)
    second = selection_change(shown=[], selected=[2], offered=ALL)
    run = apply_change(run, first, "UA", T0)
    run = apply_change(run, second, "UB", T1)
    assert run.ticks == {1: Tick(by="UA", at=T0), 2: Tick(by="UB", at=T1)}


def test_stale_selection_does_not_untick_what_the_user_never_saw() -> None:
    run = _run(s1=Tick(by="UA", at=T0))
    # UB's message predates UA's tick: it showed nothing, and UB ticked step 3 only.
    run = apply_change(run, selection_change([], [3], ALL), "UB", T1)
    assert set(run.ticks) == {1, 3}


def test_second_tick_of_a_done_step_keeps_the_first_ticker() -> None:
    run = _run(s4=Tick(by="UA", at=T0))
    run = apply_change(run, Change(tick=frozenset({4})), "UB", T1)
    assert run.ticks[4] == Tick(by="UA", at=T0)


def test_anyone_can_untick() -> None:
    run = _run(s4=Tick(by="UA", at=T0))
    run = apply_change(run, Change(untick=frozenset({4})), "UB", T1)
    assert run.ticks == {}
    assert run.progress == (0, 8)


def test_steps_the_runbook_does_not_have_are_ignored() -> None:
    run = apply_change(_run(), Change(tick=frozenset({9, 0})), "UA", T0)
    assert run.ticks == {}


def test_every_click_bumps_the_revision() -> None:
    run = _run()
    run = apply_change(run, Change(), "UA", T0)
    run = apply_change(run, Change(tick=frozenset({1})), "UA", T0)
    assert run.revision == 2


def test_the_run_survives_a_json_round_trip() -> None:
    run = apply_change(_run(), Change(tick=frozenset({2, 5})), "UA", T1)
    assert ChecklistRun.model_validate_json(run.model_dump_json()) == run


@pytest.mark.parametrize(
    ("steps", "sizes"), [(8, [8]), (10, [10]), (11, [10, 1]), (25, [10, 10, 5])]
)
def test_chunks_hold_at_most_ten_steps(steps: int, sizes: list[int]) -> None:
    chunks = chunk_steps(long_runbook(steps).steps)
    assert [len(c) for c in chunks] == sizes
    assert [s.number for c in chunks for s in c] == list(range(1, steps + 1))
