"""Every Redis key the bot uses, in one place (as arq keeps its prefixes).

All keys share PREFIX so one Redis can be shared with other apps and inspected with SCAN.
"""

from __future__ import annotations

PREFIX = "oncall:"

# Swaps (issue #5): one hash per swap, an id counter, indexes scored by epoch seconds.
SWAP_NEXT_ID = PREFIX + "swap:next-id"
SWAPS_PENDING = PREFIX + "swaps:pending"  # zset: id → start of its first window
SWAPS_APPROVED = PREFIX + "swaps:approved"  # zset: id → end of its last window
SWAPS_ALL = PREFIX + "swaps:all"  # zset: id → created at (for export)
SWAPS_AUDIT = PREFIX + "swaps:audit"  # stream: append-only log of every transition
PTO_NEXT_ID = PREFIX + "pto:next-id"
PTO = PREFIX + "pto"  # zset: PTO JSON → its end


def swap(swap_id: int) -> str:
    return f"{PREFIX}swap:{swap_id}"


def swap_reminder(member: str, start_epoch: int, reason: str, lead: str) -> str:
    """Claimed with SET NX so each reminder goes out once across replicas."""
    return f"{PREFIX}swaps:reminded:{member}:{start_epoch}:{reason}:{lead}"


SWAPS_PRUNED = PREFIX + "swaps:pruned"  # held for an hour by whichever replica pruned last
