"""Messages for `/oncall`."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.config.models import Pipeline, TeamConfig
from bot.domain.pto import Conflict
from bot.domain.schedule import LadderRole, Rung, Segment, WeekView
from bot.domain.shifts import Shift
from bot.domain.timefmt import period, plural, stamp, zone_label
from bot.slack.blocks.common import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    Block,
    Reply,
    chunk_lines,
    context,
    fit_blocks,
    header,
    person,
    section,
    sections,
)
from bot.slack.blocks.page import INCIDENTS_PER_PAGE

# `{zone}`: the rotation's zone, named by zone_label, since it is configurable.
HELP = """*`/oncall`* — who is on call
• `/oncall` or `/oncall now` — Primary and Backup right now
• `/oncall now <pipeline>` — the whole escalation ladder for a pipeline, e.g. \
`/oncall now growth-agg`
• `/oncall at <date time> [pipeline]` — e.g. `2025-10-20 08:00`, `2026-03-04`, \
`2025-10-20 03:00 UTC`, `tomorrow 10:00` ({zone} unless a zone is given)
• `/oncall week [date]` — the rotation week containing a date, e.g. `/oncall week 2025-10-20`
• `/oncall schedule [N]` — the next N weeks (default 8, up to 52) with holiday exchanges, \
swaps and PTO, e.g. `/oncall schedule 52`
• `/oncall me` — your shifts in the next 8 weeks: role, window, why, and any PTO or company \
holiday inside one
• `/oncall next [@member]` — the next shift of a member (default you), e.g. `/oncall next @CW`
• `/oncall @member` — a member's shifts in the next 8 weeks, e.g. `/oncall @PR`
• `/oncall <date time> [pipeline]` — short for `/oncall at …`, e.g. `/oncall 2025-10-20 08:00`
• `/oncall help` — this message"""

# One line for each `/oncall <word>` another feature registers (bot/slack/listeners), keyed
# by the word; tests/slack/test_help_complete.py fails when a registered word has none.
EXTRA_HELP = {
    "handover": "• `/oncall handover` — the next Monday handover's digest as it would read now",
    "incidents": "• `/oncall incidents [page N]` — open incidents, most urgent first, "
    f"{INCIDENTS_PER_PAGE} a page, with their status and time to the next step, e.g. "
    "`/oncall incidents page 2`",
    "pto": "• `/oncall pto <window>` — record your leave and see whether you are on call "
    "during it, e.g. `/oncall pto 2025-09-03..2025-09-05`; `/oncall pto` lists yours",
    "runs": "• `/oncall runs <pipeline> [days]` — a pipeline's deliveries against its "
    "deadline, day by day (default 7 days), e.g. `/oncall runs growth-agg 14`",
    "suppress": "• `/oncall suppress <pipeline|all> <duration or until-time> <reason>` — "
    "silence a pipeline's alerts during maintenance, e.g. "
    "`/oncall suppress growth-agg 2h warehouse maintenance`",
    "suppressions": "• `/oncall suppressions` — the active and upcoming suppressions",
    "unsuppress": "• `/oncall unsuppress <id>` — end a suppression early, e.g. "
    "`/oncall unsuppress S-3`",
}


def help_reply(cfg: TeamConfig, extra: list[str] | None = None) -> Reply:
    """The help, with a line for each extra subcommand named in `extra`."""
    lines = [EXTRA_HELP.get(name, f"• `/oncall {name}` …") for name in extra or []]
    text = "\n".join([HELP.replace("{zone}", zone_label(cfg.zone)), *lines])
    return Reply(text=text, blocks=sections(text))


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
    until = stamp(seg.end, zone)
    why = "; ".join(seg.reasons)
    # The instant the answer is for, resolved: `/oncall at …` passes it in `asked`.
    asked = f"now ({stamp(at, zone)})" if asked == "now" else asked
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


def _table(head: str, rows: list[str]) -> list[str]:
    """The table rows as texts that each fit a section; a code fence cannot span sections,
    so each text is fenced on its own and repeats the column heads."""
    room = SECTION_LIMIT - len(head) - len("```\n\n\n```")
    return [f"```\n{head}\n{rows_}\n```" for rows_ in chunk_lines(rows, room)]


def _schedule_blocks(
    title: str, head: str, rows: list[str], notes: list[list[str]], shown: int
) -> list[Block]:
    kept = [note for week in notes[:shown] for note in week]
    annotations = "\n".join(kept) if kept else "No holiday exchanges or swaps in these weeks."
    return [
        header(title),
        *(section(t) for t in _table(head, rows[:shown])),
        *sections(annotations),
    ]


def schedule_reply(cfg: TeamConfig, weeks: list[WeekView], title: str) -> Reply:
    zone = cfg.zone
    day = cfg.rotation.handoff_day.value[:3].title()  # weeks run handoff to handoff
    head = f"{'Week':<5} {f'Dates ({day}→{day})':<25} {'Primary':<8} {'Backup':<8}"
    rows: list[str] = []
    notes: list[list[str]] = []
    for w in weeks:
        dates = f"{w.start.astimezone(zone):%Y-%m-%d} → {w.end.astimezone(zone):%Y-%m-%d}"
        rows.append(f"{w.cycle_week:<5} {dates:<25} {w.primary:<8} {w.backup:<8}")
        notes.append([f"• {note}" for note in w.annotations])
    body = "\n".join(["```", head, *rows, "```"])
    flat = [note for week in notes for note in week]
    annotations = "\n".join(flat) if flat else "No holiday exchanges or swaps in these weeks."
    text = f"{title}\n{body}\n{annotations}"
    # Over Slack's 50 blocks, whole weeks (row and notes together) are left off the end and
    # the answer says which, rather than Slack refusing it or the tail vanishing.
    shown = len(weeks)
    blocks = _schedule_blocks(title, head, rows, notes, shown)
    if len(blocks) > MAX_BLOCKS:
        while shown > 1 and len(blocks) > MAX_BLOCKS - 1:
            shown -= 1
            blocks = _schedule_blocks(title, head, rows, notes, shown)
        first = f"{weeks[shown].start.astimezone(zone):%Y-%m-%d}"
        more = (
            f"… and {plural(len(weeks) - shown, 'more week')}: `/oncall week {first}`, "
            "then each week after it"
        )
        blocks.append(context(more))
        text += f"\n{more}"
    # Only one week's notes could still overflow; fit_blocks then says so.
    last = f"{weeks[-1].start.astimezone(zone):%Y-%m-%d}" if weeks else ""
    return Reply(text=text, blocks=fit_blocks(blocks, f"`/oncall week {last}`"))


def _conflict_line(c: Conflict, zone: tzinfo, you: bool) -> str:
    what = "PTO" if c.reason == "PTO" else f"company holiday ({c.reason})"
    who = "you are" if you else f"{c.member} is"
    return (
        f"    ⚠ {what} {period(c.start, c.end, zone)}: {who} {c.role} with no swap "
        "(ask for one with `/swap`)"
    )


def _shift_lines(cfg: TeamConfig, shift: Shift, now: datetime, you: bool) -> list[str]:
    zone = cfg.zone
    current = "now, until " if shift.ongoing(now) else ""
    window = (
        f"{current}{stamp(shift.end, zone)} (since {stamp(shift.start, zone)})"
        if current
        else period(shift.start, shift.end, zone)
    )
    lines = [f"• *{shift.role}* {window} — {shift.reason}"]
    lines.extend(_conflict_line(c, zone, you) for c in shift.conflicts)
    return lines


def shifts_reply(
    cfg: TeamConfig, member: str, shifts: list[Shift], now: datetime, you: bool, weeks: int
) -> Reply:
    """`/oncall me`, `/oncall @member`: every shift in the coming weeks, why, and conflicts."""
    m = cfg.member(member)
    next_weeks = f"next {plural(weeks, 'week')}"
    title = f"Your shifts, {next_weeks}" if you else f"Shifts of {m.name}, {next_weeks}"
    if not shifts:
        body = f"{'You are' if you else person(cfg, member) + ' is'} not on call in these weeks."
    else:
        body = "\n".join(line for s in shifts for line in _shift_lines(cfg, s, now, you))
    count = sum(len(s.conflicts) for s in shifts)
    footer = (
        f"⚠ {plural(count, 'conflict')} with PTO or a company holiday"
        if count
        else "No PTO or company holiday inside these shifts."
    )
    head = f"Your shifts, {next_weeks}" if you else f"Shifts of {person(cfg, member)}, {next_weeks}"
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
        text = f"{who} {'are' if you else 'is'} not on call in the next {plural(weeks, 'week')}."
        return Reply(text=text, blocks=[section(text)])
    title = "Your next shift" if you else f"Next shift of {m.name}"
    body = "\n".join(_shift_lines(cfg, shift, now, you))
    head = "Your next shift" if you else f"Next shift of {person(cfg, member)}"
    text = f"{head}:\n{body}"
    return Reply(text=text, blocks=[header(title), section(body)])
