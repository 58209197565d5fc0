"""The App Home tab: who is on call, your shifts, swaps to answer, open incidents, your RCAs.

Pure: drawn from a HomeData gathered at publish time. Its buttons are the very ones of the
swap request DM and the page DM (same action ids, same values), so a press on Home runs the
same handler; their block ids carry the swap or incident, because a view's block ids must be
unique. Slack takes at most 100 blocks and 3000 characters a section: each list is capped
and says how many it left out, never truncated silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.incident import Incident, Mode, Status
from bot.domain.rca import Rca
from bot.domain.shifts import HORIZON_WEEKS, Shift
from bot.domain.swaps import Swap, Window
from bot.domain.timefmt import day_label, period, plural, stamp
from bot.services.home import HomeData, HomeIncident, OwnedAction
from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    person,
    section,
)
from bot.slack.blocks.page import status_line
from bot.slack.blocks.swaps import IF_YOU_HOLD_THE_OTHER

MAX_BLOCKS = 100
SECTION_CHARS = 3000
# A line longer than this is clipped with "…", so one long note cannot push the rest out.
LINE_CHARS = 1000
# Each shown swap or incident takes two blocks (its text and its buttons); with these caps
# the whole tab stays near 60 blocks.
SHOWN_SWAPS = 8
SHOWN_INCIDENTS = 8
SHOWN_LINES = 15

NOT_ON_ROTATION = (
    "You are not on the on-call rotation (schedules/team.toml), so you have no shifts, "
    "swaps or RCAs here. `/oncall` answers who is on call at any time."
)


def home_view(data: HomeData, cfg: TeamConfig) -> dict[str, Any]:
    blocks = _on_call(data, cfg)
    if data.member is None:
        blocks.append(section(NOT_ON_ROTATION))
    else:
        blocks += _shifts(data, cfg)
        blocks += _swaps(data, cfg)
        blocks += _incidents(data, cfg)
        blocks += _rcas(data, cfg)
    blocks.append(divider())
    blocks.append(
        context(f"Updated {stamp(data.now, cfg.zone)} · `/oncall help` for everything else")
    )
    return {"type": "home", "blocks": _fit(blocks)}


# --- pieces -----------------------------------------------------------------------------------


def _more(hidden: int, hint: str) -> str:
    return f"… and {hidden} more" + (f": {hint}" if hint else "")


def _clip(line: str, most: int = LINE_CHARS) -> str:
    return line if len(line) <= most else line[: most - 1] + "…"


def listing(lines: Sequence[str], hint: str = "", most: int = SHOWN_LINES, title: str = "") -> str:
    """`title`, then as many of `lines` as fit one section (and at most `most`), then how
    many were left out. Room for that last line is kept at each step, so it always fits."""
    out: list[str] = [title] if title else []
    used = len(title) + 1 if title else 0
    shown = 0
    for i, raw in enumerate(lines):
        line = _clip(raw)
        after = len(lines) - i - 1
        reserve = len(_more(after, hint)) + 1 if after else 0
        if shown == most or used + len(line) + reserve > SECTION_CHARS:
            break
        out.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(lines):
        out.append(_more(len(lines) - shown, hint))
    return "\n".join(out)


def _fit(blocks: list[Block]) -> list[Block]:
    """The caps keep the tab well under Slack's limit; should they ever not, say so."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    return [*kept, context(_more(len(blocks) - len(kept), "blocks; `/oncall help`"))]


def _in(delta: timedelta) -> str:
    return f"in {human_duration(delta)}"


def _window(w: Window, cfg: TeamConfig) -> str:
    return period(w.start, w.end, cfg.zone)


def _you(cfg: TeamConfig, initials: str, me: str | None) -> str:
    return person(cfg, initials) + (" — *you*" if initials == me else "")


def _on_call(data: HomeData, cfg: TeamConfig) -> list[Block]:
    blocks: list[Block] = [header("On call now")]
    seg = data.on_call
    if seg is None:
        starts = data.rotation_starts
        blocks.append(
            section(
                f"Nobody yet: the rotation starts {stamp(starts, cfg.zone)} "
                f"({_in(starts - data.now)})."
            )
        )
        return blocks
    blocks.append(
        section(
            f"*Primary:* {_you(cfg, seg.primary, data.member)}\n"
            f"*Backup:* {_you(cfg, seg.backup, data.member)}"
        )
    )
    why = "; ".join(seg.reasons)
    blocks.append(
        context(f"Until {stamp(seg.end, cfg.zone)} ({_in(seg.end - data.now)}) · Why: {why}")
    )
    return blocks


def _shift_lines(shift: Shift, now: datetime, cfg: TeamConfig) -> list[str]:
    zone = cfg.zone
    if shift.ongoing(now):
        window = f"now, until {stamp(shift.end, zone)} (since {stamp(shift.start, zone)})"
    else:
        window = f"{period(shift.start, shift.end, zone)} ({_in(shift.start - now)})"
    lines = [f"• *{shift.role}* {window} — {shift.reason}"]
    for c in shift.conflicts:
        what = "PTO" if c.reason == "PTO" else f"company holiday ({c.reason})"
        lines.append(
            f"    ⚠ {what} {period(c.start, c.end, zone)} with no swap: ask for one with `/swap`"
        )
    return lines


def _shifts(data: HomeData, cfg: TeamConfig) -> list[Block]:
    blocks: list[Block] = [divider(), header(f"Your shifts, next {plural(HORIZON_WEEKS, 'week')}")]
    if not data.shifts:
        return [*blocks, section("You are not on call in these weeks.")]
    # A shift and its conflict lines stay together: the cap counts shifts.
    lines = ["\n".join(_shift_lines(s, data.now, cfg)) for s in data.shifts]
    return [*blocks, section(listing(lines, "`/oncall me`", most=10))]


