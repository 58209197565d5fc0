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
