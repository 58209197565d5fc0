"""Every Redis key the bot uses, in one place (as arq keeps its prefixes).

All keys share PREFIX so one Redis can be shared with other apps and inspected with SCAN.
"""

from __future__ import annotations

PREFIX = "oncall:"

# Incidents and escalation timers.
INCIDENT_SEQ = PREFIX + "incident:seq"  # INCR → the next incident number
INCIDENTS_OPEN = PREFIX + "incidents:open"  # set of open incident ids
ESCALATION_DUE = PREFIX + "escalation:due"  # zset: incident id → next step (epoch seconds)
OUTBOX = PREFIX + "outbox"  # zset: notice JSON → when to (re)try delivering it
OUTBOX_ATTEMPTS = PREFIX + "outbox:attempts"  # hash: notice JSON → failed deliveries so far
OUTBOX_DEAD = PREFIX + "outbox:dead"  # zset: notices given up on (→ when), for an operator
ALERTS_RECORDED = PREFIX + "alerts:recorded"  # capped list of alerts that paged nobody


def incident(incident_id: str) -> str:
    """Hash: data (model JSON), version, msg_channel, msg_ts, count, last_value, checklist."""
    return f"{PREFIX}incident:{incident_id}"


def dedupe(key: str) -> str:
    """String: the open incident that alerts with this dedupe key join."""
    return f"{PREFIX}dedupe:{key}"


def ack_window(incident_id: str) -> str:
    """String with a TTL: present while the person paged last may still ACK before the next
    step; its PTTL is the countdown the page message shows."""
    return f"{PREFIX}ackwin:{incident_id}"


def checklist(run_id: str) -> str:
    """One checklist run (JSON), see bot/store/checklists.py."""
    return f"{PREFIX}checklist:{run_id}"


# INCR counter that hands out checklist run ids, unique across bot processes.
CHECKLIST_SEQ = f"{PREFIX}checklist-seq"

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
