"""`/oncall runs <pipeline>`: a pipeline's deliveries, day by day, against its deadline."""

from __future__ import annotations

from datetime import datetime

from bot.config.models import Pipeline, TeamConfig
from bot.domain.deadline_watch import DayOutcome, DayRecord
from bot.domain.durations import human_duration
from bot.domain.runs import Deadline, deadline_for, window_bounds
from bot.domain.timefmt import day_label, period, plural, stamp, zone_label
from bot.slack.blocks.common import Block, Reply, context, section

_OUTCOME = {
    DayOutcome.MET: (":white_check_mark:", "met"),
    DayOutcome.LATE: (":warning:", "late"),
    DayOutcome.MISSED: (":x:", "missed"),
    DayOutcome.NO_RUN: (":grey_question:", "no run"),
    DayOutcome.PENDING: (":hourglass_flowing_sand:", "not due yet"),
}
# Slack caps a section's text at 3000 characters; a day's line is well under 200.
DAYS_PER_SECTION = 12


def deadline_text(cfg: TeamConfig, deadline: Deadline, now: datetime) -> str:
    """Today's deadline, in the rotation zone."""
    today = now.astimezone(cfg.zone).date()
    if deadline.max_gap is None:
        return f"due daily; today by {stamp(deadline_for(today, deadline, cfg.zone), cfg.zone)}"
    opens, shuts = window_bounds(today, deadline, cfg.zone)
    return (
        f"a delivery within {human_duration(deadline.max_gap)} of the last; today "
        f"{period(opens, shuts, cfg.zone)}"
    )


def _line(r: DayRecord) -> str:
    icon, label = _OUTCOME[r.outcome]
    runs = ""
    # A missed day's detail already counts its runs.
    if r.outcome is not DayOutcome.MISSED and (r.runs > 1 or r.failed):
        runs = f" · {plural(r.runs, 'run')}"
        runs += f", {r.failed} failed" if r.failed else ""
    if r.outcome is DayOutcome.NO_RUN:  # its detail says just that
        return f"{icon} *{day_label(r.day)}*: {r.detail}"
    return f"{icon} *{day_label(r.day)}*: {label} — {r.detail}{runs}"


def _tally(history: list[DayRecord]) -> str:
    counts = {o: sum(r.outcome is o for r in history) for o in DayOutcome}
    decided = len(history) - counts[DayOutcome.PENDING]
    parts = [f"met {counts[DayOutcome.MET]} of {plural(decided, 'day')}"]
    shown = (DayOutcome.LATE, DayOutcome.MISSED, DayOutcome.NO_RUN)
    parts += [f"{_OUTCOME[o][1]} {counts[o]}" for o in shown if counts[o]]
    return "; ".join(parts)


def history_reply(
    cfg: TeamConfig, pipeline: Pipeline, history: list[DayRecord], now: datetime
) -> Reply:
    assert pipeline.deadline is not None and history
    first, last = history[0].day, history[-1].day
    span = day_label(last) if first == last else f"{day_label(first)} to {day_label(last)}"
    head = (
        f"*{pipeline.name}* deliveries, {span} "
        f"({deadline_text(cfg, pipeline.deadline, now)}): {_tally(history)}."
    )
    lines = [_line(r) for r in history]
    zone = zone_label(cfg.zone, now)
    foot = (
        f"Times are {zone} ({cfg.rotation.zone}). Runs come from `POST /runs`; "
        f"a day with no report shows as no run."
    )
    blocks: list[Block] = [section(head)]
    for i in range(0, len(lines), DAYS_PER_SECTION):
        blocks.append(section("\n".join(lines[i : i + DAYS_PER_SECTION])))
    blocks.append(context(foot))
    return Reply(text="\n".join([head, *lines]), blocks=blocks)