def _ask(swap: Swap, cfg: TeamConfig, now: datetime) -> str:
    text = (
        f"*Swap #{swap.id}* — {person(cfg, swap.requester)} asks you to take their on-call "
        f"role for {_window(swap.window, cfg)}"
    )
    if swap.back is not None:
        text += f", and to give them yours for {_window(swap.back, cfg)}"
    text += f". {IF_YOU_HOLD_THE_OTHER}"
    if swap.note:
        text += f"\n_Note:_ {swap.note}"
    expires = swap.first_start
    text += f"\nExpires unanswered {stamp(expires, cfg.zone)} ({_in(expires - now)})."
    return _clip(text)


def _waiting_line(swap: Swap, cfg: TeamConfig) -> str:
    back = f", theirs {_window(swap.back, cfg)} in return" if swap.back is not None else ""
    return (
        f"• *Swap #{swap.id}* to {person(cfg, swap.counterpart)}: your role "
        f"{_window(swap.window, cfg)}{back} — asked {stamp(swap.created_at, cfg.zone)}; "
        f"`/swap cancel {swap.id}` withdraws it"
    )


def _swaps(data: HomeData, cfg: TeamConfig) -> list[Block]:
    blocks: list[Block] = [divider(), header("Swap requests for you")]
    if not data.to_answer:
        blocks.append(section("Nothing to answer."))
    for swap in data.to_answer[:SHOWN_SWAPS]:
        blocks.append(section(_ask(swap, cfg, data.now)))
        blocks.append(
            actions(
                f"{ids.BLOCK_SWAP_DECISION}:{swap.id}",
                button("Approve", ids.ACTION_SWAP_APPROVE, str(swap.id), "primary"),
                button("Decline", ids.ACTION_SWAP_DECLINE, str(swap.id), "danger"),
            )
        )
    hidden = len(data.to_answer) - SHOWN_SWAPS
    if hidden > 0:
        blocks.append(context(_more(hidden, "`/swap list`; answered ones make room here")))
    waiting = [_waiting_line(s, cfg) for s in data.waiting]
    title = "*Your requests waiting on others*"
    body = f"{title}\nNothing waiting."
    if waiting:
        body = listing(waiting, "`/swap list`", title=title)
    blocks.append(section(body))
    return blocks


def _pipeline_name(cfg: TeamConfig, slug: str) -> str:
    try:
        return cfg.pipeline(slug).name
    except KeyError:
        return slug  # removed from the configuration since it opened


def _incident_text(row: HomeIncident, cfg: TeamConfig, now: datetime) -> str:
    inc = row.incident
    head = (
        f"*{inc.id}* · {inc.severity.value.upper()} · {_pipeline_name(cfg, inc.pipeline)}: "
        f"{_clip(inc.summary, 300)}"
    )
    if row.paging_you:
        head += " — *paging you*"
    opened = f"Opened {stamp(inc.opened_at, cfg.zone)} ({human_duration(now - inc.opened_at)} ago)"
    return f"{head}\n{status_line(cfg, inc, now)}\n{opened}"


def _ackable(inc: Incident) -> bool:
    # As on the page itself: only a page that walks the ladder waits for an ACK.
    return inc.status is Status.TRIGGERED and inc.mode is Mode.PAGE


def _incidents(data: HomeData, cfg: TeamConfig) -> list[Block]:
    blocks: list[Block] = [divider(), header("Open incidents")]
    if not data.incidents:
        return [*blocks, section("Nothing open. :sunny:")]
    for row in data.incidents[:SHOWN_INCIDENTS]:
        blocks.append(section(_incident_text(row, cfg, data.now)))
        if _ackable(row.incident):
            inc = row.incident
            blocks.append(
                actions(
                    f"{ids.PAGE_ACTIONS_BLOCK}:{inc.id}",
                    button("ACK", ids.ACTION_PAGE_ACK, inc.id, "primary"),
                )
            )
    hidden = max(data.open_count, len(data.incidents)) - min(SHOWN_INCIDENTS, len(data.incidents))
    if hidden > 0:
        blocks.append(context(_more(hidden, "`/oncall incidents`")))
    return blocks


def _rca_line(rca: Rca, cfg: TeamConfig, now: datetime) -> str:
    sev = rca.severity.value.replace("sev", "Sev-")
    late = " — *overdue*" if rca.overdue(now) else ""
    return (
        f"• RCA for *{rca.incident_id}* ({_pipeline_name(cfg, rca.pipeline)}, {sev}: "
        f"{rca.title}) — due {day_label(rca.due_day)}{late}; `/rca write {rca.incident_id}`"
    )


def _action_line(owned: OwnedAction, cfg: TeamConfig, now: datetime) -> str:
    item, iid = owned.item, owned.rca.incident_id
    late = " — *late*" if item.due < now.astimezone(cfg.zone).date() else ""
    return (
        f"• *A{item.id}* of {iid}: {item.text} — due {day_label(item.due)}{late}; "
        f"`/rca done {iid} A{item.id}`"
    )


def _rcas(data: HomeData, cfg: TeamConfig) -> list[Block]:
    blocks: list[Block] = [divider(), header("Your RCAs and action items")]
    if not data.rcas and not data.actions:
        return [*blocks, section("Nothing owed.")]
    if data.rcas:
        lines = [_rca_line(r, cfg, data.now) for r in data.rcas]
        blocks.append(section(listing(lines, "`/rca`", title="*RCAs to write*")))
    if data.actions:
        lines = [_action_line(a, cfg, data.now) for a in data.actions]
        blocks.append(section(listing(lines, "`/rca actions`", title="*Action items*")))
    return blocks
