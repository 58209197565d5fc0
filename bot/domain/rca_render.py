"""How an RCA reads: timeline lines from the incident's event log, and the whole RCA as
Markdown for `oncall-bot export --rca INC-7` (and for posting). Pure: zones are arguments,
and names come from fixed tables rather than the process locale.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config.models import TeamConfig
from bot.domain.rca import ActionItem, EventKind, IncidentEvent, Rca, RcaStatus
from bot.domain.timefmt import day_label, stamp

# With a person (`who`) and without: "Paged AM" names whom, "Acknowledged by AM" who did.
_WITH_WHO = {
    EventKind.OPENED: "Incident opened by {who}",
    EventKind.ALERT_JOINED: "Alert joined the incident (sent by {who})",
    EventKind.RUNG: "Paged {who}",
    EventKind.UNREACHABLE: "Could not reach {who}",
    EventKind.ACK: "Acknowledged by {who}",
    EventKind.ESCALATE_NOW: "Escalated now by {who}",
    EventKind.RESOLVE: "Resolved by {who}",
    EventKind.STATUS_POST: "Status posted by {who}",
    EventKind.CHECKLIST: "Checklist step ticked by {who}",
    EventKind.NOTE: "Note by {who}",
}
_WITHOUT_WHO = {
    EventKind.OPENED: "Incident opened by an alert",
    EventKind.ALERT_JOINED: "Alert joined the incident",
    EventKind.RUNG: "Paged",
    EventKind.UNREACHABLE: "Could not reach someone",
    EventKind.ACK: "Acknowledged",
    EventKind.ESCALATE_NOW: "Escalated now",
    EventKind.RESOLVE: "Resolved automatically",
    EventKind.STATUS_POST: "Status posted",
    EventKind.CHECKLIST: "Checklist step ticked",
    EventKind.NOTE: "Note",
}


def _one_line(text: str) -> str:
    # A newline inside a list item would end the item and break the Markdown around it.
    return " ".join(text.split())


def timeline_lines(events: list[IncidentEvent], zone: ZoneInfo) -> list[str]:
    """One line per event, in time order: `Fri 17 Oct 2025, 14:05 IST — Acknowledged by AM`,
    then `: detail` when there is one. Events at the same instant keep their log order."""
    out = []
    for ev in sorted(events, key=lambda e: e.at):
        what = _WITH_WHO[ev.kind].format(who=ev.who) if ev.who else _WITHOUT_WHO[ev.kind]
        detail = _one_line(ev.detail)
        out.append(f"{stamp(ev.at, zone)} — {what}" + (f": {detail}" if detail else ""))
    return out


_EMPTY = "_Not written yet._"


def _person(cfg: TeamConfig, initials: str) -> str:
    try:
        return f"{cfg.member(initials).name} ({initials})"
    except KeyError:
        return initials  # someone who has left the roster keeps their initials


def _section(title: str, body: list[str]) -> list[str]:
    return [f"## {title}", "", *(body or [_EMPTY]), ""]


def _prose(text: str) -> list[str]:
    return [text.strip()] if text.strip() else []


def _bullets(items: list[str]) -> list[str]:
    return [f"- {_one_line(i)}" for i in items if i.strip()]


def _action(rca: Rca, item: ActionItem) -> str:
    box = "x" if item.done else " "
    line = f"- [{box}] **A{item.id}** {_one_line(item.text)} — {item.owner}, due {item.due}"
    if item.done_at is not None:
        by = f" by {item.done_by}" if item.done_by else ""
        line += f"; done {stamp(item.done_at, rca.tz)}{by}"
    return line


def rca_markdown(rca: Rca, events: list[IncidentEvent], cfg: TeamConfig) -> str:
    """The RCA as Markdown (`oncall-bot export --rca INC-7`), in the blameless template's
    order. Empty sections say so rather than vanish, so a draft shows what is missing; the
    timeline is the curated one when someone wrote it, else the incident's log."""
    zone = rca.tz
    try:
        pipe = cfg.pipeline(rca.pipeline)
        kind = "investor-facing" if pipe.investor else "experiment-facing"
        pipeline = f"{pipe.name} (`{pipe.slug}`, {kind})"
    except KeyError:
        pipeline = f"`{rca.pipeline}`"
    sev = rca.severity.value.replace("sev", "Sev-")
    due_local = rca.due_at.astimezone(zone)
    if rca.status is RcaStatus.POSTED and rca.posted_at is not None:
        by = f" by {_person(cfg, rca.posted_by)}" if rca.posted_by else ""
        status = f"posted {stamp(rca.posted_at, zone)}{by}"
    else:
        status = rca.status.value
    timeline = rca.timeline or timeline_lines(events, zone)
    lines = [
        f"# RCA {rca.incident_id}: {_one_line(rca.title)}",
        "",
        "> Blameless review: we look for what in our systems, tools and processes let this "
        "happen, not for whom to blame.",
        "",
        f"- **Pipeline:** {pipeline}",
        f"- **Severity:** {sev}",
        f"- **Opened:** {stamp(rca.incident_opened_at, zone)}",
        f"- **Resolved:** {stamp(rca.resolved_at, zone)}",
        f"- **RCA owner:** {_person(cfg, rca.owner)}",
        f"- **Due:** {day_label(due_local.date())}, end of day {due_local.tzname()}",
        f"- **Status:** {status}",
        "",
        *_section("Summary", _prose(rca.summary)),
        *_section("Customer impact", _prose(rca.customer_impact)),
        *_section("Investor impact", _prose(rca.investor_impact)),
        *_section("Timeline", _bullets(timeline)),
        *_section("Contributing factors", _bullets(rca.contributing_factors)),
        *_section("What went well", _bullets(rca.went_well)),
        *_section("Action items", [_action(rca, i) for i in rca.action_items]),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
