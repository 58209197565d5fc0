"""Messages for the Monday handover: the digest, `/oncall handover`'s preview, the reminder.

Nothing is cut silently: long sections are split into several section blocks under
Slack's 3,000-character limit, and only if a message would pass Slack's 50 blocks does the
largest part end early, with a line saying how many rows are not shown and where they are.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.handover import (
    ActionRow,
    HandoverDigest,
    IncidentRow,
    RcaRow,
    SuppressionRow,
    WeekLine,
)
from bot.domain.suppressions import ALL
from bot.domain.timefmt import day_label, period, plural, stamp
from bot.slack import ids
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    Block,
    Reply,
    actions,
    button,
    chunk_lines,
    context,
    header,
    section,
)

SEVERITY_ICON = {
    "sev1": ":red_circle:",
    "sev2": ":large_orange_circle:",
    "sev3": ":large_yellow_circle:",
    "sev4": ":white_circle:",
}


# ------------------------------------------------------------------------------ formatting


def _esc(text: str) -> str:
    # Summaries, reasons and action items are typed by people or alerts: `<` or `&` there
    # would otherwise be read as Slack markup (a mention, a link).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name(cfg: TeamConfig, initials: str) -> str:
    """A name without a mention: numbers about a person should not ping them."""
    try:
        return cfg.member(initials).name
    except KeyError:
        return initials


def _person(cfg: TeamConfig, initials: str) -> str:
    """A name with a mention, for someone the digest asks to act."""
    try:
        m = cfg.member(initials)
    except KeyError:
        return initials
    return f"{m.name} ({m.mention})" if m.slack_id else m.name


def _pipeline(cfg: TeamConfig, slug: str) -> str:
    if slug == ALL:
        return "every pipeline"
    try:
        return cfg.pipeline(slug).name
    except KeyError:
        return slug  # a pipeline since removed from the configuration


# ------------------------------------------------------------------------------ splitting


class _Part:
    """A titled run of lines, rendered as one or more sections."""

    def __init__(self, title: str, lines: list[str], empty: str, what: str, where: str) -> None:
        # `what`: one of the lines, in the singular ("open incident"); counted with plural().
        self.title, self.lines, self.empty, self.what, self.where = title, lines, empty, what, where
        self.shown = len(lines)

    def texts(self) -> list[str]:
        if not self.lines:
            return [f"{self.title}\n{self.empty}"]
        lines = [self.title, *self.lines[: self.shown]]
        hidden = len(self.lines) - self.shown
        if hidden:
            more = plural(hidden, f"more {self.what}")
            lines.append(f"_…and {more} not shown here: {self.where}._")
        return chunk_lines(lines)


def _fit(parts: list[_Part], budget: int) -> list[Block]:
    """Sections for `parts` in at most `budget` blocks: while over, the part with the most
    sections shows fewer rows (and says so), one section's worth at a time."""
    while True:
        texts = [p.texts() for p in parts]
        if sum(len(t) for t in texts) <= budget:
            return [section(t) for group in texts for t in group]
        largest = max(range(len(parts)), key=lambda i: len(texts[i]))
        part = parts[largest]
        if len(texts[largest]) <= 1 or part.shown == 0:
            raise ValueError("the digest's fixed parts alone exceed Slack's block limit")
        target = len(texts[largest]) - 1
        while part.shown > 0 and len(part.texts()) > target:
            part.shown -= 1


# ------------------------------------------------------------------------------ lines


def _roles(cfg: TeamConfig, d: HandoverDigest) -> str:
    zone = cfg.zone
    lines = []
    if d.outgoing_primary and d.outgoing_backup:
        prev = (d.cycle_week - 2) % d.cycle_length + 1
        lines.append(
            f"*Outgoing* (week {prev} of {d.cycle_length}): Primary "
            f"{_person(cfg, d.outgoing_primary)}, Backup {_person(cfg, d.outgoing_backup)}"
        )
    lines.append(
        f"*Incoming* (week {d.cycle_week} of {d.cycle_length}, "
        f"{period(d.boundary, d.week_end, zone)}): Primary "
        f"{_person(cfg, d.incoming_primary)}, Backup {_person(cfg, d.incoming_backup)}"
    )
    return "\n".join(lines)


def _week_line(cfg: TeamConfig, w: WeekLine) -> str:
    if w.kind == "conflict":
        return f"• :warning: {_esc(w.why)}"
    who = f"Primary {_name(cfg, w.primary or '?')}, Backup {_name(cfg, w.backup or '?')}"
    icon = ":calendar:" if w.kind == "exchange" else ":arrows_counterclockwise:"
    return f"• {icon} {period(w.start, w.end, cfg.zone)}: {who}. Why: {_esc(w.why)}"


