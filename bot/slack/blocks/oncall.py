"""Messages for `/oncall`."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.config.models import Pipeline, TeamConfig
from bot.domain.pto import Conflict
from bot.domain.schedule import LadderRole, Rung, Segment, WeekView
from bot.domain.shifts import Shift
from bot.domain.timefmt import stamp
from bot.slack.blocks.common import Reply, context, header, person, section, when

HELP = """*`/oncall`* — who is on call
• `/oncall` or `/oncall now` — Primary and Backup right now
• `/oncall now <pipeline>` — the whole escalation ladder for a pipeline
• `/oncall at <date time> [pipeline]` — e.g. `2025-10-20 08:00`, `2026-03-04`, \
`2025-10-20 03:00 UTC`, `tomorrow 10:00` (IST unless a zone is given)
• `/oncall week [date]` — the rotation week containing a date
• `/oncall schedule [N]` — the next N weeks (default 8) with holiday exchanges and swaps
• `/oncall me` — your shifts in the next 8 weeks: role, window, why, and any PTO or company \
holiday inside one
• `/oncall next [@member]` — the next shift of a member (default you), e.g. `/oncall next @CW`
• `/oncall @member` — a member's shifts in the next 8 weeks, e.g. `/oncall @PR`
• `/oncall <date time> [pipeline]` — short for `/oncall at …`, e.g. `/oncall 2025-10-20 08:00`
• `/oncall help` — this message"""


def help_reply(extra: list[str] | None = None) -> Reply:
    text = HELP + ("\n" + "\n".join(extra) if extra else "")
    return Reply(text=text, blocks=[section(text)])


def _ladder_lines(cfg: TeamConfig, pipeline: Pipeline, rungs: list[Rung]) -> list[str]:
    """One numbered line per rung as it fires; several people on one rung share it."""
    order = [LadderRole.PRIMARY, LadderRole.BACKUP, LadderRole.COMMANDER, LadderRole.LEAD]
    lines: list[str] = []
    for role in order:
        on = [r for r in rungs if r.role is role]
        if not on:
            if role is LadderRole.COMMANDER:
                lines.append(
                    f"{len(lines) + 1}. *{role.label}:* none — the secondary owner "
                    f"{pipeline.secondary} is already Primary or Backup, so the Lead comes "
                    "next and pages everyone free"
                )
            continue
        people = " and ".join(person(cfg, r.member) for r in on)
        lines.append(f"{len(lines) + 1}. *{role.label}:* {people} — {on[0].reason}")
    final = ", ".join(m.initials for m in cfg.members)
    lines.append(f"Final page, if nobody ACKs: every engineer ({final}).")
    return lines


def shift_reply(
    cfg: TeamConfig,
    seg: Segment,
    at: datetime,
    asked: str,
    pipeline: Pipeline | None = None,
    rungs: list[Rung] | None = None,
) -> Reply:
    zone = cfg.zone
    until = when(seg.end, zone)
    why = "; ".join(seg.reasons)
    head = f"On call {asked}" + (f" for {pipeline.name}" if pipeline else "")
    lines = [
        f"*Primary:* {person(cfg, seg.primary)}",
        f"*Backup:* {person(cfg, seg.backup)}",
    ]
    if pipeline and rungs:
        lines = _ladder_lines(cfg, pipeline, rungs)
    text = (
        f"{head}: Primary {person(cfg, seg.primary)}, Backup {person(cfg, seg.backup)}, "
        f"until {until}. Why: {why}."
    )
    blocks = [
        header(head),
        section("\n".join(lines)),
        context(f"Until {until} · Why: {why}"),
    ]
    if pipeline and rungs:
        blocks.insert(
            2,
            context(
                f"{pipeline.type.value.capitalize()} pipeline · owners "
                f"{pipeline.primary} (primary), {pipeline.secondary} (secondary) · "
                f"channel {pipeline.channel}"
            ),
        )
    return Reply(text=text, blocks=blocks)


def schedule_reply(cfg: TeamConfig, weeks: list[WeekView], title: str) -> Reply:
    zone = cfg.zone
    rows = ["```", f"{'Week':<5} {'Dates (Mon→Mon)':<25} {'Primary':<8} {'Backup':<8}"]
    notes: list[str] = []
    for w in weeks:
        dates = f"{w.start.astimezone(zone):%Y-%m-%d} → {w.end.astimezone(zone):%Y-%m-%d}"
        rows.append(f"{w.cycle_week:<5} {dates:<25} {w.primary:<8} {w.backup:<8}")
        notes.extend(f"• {note}" for note in w.annotations)
    rows.append("```")
    body = "\n".join(rows)
    annotations = "\n".join(notes) if notes else "No holiday exchanges or swaps in these weeks."
    text = f"{title}\n{body}\n{annotations}"
    return Reply(
        text=text,
        blocks=[header(title), section(body), section(annotations)],
    )


def _window(start: datetime, end: datetime, zone: tzinfo) -> str:
    return f"{stamp(start, zone)} → {stamp(end, zone)}"


def _conflict_line(c: Conflict, zone: tzinfo, you: bool) -> str:
    what = "PTO" if c.reason == "PTO" else f"company holiday ({c.reason})"
    who = "you are" if you else f"{c.member} is"
    return (
        f"    ⚠ {what} {_window(c.start, c.end, zone)}: {who} {c.role} with no swap "
        "(ask for one with `/swap`)"
    )


def _shift_lines(cfg: TeamConfig, shift: Shift, now: datetime, you: bool) -> list[str]:
    zone = cfg.zone
    current = "now, until " if shift.ongoing(now) else ""
    window = (
        f"{current}{stamp(shift.end, zone)} (since {stamp(shift.start, zone)})"
        if current
        else _window(shift.start, shift.end, zone)
    )
    lines = [f"• *{shift.role}* {window} — {shift.reason}"]
    lines.extend(_conflict_line(c, zone, you) for c in shift.conflicts)
    return lines


def shifts_reply(
    cfg: TeamConfig, member: str, shifts: list[Shift], now: datetime, you: bool, weeks: int
) -> Reply:
    """`/oncall me`, `/oncall @member`: every shift in the coming weeks, why, and conflicts."""
    m = cfg.member(member)
    title = f"Your shifts, next {weeks} weeks" if you else f"Shifts of {m.name}, next {weeks} weeks"
    if not shifts:
        body = f"{'You are' if you else person(cfg, member) + ' is'} not on call in these weeks."
    else:
        body = "\n".join(line for s in shifts for line in _shift_lines(cfg, s, now, you))
    count = sum(len(s.conflicts) for s in shifts)
    footer = (
        f"⚠ {count} conflict{'s' if count != 1 else ''} with PTO or a company holiday"
        if count
        else "No PTO or company holiday inside these shifts."
    )
    head = (
        f"Your shifts, next {weeks} weeks"
        if you
        else f"Shifts of {person(cfg, member)}, next {weeks} weeks"
    )
    text = f"{head}:\n{body}\n{footer}"
    return Reply(
        text=text,
        blocks=[header(title), section(body), context(f"{person(cfg, member)} · {footer}")],
    )


def next_reply(
    cfg: TeamConfig, member: str, shift: Shift | None, now: datetime, you: bool, weeks: int
) -> Reply:
    """`/oncall next [@member]`: the shift under way or the next one."""
    m = cfg.member(member)
    who = "You" if you else m.name
    if shift is None:
        text = f"{who} {'are' if you else 'is'} not on call in the next {weeks} weeks."
        return Reply(text=text, blocks=[section(text)])
    title = "Your next shift" if you else f"Next shift of {m.name}"
    body = "\n".join(_shift_lines(cfg, shift, now, you))
    head = "Your next shift" if you else f"Next shift of {person(cfg, member)}"
    text = f"{head}:\n{body}"
    return Reply(text=text, blocks=[header(title), section(body)])
