"""Every Redis key the bot uses, in one place (as arq keeps its prefixes).

All keys share PREFIX so one Redis can be shared with other apps and inspected with SCAN.
"""

from __future__ import annotations

PREFIX = "oncall:"

# Incidents and escalation timers.
INCIDENT_SEQ = PREFIX + "incident:seq"  # INCR → the next incident number
INCIDENTS_OPEN = PREFIX + "incidents:open"  # set of open incident ids
# zset: open incident id → Incident.urgency, kept by the same scripts as INCIDENTS_OPEN, so
# `/oncall incidents` reads one page of the most urgent without reading them all.
INCIDENTS_URGENCY = PREFIX + "incidents:urgency"
ESCALATION_DUE = PREFIX + "escalation:due"  # zset: incident id → next step (epoch seconds)
ALERTS_RECORDED = PREFIX + "alerts:recorded"  # capped list of alerts that paged nobody


def incident(incident_id: str) -> str:
    """Hash: d0..d<dn-1> and dn (the Incident, packed and chunked, see packing.py; `data`,
    plain JSON, in records written before packing), version, msg_channel, msg_ts, count
    (absent until an alert joins: 1), last_value, checklist; once closed, l0..l<ln-1> and
    ln: its log, folded in from incident_events (incident_scripts.LOG_FN)."""
    return f"{PREFIX}incident:{incident_id}"


def incident_events(incident_id: str) -> str:
    """List of IncidentEvent JSON (packed), oldest first: the log (the RCA timeline) of an
    open incident, appended by the same script that commits each transition. The close
    folds it into the incident's hash and deletes it (incident_scripts.LOG_FN); a log too
    long to fold, or closed before folding existed, stays here and expires with the
    incident. The scripts build it as incident(id) .. ':events'."""
    return f"{incident(incident_id)}:events"


def dedupe(key: str) -> str:
    """String: the open incident that alerts with this dedupe key join."""
    return f"{PREFIX}dedupe:{key}"


def ack_window(incident_id: str) -> str:
    """String with a TTL: present while the person paged last may still ACK before the next
    step; its PTTL is the countdown the page message shows."""
    return f"{PREFIX}ackwin:{incident_id}"


def checklist(run_id: str) -> str:
    """String: one checklist run (packed JSON), see bot/store/checklists.py."""
    return f"{PREFIX}checklist:{run_id}"


def checklist_auto(pipeline: str) -> str:
    """String "incident|until epoch": the incident whose page opened the pipeline's checklist
    by itself lately; until then the pipeline's other incidents offer an Open checklist
    button (see scripts.CLAIM_AUTO_CHECKLIST)."""
    return f"{PREFIX}checklist:auto:{pipeline}"


# INCR counter that hands out checklist run ids, unique across bot processes.
CHECKLIST_SEQ = f"{PREFIX}checklist:seq"

# Swaps (issue #5): one hash per swap, an id counter, indexes scored by epoch seconds.
SWAP_NEXT_ID = PREFIX + "swap:next-id"
SWAPS_PENDING = PREFIX + "swaps:pending"  # zset: id → start of its first window
SWAPS_APPROVED = PREFIX + "swaps:approved"  # zset: id → end of its last window
# INCR'd in the same transaction as every change of SWAPS_APPROVED: a replica keeps the
# approved swaps in memory and re-reads them only when this moved (bot/store/swaps.py).
SWAPS_VERSION = PREFIX + "swaps:version"
SWAPS_ALL = PREFIX + "swaps:all"  # zset: id → created at (for export)
SWAPS_AUDIT = PREFIX + "swaps:audit"  # stream: append-only log of every transition
PTO_NEXT_ID = PREFIX + "pto:next-id"
PTO = PREFIX + "pto"  # zset: PTO JSON → its end


def swap(swap_id: int) -> str:
    return f"{PREFIX}swap:{swap_id}"


def swap_reminder(member: str, start_epoch: int, reason: str, lead: str) -> str:
    """Claimed with SET NX so each reminder goes out once across replicas."""
    return f"{PREFIX}swaps:reminded:{member}:{start_epoch}:{reason}:{lead}"


def holiday_note(member: str, start_epoch: int) -> str:
    """Claimed with SET NX so each critical-holiday note goes out once across replicas."""
    return f"{PREFIX}swaps:holiday-noted:{member}:{start_epoch}"


