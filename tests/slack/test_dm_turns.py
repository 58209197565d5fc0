"""Placing a person's page DMs on the pace's turns (bot/slack/dm_turns.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack.dm_turns import FORGET_AFTER, DmTurns

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def turns() -> DmTurns:
    return DmTurns(every=S, per=3)


def test_nothing_known_means_ask_the_pace() -> None:
    t = turns()
    assert t.place("PR", ["a"], T0) is None
    assert not t.due("PR", ["a"], T0)


def test_after_a_refusal_new_batches_fill_that_turn_then_the_next() -> None:
    t = turns()
    t.paced("PR", T0 + 5 * S, ["a"], [])
    assert t.place("PR", ["b"], T0) == T0 + 5 * S
    assert t.place("PR", ["c"], T0) == T0 + 5 * S
    # That post is full (3): the next batch waits one pace interval more.
    assert t.place("PR", ["d", "e"], T0) == T0 + 6 * S
    assert t.place("PR", ["f", "g"], T0) == T0 + 7 * S
    # Another person's channel has its own pace.
    assert t.place("SK", ["x"], T0) is None


def test_gathered_ones_fill_turns_as_the_outbox_spread_them() -> None:
    t = turns()
    # The batch of 2 leaves room for 1 in the first turn; then 3 to each turn (GATHER_FOLD).
    t.paced("PR", T0 + S, ["a", "b"], ["g1", "g2", "g3", "g4", "g5"])
    assert t.due("PR", ["g1"], T0 + S)
    assert not t.due("PR", ["g2"], T0 + S)
    assert t.due("PR", ["g4"], T0 + 2 * S)
    assert t.due("PR", ["g5"], T0 + 3 * S)
    # New batches go after the last gathered turn, which had room for one more.
    assert t.place("PR", ["n"], T0) == T0 + 3 * S
    assert t.place("PR", ["m"], T0) == T0 + 3 * S
    assert t.place("PR", ["o"], T0) == T0 + 4 * S


def test_a_batch_placed_at_a_turn_that_came_is_sent_not_placed_again() -> None:
    t = turns()
    t.paced("PR", T0 + S, ["a"], [])
    t.place("PR", ["b"], T0)
    t.place("PR", ["c", "d"], T0)  # the turn after
    assert t.due("PR", ["a", "b"], T0 + S)
    assert not t.due("PR", ["c"], T0 + S)
    t.sent("PR", ["a", "b"])
    assert t.due("PR", ["c"], T0 + 2 * S)
    # Once every turn has come, nothing is known ahead: the pace decides again.
    t.sent("PR", ["c", "d"])
    assert t.place("PR", ["e"], T0 + 3 * S) is None


def test_a_refusal_again_restarts_the_chain_from_the_pace_and_keeps_later_turns() -> None:
    t = turns()
    t.paced("PR", T0 + S, ["a"], [])
    for nid in "bcdefg":
        t.place("PR", [nid], T0)  # turns at +1 s (a b c), +2 s (d e f), +3 s (g)
    # At +1 s the pace refuses again until +2.5 s; the outbox gathered those due before.
    t.paced("PR", T0 + 2.5 * S, ["a"], ["b", "c", "d", "e", "f"])
    assert t.due("PR", ["c"], T0 + 2.5 * S)
    assert not t.due("PR", ["d"], T0 + 2.5 * S)
    assert t.due("PR", ["d", "e", "f"], T0 + 3.5 * S)
    assert t.due("PR", ["g"], T0 + 3 * S)  # not gathered (due after +2.5 s): kept
    assert t.place("PR", ["h"], T0) == T0 + 4.5 * S  # +3.5 s is full


def test_old_turns_are_forgotten() -> None:
    t = turns()
    t.paced("PR", T0 + S, ["a"], [])
    assert not t.due("PR", ["a"], T0 + S + FORGET_AFTER + S)
    assert t.place("PR", ["b"], T0 + S + FORGET_AFTER + S) is None


def test_unpaced_never_places() -> None:
    t = DmTurns(every=timedelta(0), per=3)
    t.paced("PR", T0 + S, ["a"], [])
    assert t.place("PR", ["b"], T0) is None
