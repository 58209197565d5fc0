"""The outbox under trouble: a poisoned notice, a lapsed lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.cli import outbox_report
from bot.clock import FakeClock
from bot.devtools.harness import Harness
from bot.domain.notices import PageDM, ThreadReply
from bot.store import keys
from bot.store.outbox import Outbox
from tests.e2e.paging_helpers import IDS, dms, thread


async def test_a_poisoned_notice_never_blocks_the_ones_behind_it(
    harness: Harness, clock: FakeClock
) -> None:
    await harness.command("/page", "growth-agg sev1 late", IDS["AM"])
    await harness.run_jobs()
    assert harness.deps is not None
    outbox = harness.deps.outbox
    # A DM for someone no longer on the roster (team.toml edited while the page was open).
    await outbox.enqueue([PageDM(incident="INC-1", member="ZZ", text="x")], clock.now())
    await outbox.enqueue([ThreadReply(incident="INC-1", text="still delivered")], clock.now())
    await harness.run_jobs()
    assert thread(harness) == ["still delivered"]
    assert await outbox.pending() == 1  # the poisoned one, backing off
    for _ in range(60):
        clock.advance(timedelta(minutes=5))
        await harness.run_jobs()
    assert await outbox.pending() == 0
    assert len(await outbox.dead()) == 1  # parked for an operator, not retried forever
    report = await outbox_report(harness.redis, None, clock.now())
    assert "0 queued; 1 dead letters (1 parked since the start)" in report
    assert '"member":"ZZ"' in report
    # The operator fixes team.toml (here: cannot) and re-queues it: it is tried again.
    report = await outbox_report(harness.redis, "all", clock.now())
    assert report.startswith("re-queued 1")
    assert await outbox.pending() == 1 and await outbox.dead() == []
    # Meanwhile escalation went on as usual.
    assert [who for who, _ in dms(harness)][:2] == ["PR", "CW"]


async def test_a_lease_taken_over_is_not_delivered_twice(
    harness: Harness, clock: FakeClock
) -> None:
    assert harness.deps is not None
    outbox = harness.deps.outbox
    await outbox.enqueue([ThreadReply(incident="INC-9", text="x")], clock.now())
    [mine] = await outbox.claim(clock.now(), 10)
    # Our lease lapses (we stopped renewing: a crash) and another process claims the notice.
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    [theirs] = await outbox.claim(clock.now(), 10)
    assert theirs.id == mine.id
    assert await outbox.renew([mine], clock.now()) == set()
    assert await outbox.renew([theirs], clock.now()) == {theirs.id}


async def test_one_replica_at_a_time_sends_a_persons_page_dms(
    harness: Harness, clock: FakeClock
) -> None:
    """Two replicas must not split one person's pages into two DMs racing for one pace."""
    assert harness.deps is not None
    mine, theirs = harness.deps.outbox, Outbox(harness.redis)
    now = clock.now()
    await mine.enqueue([PageDM(incident="INC-1", member="AM", text="a")], now)
    [first] = await mine.claim(now, 10)
    await mine.enqueue(
        [
            PageDM(incident="INC-2", member="AM", text="b"),
            PageDM(incident="INC-3", member="PR", text="c"),
        ],
        now,
    )
    # The other replica takes PR's DM but leaves AM's for the replica sending AM's now.
    claimed = await theirs.claim(now, 10)
    assert [c.notice.member for c in claimed if isinstance(c.notice, PageDM)] == ["PR"]
    assert theirs.passed_over == 1
    # This replica may still fold it into the DM it is sending.
    [folded] = await mine.claim_fold("dm:AM", now, 10, first.id, timedelta(seconds=1))
    assert isinstance(folded.notice, PageDM) and folded.notice.incident == "INC-2"
    await mine.done(first, now)
    await mine.done(folded, now)
    await mine.release("dm:AM")
    await mine.enqueue([PageDM(incident="INC-4", member="AM", text="d")], now)
    [later] = await theirs.claim(now, 10)  # released: anyone may send AM's next one
    assert isinstance(later.notice, PageDM) and later.notice.incident == "INC-4"
    # An owner that crashed holds nobody back for longer than a lease.
    await theirs.enqueue([PageDM(incident="INC-5", member="AM", text="e")], now)
    assert await mine.claim(now, 10) == [] and mine.passed_over == 1
    assert await harness.redis.pttl(keys.outbox_owner("dm:AM")) <= theirs.LEASE / timedelta(
        milliseconds=1
    )
    await harness.redis.pexpire(keys.outbox_owner("dm:AM"), 1)  # that lease runs out
    await asyncio.sleep(0.01)
    assert [
        c.notice.incident for c in await mine.claim(now, 10) if isinstance(c.notice, PageDM)
    ] == ["INC-5"]