SWAPS_PRUNED = PREFIX + "swaps:pruned"  # held for an hour by whichever replica pruned last


# Maintenance-window suppressions (issue #10): one hash per suppression that expires by
# itself a day after its end, an index of the live ones by end time, and a short history of
# ended ones (with their final counts) for the Monday handover digest.
SUPPRESSION_SEQ = PREFIX + "suppression:seq"  # INCR → the next suppression number (S-n)
# zset: id → its end (epoch s). Leaving it is the claim that announces the end, once.
SUPPRESSIONS_LIVE = PREFIX + "suppressions:live"
SUPPRESSIONS_HISTORY = PREFIX + "suppressions:history"  # zset: final model JSON → ended at


def suppression(suppression_id: str) -> str:
    """Hash with a TTL a day past its end: data (model JSON), pipeline, starts and ends
    (epoch s), count (alerts suppressed), closed (epoch s, once its end was claimed).
    scripts.COUNT_IF_SUPPRESSED builds it from keys.suppression("") and the id."""
    return f"{PREFIX}suppression:{suppression_id}"


# Root-cause analyses (issue #10): one hash per RCA, named by its incident (an incident has
# at most one RCA), and two indexes. See bot/store/rcas.py.
RCAS_OPEN = PREFIX + "rcas:open"  # zset: incident id → due (epoch s); leaves when posted
# zset: incident id → resolved at (epoch s), open and posted alike: a posted RCA's action
# items are still tracked. An entry whose hash has expired is dropped when next read.
RCAS_ALL = PREFIX + "rcas:all"


def rca(incident_id: str) -> str:
    """Hash: the Rca packed and chunked as an incident's is (d0.., dn), version (bumped by
    every change), reminded (ISO day of the owner's last RCA reminder), action:<n>:reminded
    (ISO day action item An was reminded).
    The reminder fields are the once-across-replicas claim: they are written in the same
    WATCHed transaction that queues the reminder. No TTL while open; once posted it expires
    after the policy's retention (longer when an action item falls due later)."""
    return f"{PREFIX}rca:{incident_id}"


# Investor status updates (issue #10): the latest update of each incident, its history, and
# the promised next updates. See bot/store/status_updates.py.
# zset: incident id → when the promised next update is due (epoch s). Leaving it is the
# claim that sends the owner's reminder, once; a newer update moves or removes the entry.
STATUS_DUE = PREFIX + "status:due"


def status_update(incident_id: str) -> str:
    """Hash: data (the latest update, model JSON), count, reminded (epoch s of the due time
    last reminded). Every write touches it, which is what makes a racing claim's EXEC fail."""
    return f"{PREFIX}status:{incident_id}"


def status_log(incident_id: str) -> str:
    """List: every update of the incident (model JSON), oldest first, capped."""
    return f"{PREFIX}status:log:{incident_id}"


# The Monday handover (issue #10), per rotation boundary, named by its epoch seconds; every
# key expires after two weeks. See bot/store/handover.py.
def handover_armed(boundary_epoch: int) -> str:
    """String: a replica ran before this boundary, so its digest is owed even if every
    replica is down at its time (it is then sent late)."""
    return f"{PREFIX}handover:armed:{boundary_epoch}"


def handover_sent(boundary_epoch: int) -> str:
    """Claimed with SET NX (Outbox.enqueue_once) when the digest and its DMs are queued."""
    return f"{PREFIX}handover:sent:{boundary_epoch}"


def handover_digest(boundary_epoch: int) -> str:
    """String: the digest's JSON as queued; the channel post and every DM draw it."""
    return f"{PREFIX}handover:digest:{boundary_epoch}"


def handover_confirmed(boundary_epoch: int) -> str:
    """Hash: initials → when they pressed Handover done (epoch s); HSETNX keeps the first."""
    return f"{PREFIX}handover:confirmed:{boundary_epoch}"


def handover_reminded(boundary_epoch: int) -> str:
    """Claimed with SET NX when the reminder to confirm is queued (or nobody needed one)."""
    return f"{PREFIX}handover:reminded:{boundary_epoch}"


