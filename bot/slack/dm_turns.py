"""Each person's page DMs waiting for the pace of their DM channel, as this replica placed them.

A DM channel takes one post a pace interval, and one post carries up to a DM's worth of pages
(FOLD_LIMIT). Asking the pace for every batch that arrives while the channel waits reserves
a turn per batch, though the batches fold into far fewer posts: in a storm the reservations
ran minutes ahead and every turn claimed the whole backlog again (issue #14). So once the
pace says "wait until T", this replica places the person's later batches itself: into T's
post while it has room, then into the turns after it, one pace interval apart, without
another round trip to the pace. The pace stays the authority: a placed batch still takes a
token when its turn comes, and a refusal starts the chain again from the pace's answer.

Only this replica's placements are known here; a batch queued by another replica is placed
at the end of the chain like a new one. Nothing here is needed for correctness: a lost
entry means one more question to the pace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# A turn this far past is forgotten: its batch was sent, or taken over by another replica.
FORGET_AFTER = timedelta(seconds=30)


@dataclass
class Turn:
    at: datetime
    ids: set[str] = field(default_factory=set)


class DmTurns:
    def __init__(self, every: timedelta, per: int) -> None:
        self.every = every  # one post per DM channel this often
        self.per = per  # page DMs one post carries
        self._chains: dict[str, list[Turn]] = {}

    def due(self, member: str, ids: Iterable[str], now: datetime) -> bool:
        """True when these are (among) a batch placed at a turn that has come: send now."""
        wanted = set(ids)
        return any(t.at <= now and t.ids & wanted for t in self._chain(member, now))

    def place(self, member: str, ids: Sequence[str], now: datetime) -> datetime | None:
        """The turn a new batch goes at while the person's channel waits for the pace (the
        last turn with room, or one after it); None when no turn ahead is known."""
        chain = self._chain(member, now)
        if not chain or chain[-1].at <= now or not self.every:
            return None
        last = chain[-1]
        if len(last.ids) + len(ids) > self.per:
            last = Turn(last.at + self.every)
            chain.append(last)
        last.ids.update(ids)
        return last.at

    def paced(self, member: str, at: datetime, ids: Sequence[str], gathered: Sequence[str]) -> None:
        """The pace refused a post until `at`: `ids` (the batch) go then, and `gathered`
        (oldest first, as Outbox.gather_fold spread them) fill that turn and the ones after
        it. Batches placed after `at` and not gathered keep their turns."""
        turns: dict[datetime, set[str]] = {at: set(ids)}
        room = max(0, self.per - len(ids))
        for i, nid in enumerate(gathered):
            n = 0 if i < room else (i - room) // self.per + 1
            turns.setdefault(at + n * self.every, set()).add(nid)
        moved = {*ids, *gathered}
        for t in self._chains.get(member, []):
            if t.at > at and t.ids - moved:
                turns.setdefault(t.at, set()).update(t.ids - moved)
        self._chains[member] = [Turn(when, turns[when]) for when in sorted(turns)]

    def sent(self, member: str, ids: Iterable[str]) -> None:
        gone = set(ids)
        chain = self._chains.get(member)
        if not chain:
            return
        for t in chain:
            t.ids -= gone
        # A turn emptied by its send is done; an emptied turn ahead keeps its place in line.
        while chain and not chain[0].ids and len(chain) > 1:
            chain.pop(0)

    def _chain(self, member: str, now: datetime) -> list[Turn]:
        chain = self._chains.get(member, [])
        while chain and chain[0].at < now - FORGET_AFTER:
            chain.pop(0)
        if not chain:
            self._chains.pop(member, None)
        return chain