def _incident_line(cfg: TeamConfig, r: IncidentRow) -> str:
    icon = SEVERITY_ICON.get(r.severity.value, "")
    head = (
        f"{icon} *{r.id}* {r.severity.value.upper()} {_pipeline(cfg, r.pipeline)}: "
        f"{_esc(r.summary)}"
    )
    ack = (
        f"ACKed by {_name(cfg, r.acked_by)} {human_duration(r.acked_at - r.opened_at)} "
        "after the page"
        if r.acked_by and r.acked_at
        else "*not ACKed*"
    )
    checklist = (
        f"checklist {r.checklist[0]}/{r.checklist[1]} done" if r.checklist else "no checklist"
    )
    return (
        f"{head}\n    open {human_duration(r.age)} (since {stamp(r.opened_at, cfg.zone)})"
        f" · {ack} · {checklist}"
    )


def _suppression_line(cfg: TeamConfig, s: SuppressionRow) -> str:
    zone = cfg.zone
    when = f"until {stamp(s.ends_at, zone)}" if s.active else period(s.starts_at, s.ends_at, zone)
    reason = f": {_esc(s.reason)}" if s.reason else ""
    icon = ":mute:" if s.active else ":clock3:"
    count = f" · {plural(s.suppressed, 'alert')} suppressed so far" if s.active else ""
    return (
        f"{icon} *{s.id}* {_pipeline(cfg, s.pipeline)}, {when}, by "
        f"{_name(cfg, s.created_by)}{reason}{count}"
    )


def _rca_line(cfg: TeamConfig, r: RcaRow) -> str:
    due = day_label(r.due_at.astimezone(cfg.zone).date())
    late = " *(overdue)*" if r.overdue else ""
    return (
        f"• *{r.incident_id}* {r.severity.value.upper()} {_pipeline(cfg, r.pipeline)}: "
        f"{_esc(r.title)} · owner {_person(cfg, r.owner)} · due {due}{late}"
    )


def _action_line(cfg: TeamConfig, a: ActionRow, today: date) -> str:
    late = human_duration(timedelta(days=(today - a.due).days))
    return (
        f"• *{a.incident_id} A{a.item}* {_esc(a.text)} · owner {_person(cfg, a.owner)} · "
        f"due {day_label(a.due)} ({late} overdue)"
    )


def _stats(cfg: TeamConfig, d: HandoverDigest) -> str:
    s = d.stats
    zone = cfg.zone
    title = "This week so far" if d.sent_at < s.end else "Last week"
    by = ", ".join(f"{_pipeline(cfg, k)} {v}" for k, v in s.pages_by_pipeline.items())
    out = ", ".join(f"{_name(cfg, k)} {v}" for k, v in s.outside_hours.items()) or "none"
    if s.tta_p50 is not None and s.tta_max is not None:
        tta = f"p50 {human_duration(s.tta_p50)}, max {human_duration(s.tta_max)}"
    else:
        tta = "no ACKed pages"
    never = f", {s.unacked} never ACKed" if s.unacked else ""
    past = f" ({', '.join(s.past_backup)})" if s.past_backup else ""
    return "\n".join(
        [
            f"*{title}* ({period(s.start, s.end, zone)})",
            f"• Pages: {s.pages} ({by})",
            f"• Pages outside business hours, per person: {out}",
            f"• Time to ACK: {tta} ({s.acked} ACKed{never})",
            f"• Escalated past the Backup: {len(s.past_backup)}{past}",
        ]
    )


# ------------------------------------------------------------------------------ messages