# Run reports and the delivery-deadline watch (issue #10 item 4). See bot/store/runs.py.
def runs(pipeline: str) -> str:
    """Zset: run id → when the run ended, or started while it runs (epoch s); entries older
    than the 30 days kept are pruned on each write, and the key expires 30 days after the
    pipeline's last report."""
    return f"{PREFIX}runs:{pipeline}"


def run(pipeline: str, run_id: str) -> str:
    """String with a 30-day TTL: the run's latest report (RunReport JSON)."""
    return f"{PREFIX}run:{pipeline}:{run_id}"


def run_claim(pipeline: str, what: str, key: str) -> str:
    """String claimed with SET NX so the watch says each thing once across replicas: `what`
    is notice or alert, `key` the verdict's alert key (deadline-<day>, gap-<start>). An
    alert's claim then holds the incident it opened."""
    return f"{PREFIX}runs:claim:{pipeline}:{what}:{key}"


# The outbox (bot/store/outbox.py), laid out as arq lays out jobs: each queue holds ids, each
# payload lives under its own key with a TTL. Scripts derive per-id keys from OUTBOX_PREFIX.
OUTBOX_PREFIX = PREFIX + "outbox:"
OUTBOX_ATTEMPTS = OUTBOX_PREFIX + "attempts"  # hash: id → failed deliveries so far
OUTBOX_GEN = OUTBOX_PREFIX + "gen"  # hash: coalesced id → generation (bumped per enqueue)
OUTBOX_INFLIGHT = OUTBOX_PREFIX + "inflight"  # hash: id → epoch of a send of unknown outcome
OUTBOX_DEAD = OUTBOX_PREFIX + "dead"  # zset: id → when it was given up on
OUTBOX_DEAD_TOTAL = OUTBOX_PREFIX + "dead:total"  # counter of dead letters ever parked


def outbox_queue(lane: int) -> str:
    """Zset: notice id → when it is due; while claimed, the end of the claim's lease."""
    return f"{OUTBOX_PREFIX}queue:{lane}"


def outbox_notice(notice_id: str) -> str:
    """String with a TTL: the notice's JSON payload."""
    return f"{OUTBOX_PREFIX}notice:{notice_id}"


def outbox_fold(group: str) -> str:
    """Set: ids of queued page DMs for one person, folded into one DM when due together."""
    return f"{OUTBOX_PREFIX}fold:{group}"


def outbox_owner(group: str) -> str:
    """String with a short TTL: the replica token that alone may send this fold group now
    (one person's page DMs); built the same way inside outbox_scripts.CLAIM_NOTICES."""
    return f"{OUTBOX_PREFIX}owner:{group}"


def pace(destination: str) -> str:
    """Hash {t: tokens, a: at ms}: the token bucket of one Slack destination."""
    return f"{PREFIX}pace:{destination}"


def pace_block(destination: str) -> str:
    """String: until when (ms) Slack asked us to wait (Retry-After) for one destination."""
    return f"{PREFIX}pace:block:{destination}"


DM_CHANNELS = PREFIX + "slack:dm-channels"  # hash: Slack user id → DM channel id

# Presence (issue #11): the groups, the topic and the shift notices follow the schedule.
# String: the on-call stretch last queued for syncing ("primary|backup|until epoch"); a
# different value at the next look means Slack is owed a sync (outbox_scripts.ENQUEUE_IF_CHANGED).
PRESENCE_STATE = PREFIX + "presence:state"


def shift_notice(key: str) -> str:
    """String with a TTL: claimed when one shift notice ("PR:Primary:<start>:ahead") is
    queued, so each goes once across replicas."""
    return f"{PREFIX}presence:shift:{key}"


def runbook_copy(digest: str) -> str:
    """String (Runbook JSON) with a TTL: one version of a runbook, by content hash, named by
    the checklist records that use it (bot/store/checklists.py)."""
    return f"{PREFIX}runbook:{digest}"


def join_reply(incident_id: str) -> str:
    """Hash with a TTL: at (the due time, epoch s, of the last thread reply about alerts
    that joined the incident, as queued), id (that reply's notice), held (how many joins it
    tells of). A join within a minute of `at` folds into the next reply instead of posting
    its own. incident_scripts.JOIN_REPLY_FN builds it as incident(id) .. ':joinreply'."""
    return f"{incident(incident_id)}:joinreply"
