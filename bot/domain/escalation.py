"""The escalation state machine: pure transitions over an Incident, each returning the
notices to send. Storage makes a transition atomic; delivery turns notices into Slack calls.

An incident walks its severity's rungs (by default primary → backup → incident commander →
lead). **Who** holds a rung is resolved when the rung fires, from the schedule at that
instant (the caller passes the ladder resolved at `now`), never frozen at page time. When
the schedule changes under an unACKed incident (the Monday handover, a holiday exchange, a
swap), `advance` runs at that boundary too: whoever now holds a rung already reached
inherits it ("you inherit INC-7"), and whoever left one is told they are off the hook.

Rung n+1 fires after the delay of its role (backup_after, commander_after, lead_after); an
empty rung (no commander when the secondary owner is already Primary or Backup) is skipped
and the next one comes after the skipped rung's delay. After the last rung, if the severity
repeats, the last rung is paged again every `repeat_every`, and the `repeat_count`-th time
every engineer on the roster is paged; then the incident says plainly that escalation has
run out. A rung whose people cannot be reached is said so in the thread and the next rung
fires at once. An ACK or a resolve stops everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.config.models import FULL_LADDER, EscalationPolicy, RungName
from bot.domain.durations import human_duration
from bot.domain.incident import (
    AUTO,
    RAN_OUT,
    AlreadyEscalated,
    Incident,
    Mode,
    Paged,
    Severity,
    Signal,
    Status,
    TransitionError,
    resolve,
)
from bot.domain.notices import (
    IncidentChecklist,
    Notice,
    PageDM,
    PagePost,
    PageUpdate,
    ThreadReply,
)
from bot.domain.schedule import LadderRole, Rung

DELAY_OF: dict[str, str] = {
    "backup": "backup_after",
    "commander": "commander_after",
    "lead": "lead_after",
}


def _mention_all(rungs: list[Rung]) -> str:
    return " and ".join(f"{{{r.member}}}" for r in rungs)


def _label(inc: Incident, level: int) -> str:
    return LadderRole(inc.rungs[level]).label


def _delay(policy: EscalationPolicy, role: str) -> timedelta:
    delay: timedelta = getattr(policy, DELAY_OF.get(role, "lead_after"))
    return delay


def open_incident(
    *,
    id: str,
    pipeline: str,
    severity: Severity,
    summary: str,
    signal: Signal | None,
    dedupe_key: str,
    mode: Mode,
    ladder: list[Rung],
    now: datetime,
    opened_by: str,
    policy: EscalationPolicy,
    checklist: bool,
    rungs: list[RungName] | None = None,
    repeat: bool = True,
    boundary: datetime | None = None,
    unreachable: Mapping[str, str] | None = None,
    close_at: datetime | None = None,
) -> tuple[Incident, list[Notice]]:
    """Open an incident at `now`, reaching its first rung at once when it pages.

    `boundary` is the next schedule change (the ladder is re-resolved there while unACKed);
    `close_at` when a notification closes by itself (default: notify_autoclose from now)."""
    inc = Incident(
        id=id,
        pipeline=pipeline,
        severity=severity,
        summary=summary,
        signal=signal,
        dedupe_key=dedupe_key,
        mode=mode,
        opened_at=now,
        opened_by=opened_by,
        rungs=list(rungs or FULL_LADDER),
        repeat=repeat,
        ladder=list(ladder),
        stepped_at=now,
    )
    notices: list[Notice] = [PagePost(incident=id)]
    if mode is not Mode.PAGE:
        # Notifications page nobody, so nobody may come to resolve them: they close by
        # themselves, which also frees their dedupe key for the next alert.
        inc.next_at = close_at or now + policy.notify_autoclose
    else:
        inc.check_at = boundary
        notices += _reach(inc, 0, now, "You are paged as {role}.", unreachable or {})
        notices += _schedule_after_reach(inc, now, policy)
    if checklist:
        notices.append(IncidentChecklist(incident=id))
    return inc, notices


def _reach(
    inc: Incident, level: int, now: datetime, why: str, unreachable: Mapping[str, str]
) -> list[Notice]:
    """Page the people of rung `level` not yet reached at that rung; a person who cannot be
    reached is named in the thread instead. Mutates `inc`."""
    inc.level = level
    inc.stepped_at = now
    out: list[Notice] = []
    done = {(p.member, p.level) for p in inc.paged}
    for rung in inc.rungs_at(level):
        if (rung.member, level) in done:
            continue  # nobody is paged twice for the same rung
        inc.paged.append(Paged(member=rung.member, level=level, at=now))
        reason = unreachable.get(rung.member) or inc.unreachable.get(rung.member)
        if reason:
            inc.unreachable[rung.member] = reason
            out.append(
                ThreadReply(
                    incident=inc.id,
                    text=f"Could not reach {rung.role.label} {{{rung.member}}}: {reason}.",
                )
            )
            continue
        out.append(
            PageDM(incident=inc.id, member=rung.member, text=why.format(role=rung.role.label))
        )
    return out


def _schedule_after_reach(inc: Incident, now: datetime, policy: EscalationPolicy) -> list[Notice]:
    """Set when the incident escalates next after reaching its current rung; a sentence for
    the thread when there is no next time, so escalation never stops silently."""
    nxt = inc.next_level(inc.level)
    if inc.all_unreachable(inc.level) and (nxt is not None or inc.repeat):
        inc.next_at = now  # nobody to wait for: the next rung fires at once
        return []
    if nxt is not None:
        # A skipped (empty) rung's delay still counts: the first rung after this one sets it.
        inc.next_at = now + _delay(policy, inc.rungs[inc.level + 1])
        return []
    if inc.repeat and policy.repeat_count:
        inc.next_at = now + policy.repeat_every
        return []
    inc.next_at = None
    inc.exhausted = True
    return [ThreadReply(incident=inc.id, text=RAN_OUT.format(id=inc.id))]


def advance(
    inc: Incident,
    now: datetime,
    policy: EscalationPolicy,
    ladder: list[Rung],
    *,
    boundary: datetime | None = None,
    change: str = "",
    roster: list[str] | None = None,
    unreachable: Mapping[str, str] | None = None,
    forced_by: str | None = None,
    seen: str | None = None,
) -> tuple[Incident, list[Notice]]:
    """What is due at `now`: follow a schedule change, fire the next rung, or both.

    `ladder` is the ladder resolved at `now`; `boundary` the next schedule change; `change`
    says why the schedule is as it is (e.g. "rotation week 6 of 8"); `roster` is everyone
    the final page reaches. With `forced_by` the next rung fires at once (Escalate now),
    unless `seen` (the position the clicker saw) is no longer where the incident stands.
    """
    if inc.status is not Status.TRIGGERED:
        raise TransitionError(f"{inc.id} is {inc.status.value}: nothing to escalate")
    if forced_by is not None and seen is not None and seen != inc.position:
        raise AlreadyEscalated(inc)
    due = inc.due
    if forced_by is None and (due is None or due > now):
        raise TransitionError(f"{inc.id} has no step due")
    if inc.mode is not Mode.PAGE:
        if forced_by is not None:
            raise TransitionError(f"{inc.id} is a notification: it has no ladder to escalate")
        closed, notices = resolve(inc, AUTO, now)
        waited = human_duration(now - inc.opened_at)
        return closed, [
            ThreadReply(incident=inc.id, text=f"Closed automatically after {waited}."),
            *[n for n in notices if isinstance(n, PageUpdate)],
        ]
    new = inc.editable()
    unreachable = unreachable or {}
    notices = _follow(new, inc, ladder, now, change, unreachable)
    new.check_at = boundary
    if forced_by is not None or (new.next_at is not None and new.next_at <= now):
        notices += _escalate(new, now, policy, roster or [], unreachable, forced_by)
    return new, [*notices, PageUpdate(incident=inc.id)]


def _follow(
    inc: Incident,
    old: Incident,
    ladder: list[Rung],
    now: datetime,
    change: str,
    unreachable: Mapping[str, str],
) -> list[Notice]:
    """The schedule changed under the incident: whoever now holds a rung already reached
    inherits it; whoever left one is off the hook. Mutates `inc`, a copy of `old` (which
    stays as it was, so no second copy is made on every rung)."""
    inc.ladder = list(ladder)
    out: list[Notice] = []
    age = human_duration(now - inc.opened_at)
    why = f" ({change})" if change else ""
    reached_before = {p.member for p in old.paged}
    for level in range(inc.level + 1):
        before = {r.member for r in old.rungs_at(level)}
        after = {r.member for r in inc.rungs_at(level)}
        if before == after:
            continue
        label = _label(inc, level)
        gone, came = sorted(before - after), sorted(after - before)
        names = " and ".join(f"{{{m}}}" for m in came) or "nobody"
        out.append(
            ThreadReply(
                incident=inc.id,
                text=f"The schedule changed{why}: {label} is now {names}, and {inc.id} is "
                f"still not ACKed.",
            )
        )
        for member in came:
            if member in reached_before:
                continue  # already paged for this incident: the thread tells them
            out += _reach_one(
                inc,
                level,
                member,
                now,
                f"You inherit {inc.id} as {label}: open {age}, not ACKed{why}.",
                unreachable,
            )
        still = {r.member for lvl in range(inc.level + 1) for r in inc.rungs_at(lvl)}
        for member in gone:
            if member not in still and member in reached_before:
                out.append(
                    PageDM(
                        incident=inc.id,
                        member=member,
                        text=f"You are off the hook for {inc.id}: {names} is {label} now{why}.",
                    )
                )
    return out


def _reach_one(
    inc: Incident,
    level: int,
    member: str,
    now: datetime,
    text: str,
    unreachable: Mapping[str, str],
) -> list[Notice]:
    inc.paged.append(Paged(member=member, level=level, at=now))
    reason = unreachable.get(member)
    if reason:
        inc.unreachable[member] = reason
        return [ThreadReply(incident=inc.id, text=f"Could not reach {{{member}}}: {reason}.")]
    return [PageDM(incident=inc.id, member=member, text=text)]


def _escalate(
    inc: Incident,
    now: datetime,
    policy: EscalationPolicy,
    roster: list[str],
    unreachable: Mapping[str, str],
    forced_by: str | None,
) -> list[Notice]:
    waited = now - (inc.stepped_at or inc.opened_at)
    why = f"Escalated now by {forced_by}" if forced_by else f"No ACK in {human_duration(waited)}"
    out: list[Notice] = []
    # A rung nobody could be reached on passes straight to the next: loop, bounded by rungs.
    for _ in range(len(inc.rungs) + 1):
        nxt = inc.next_level(inc.level)
        if nxt is not None:
            label = _label(inc, nxt)
            reached = _reach(inc, nxt, now, f"You are paged as {{role}}. {why}.", unreachable)
            out.append(
                ThreadReply(
                    incident=inc.id,
                    text=f"{why}: escalated to {label} {_mention_all(inc.rungs_at(nxt))}.",
                )
            )
            out += reached
            out += _schedule_after_reach(inc, now, policy)
        else:
            out += _repeat(inc, now, policy, roster, why, unreachable)
        if not (inc.next_at == now and not inc.exhausted):
            break
        why = "Nobody on the previous rung could be reached"
    return out


def _repeat(
    inc: Incident,
    now: datetime,
    policy: EscalationPolicy,
    roster: list[str],
    why: str,
    unreachable: Mapping[str, str],
) -> list[Notice]:
    last = inc.rungs_at(inc.level)
    if not inc.repeat or not policy.repeat_count or inc.repeats >= policy.repeat_count:
        if inc.exhausted:
            raise TransitionError(f"{inc.id}: escalation has run out")
        inc.exhausted, inc.next_at = True, None
        return [ThreadReply(incident=inc.id, text=f"{why}. {RAN_OUT.format(id=inc.id)}")]
    inc.repeats += 1
    inc.stepped_at = now
    count = f"repeat {inc.repeats} of {policy.repeat_count}"
    known = {**inc.unreachable, **unreachable}
    if inc.repeats < policy.repeat_count:
        inc.next_at = now + policy.repeat_every
        label = _label(inc, inc.level)
        return [
            ThreadReply(
                incident=inc.id,
                text=f"{why}: paging {label} {_mention_all(last)} again ({count}).",
            ),
            *[
                PageDM(
                    incident=inc.id,
                    member=r.member,
                    text=f"Still no ACK: you are paged again ({count}).",
                )
                for r in last
                if r.member not in known
            ],
        ]
    inc.next_at = None
    inc.exhausted = True
    everyone = roster or sorted({r.member for r in inc.ladder})
    return [
        ThreadReply(
            incident=inc.id,
            text=f"{why}: final page ({count}) to every engineer on the roster. "
            + RAN_OUT.format(id=inc.id),
        ),
        *[
            PageDM(incident=inc.id, member=m, text="Final page: still not acknowledged.")
            for m in everyone
            if m not in known
        ],
    ]