def _body(cfg: TeamConfig, d: HandoverDigest, title: str, fixed: list[Block]) -> list[Block]:
    """Header, `fixed` blocks (notes above the digest), then the digest's parts, leaving
    room for the two blocks that close the message (context and buttons)."""
    zone = cfg.zone
    today = d.sent_at.astimezone(zone).date()
    active = [s for s in d.suppressions if s.active]
    upcoming = [s for s in d.suppressions if not s.active]
    parts = [
        _Part(
            # "This week" would be the outgoing one in a preview, and "This week so far"
            # below is: name the week this part is about.
            "*The incoming week*",
            [_week_line(cfg, w) for w in d.week_lines],
            "No holiday exchanges, swaps or PTO conflicts in the incoming week.",
            "line",
            "`/oncall schedule 1` lists the week",
        ),
        _Part(
            f"*Open incidents ({len(d.incidents)})*",
            [_incident_line(cfg, r) for r in d.incidents],
            "No open incidents. :sunny:",
            "open incident",
            "`/oncall incidents` lists them all",
        ),
        _Part(
            f"*Suppressions: {len(active)} active, {len(upcoming)} upcoming*",
            [_suppression_line(cfg, s) for s in d.suppressions],
            "No active or upcoming suppressions.",
            "suppression",
            "`/oncall suppressions` lists them all",
        ),
        _Part(
            f"*Pending RCAs ({len(d.pending_rcas)})*",
            [_rca_line(cfg, r) for r in d.pending_rcas],
            "No pending RCAs.",
            "RCA",
            "each owner has them in their reminders",
        ),
        _Part(
            f"*Overdue action items ({len(d.overdue_actions)})*",
            [_action_line(cfg, a, today) for a in d.overdue_actions],
            "No overdue action items.",
            "action item",
            "each RCA lists its own",
        ),
    ]
    head = [header(f"{title} · {stamp(d.boundary, zone)}"), *fixed, section(_roles(cfg, d))]
    tail = [section(_stats(cfg, d))]
    budget = MAX_BLOCKS - len(head) - len(tail) - 2
    return [*head, *_fit(parts, budget), *tail]


def _late_note(cfg: TeamConfig, d: HandoverDigest) -> list[Block]:
    if not d.late:
        return []
    return [
        section(
            f":warning: *Sent late.* This digest was due at {stamp(d.boundary, cfg.zone)}; "
            f"it went out at {stamp(d.sent_at, cfg.zone)}, "
            f"{human_duration(d.sent_at - d.boundary)} late, because the bot could not send "
            "it at the handover. The figures are as of now."
        )
    ]


def _summary(cfg: TeamConfig, d: HandoverDigest) -> str:
    """The plain-text fallback (notifications, screen readers): short, never the whole."""
    primary = _name(cfg, d.incoming_primary)
    if d.outgoing_primary:
        primary = f"{_name(cfg, d.outgoing_primary)} → {primary}"
    late = " (sent late)" if d.late else ""
    counts = ", ".join(
        [
            plural(len(d.incidents), "open incident"),
            plural(len(d.suppressions), "suppression"),
            plural(len(d.pending_rcas), "pending RCA"),
            plural(len(d.overdue_actions), "overdue action item"),
        ]
    )
    return (
        f"Handover {stamp(d.boundary, cfg.zone)}{late}: Primary {primary}, Backup "
        f"{_name(cfg, d.incoming_backup)}. {counts}."
    )


def digest_reply(cfg: TeamConfig, digest: HandoverDigest) -> Reply:
    """The digest for the team channel and the DMs, with the "Handover done" button."""
    zone = cfg.zone
    who = " and ".join(_person(cfg, p) for p in digest.confirmers)
    until = stamp(digest.boundary + timedelta(minutes=30), zone).rsplit(", ", 1)[1]
    blocks = _body(cfg, digest, "Handover", _late_note(cfg, digest))
    blocks.append(
        context(
            f"Review open incidents, suppressions and pending RCAs together (30 minutes, "
            f"until {until}); then {who} press *Handover done*."
        )
    )
    value = str(int(digest.boundary.timestamp()))
    blocks.append(
        actions(
            ids.HANDOVER_ACTIONS_BLOCK,
            button("Handover done", ids.ACTION_HANDOVER_DONE, value, style="primary"),
        )
    )
    return Reply(text=_summary(cfg, digest), blocks=blocks, response_type="in_channel")


def preview_reply(cfg: TeamConfig, digest: HandoverDigest) -> Reply:
    """`/oncall handover`: the next digest as it would read now. No button: confirming a
    handover that has not happened would stop the 09:30 reminder."""
    zone = cfg.zone
    people = ", ".join(_name(cfg, p) for p in digest.recipients)
    note = context(
        f":eyes: *Preview.* This digest will be sent at {stamp(digest.boundary, zone)} "
        f"to {cfg.policy.team_channel} and by DM to {people}. Figures as of "
        f"{stamp(digest.sent_at, zone)}; they are brought up to date when it is sent."
    )
    blocks = _body(cfg, digest, "Handover preview", [note, *_late_note(cfg, digest)])
    text = f"Preview (sent at {stamp(digest.boundary, zone)}). {_summary(cfg, digest)}"
    return Reply(text=text, blocks=blocks)
