"""Messages for `/oncall`."""

from __future__ import annotations

from datetime import datetime

from bot.config.models import Pipeline, TeamConfig
from bot.domain.schedule import LadderRole, Rung, Segment, WeekView
from bot.slack.blocks.common import Reply, context, header, person, section, when

HELP = """*`/oncall`* — who is on call
• `/oncall` or `/oncall now` — Primary and Backup right now
• `/oncall now <pipeline>` — the whole escalation ladder for a pipeline
• `/oncall at <date time> [pipeline]` — e.g. `2025-10-20 08:00`, `2026-03-04`, \
`2025-10-20 03:00 UTC`, `tomorrow 10:00` (IST unless a zone is given)
• `/oncall week [date]` — the rotation week containing a date
• `/oncall schedule [N]` — the next N weeks (default 8) with holiday exchanges and swaps
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
