"""Messages for pages: the page in the pipeline's channel, DMs, and `/oncall incidents`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.incident import AUTO, Incident, Mode, Status
from bot.domain.schedule import LadderRole, Rung
from bot.domain.timefmt import plural, stamp
from bot.slack import ids
from bot.slack.blocks.common import Block, Reply, actions, button, context, section

_PLACEHOLDER = re.compile(r"\{([A-Z]{2,4})\}")
SEVERITY_ICON = {
    "sev1": ":red_circle:",
    "sev2": ":large_orange_circle:",
    "sev3": ":large_yellow_circle:",
    "sev4": ":white_circle:",
}


def fill(cfg: TeamConfig, text: str) -> str:
    """Turn `{PR}` placeholders from the domain into mentions."""

    def mention(m: re.Match[str]) -> str:
        try:
            return cfg.member(m.group(1)).mention
        except KeyError:
            return m.group(0)

    return _PLACEHOLDER.sub(mention, text)


def severity_note(cfg: TeamConfig, inc: Incident) -> str:
    """What the severity implies, from policy.toml's `[severity]`."""
    rule = cfg.policy.severity[inc.severity.value]
    sev = inc.severity.value.upper()
    if not rule.pages:
        return f"{sev}: a channel notification for the Primary; nobody is paged"
    walk = " → ".join(LadderRole(r).label for r in rule.rungs)
    esc = cfg.policy.escalation
    if rule.repeats and esc.repeat_count:
        every = human_duration(esc.repeat_every)
        return f"{sev}: pages {walk}, then again every {every} ({plural(esc.repeat_count, 'time')})"
    return f"{sev}: pages {walk}, no repeats"


def _mentions(cfg: TeamConfig, rungs: Sequence[Rung]) -> str:
    return " and ".join(cfg.member(r.member).mention for r in rungs)


def page_title(cfg: TeamConfig, inc: Incident) -> str:
    p = cfg.pipeline(inc.pipeline)
    icon = SEVERITY_ICON[inc.severity.value]
    kind = {
        Mode.PAGE: "Page",
        Mode.NOTIFY: "Notification",
        Mode.BEST_EFFORT: "Best-effort notification",
    }[inc.mode]
    return f"{icon} {kind} {inc.id} · {inc.severity.value.upper()} · {p.name}"


def status_line(cfg: TeamConfig, inc: Incident, now: datetime, window_ms: int | None = None) -> str:
    """`window_ms` is the ack window key's PTTL: the timer as Redis holds it."""
    zone = cfg.zone
    if inc.status is Status.RESOLVED and inc.resolved_at and inc.resolved_by:
        if inc.resolved_by == AUTO:
            return f":white_check_mark: Closed automatically at {stamp(inc.resolved_at, zone)}"
        who = cfg.member(inc.resolved_by).mention
        return f":white_check_mark: Resolved by {who} at {stamp(inc.resolved_at, zone)}"
    if inc.status is Status.ACKNOWLEDGED and inc.acked_at and inc.acked_by:
        after = human_duration(inc.acked_at - inc.opened_at)
        return (
            f":eyes: Acknowledged by {cfg.member(inc.acked_by).mention} at "
            f"{stamp(inc.acked_at, zone)}, {after} after the page"
        )
    if inc.mode is Mode.NOTIFY and inc.ladder:
        who = cfg.member(inc.ladder[0].member).mention
        return f"Channel notification for the Primary {who}: nobody is paged."
    if inc.mode is Mode.NOTIFY:
        return "Channel notification (experiment pipeline in business hours): nobody is paged."
    if inc.mode is Mode.BEST_EFFORT:
        return "Best-effort notification (experiment pipeline out of hours): nobody is paged."
    current = inc.current
    line = (
        f":rotating_light: Paging {current[0].role.label} {_mentions(cfg, current)}"
        if current
        else "Nobody to page"
    )
    upcoming = inc.upcoming
    if inc.next_at is not None:
        left = (inc.next_at - now).total_seconds()
        if window_ms is not None and window_ms >= 0:
            # The key's TTL is the timer; the due index is its durable backstop. They agree
            # to the millisecond unless the bot's clock and Redis's differ: show the sooner.
            left = min(left, window_ms / 1000)
        if upcoming:
            target = f"{upcoming[0].role.label} {_mentions(cfg, upcoming)}"
        elif cfg.policy.escalation.repeat_count - inc.repeats <= 1:
            target = "every engineer on the roster (final page)"
        else:
            target = f"{current[0].role.label} again" if current else ""
        line += (
            f" · next: {target} at {stamp(inc.next_at, zone)} "
            f"(in {human_duration(timedelta(seconds=max(0.0, left)))}) unless ACKed"
        )
    elif inc.exhausted:
        line += " · automatic escalation has run out: ACK, resolve, or page someone"
    return line


def _opener(cfg: TeamConfig, opened_by: str) -> str:
    if opened_by == "alert":
        return "monitoring"
    try:
        return cfg.member(opened_by).mention
    except KeyError:
        return opened_by  # a non-roster Slack user, stored as a mention


def page_message(
    cfg: TeamConfig,
    inc: Incident,
    now: datetime,
    count: int = 1,
    last_value: str | None = None,
    checklist: str | None = None,
    window_ms: int | None = None,
    offer_checklist: str | None = None,
) -> dict[str, Any]:
    """The page message. `offer_checklist`, the incident whose thread holds the pipeline's
    checklist when this one's did not open its own, adds an "Open checklist" button."""
    title = page_title(cfg, inc)
    facts = [f"*Summary:* {inc.summary}"]
    if inc.signal:
        facts.append(
            f"*Signal:* {inc.signal.value}"
            + (f" · latest value {last_value}" if last_value else "")
        )
    if count > 1:
        facts.append(f"*Alerts joined:* {count}")
    facts.append(f"*Opened:* {stamp(inc.opened_at, cfg.zone)} by {_opener(cfg, inc.opened_by)}")
    if checklist:
        facts.append(f"*Diagnostics:* {checklist}")
    elif offer_checklist:
        every = human_duration(cfg.policy.escalation.checklist_once_per)
        facts.append(
            f"*Diagnostics:* the {inc.pipeline} checklist is in {offer_checklist}'s thread "
            f"(opened once per {every} per pipeline); *Open checklist* starts one here"
        )
    if inc.mode is Mode.PAGE or inc.ladder:
        facts.append(f"*Severity:* {severity_note(cfg, inc)}")
    status = status_line(cfg, inc, now, window_ms)
    blocks: list[Block] = [
        section(f"*{title}*"),
        section("\n".join(facts)),
        context(status),
    ]
    buttons = []
    if inc.status is Status.TRIGGERED and inc.mode is Mode.PAGE:
        buttons.append(button("ACK", ids.ACTION_PAGE_ACK, inc.id, "primary"))
    if inc.open:
        buttons.append(button("Resolve", ids.ACTION_PAGE_RESOLVE, inc.id))
    if inc.open and offer_checklist is not None:  # "" offers it without naming another
        buttons.append(button("Open checklist", ids.ACTION_PAGE_CHECKLIST, inc.id))
    if inc.open and cfg.pipeline(inc.pipeline).investor:
        # Investors read #investor-kpis: the policy asks for status there while at risk.
        buttons.append(button("Post status", ids.ACTION_PAGE_STATUS, inc.id))
    if (
        inc.status is Status.TRIGGERED
        and inc.mode is Mode.PAGE
        and (inc.upcoming or not inc.exhausted)
    ):
        value = f"{inc.id}@{inc.position}"
        buttons.append(button("Escalate now", ids.ACTION_PAGE_ESCALATE, value, "danger"))
    if buttons:
        blocks.append(actions(ids.PAGE_ACTIONS_BLOCK, *buttons))
    text = f"{title}: {inc.summary}. {fill(cfg, status)}"
    return {"text": text, "blocks": blocks}


def dm_message(
    cfg: TeamConfig,
    inc: Incident,
    text: str,
    permalink_channel: str | None,
    permalink: str | None = None,
) -> dict[str, Any]:
    """A page to one person; `permalink` links to the page message, whose thread says
    what happened so far (None when Slack could not say: the channel is named alone)."""
    title = page_title(cfg, inc)
    where = f" See {permalink_channel}." if permalink_channel else ""
    if permalink:
        where = f" See <{permalink}|the page in {permalink_channel or 'its channel'}>."
    body = f"{fill(cfg, text)} *{title}*: {inc.summary}.{where}"
    blocks: list[Block] = [section(body)]
    if inc.status is Status.TRIGGERED and inc.mode is Mode.PAGE:
        blocks.append(
            actions(ids.PAGE_ACTIONS_BLOCK, button("ACK", ids.ACTION_PAGE_ACK, inc.id, "primary"))
        )
    return {"text": body, "blocks": blocks}


def folded_dm_message(
    cfg: TeamConfig, pages: Sequence[tuple[Incident, str, str | None]]
) -> dict[str, Any]:
    """Several pages for one person that fell due together: one DM, each with its ACK and
    a link to its page message (the third of each, when Slack gave one)."""
    title = f":rotating_light: You are paged for {plural(len(pages), 'incident')}"
    blocks: list[Block] = [section(f"*{title}*")]
    lines = []
    for inc, why, permalink in pages:
        line = f"{fill(cfg, why)} *{page_title(cfg, inc)}*: {inc.summary}."
        if permalink:
            line += f" See <{permalink}|the page>."
        lines.append(line)
        blocks.append(section(line))
        blocks.append(
            actions(
                f"{ids.PAGE_ACTIONS_BLOCK}:{inc.id}",
                button(f"ACK {inc.id}", ids.ACTION_PAGE_ACK, inc.id, "primary"),
            )
        )
    return {"text": f"{title}:\n" + "\n".join(lines), "blocks": blocks}


def already_escalated(cfg: TeamConfig, inc: Incident) -> str:
    """Why an Escalate now click changed nothing: where the incident already is."""
    current = inc.current
    where = f"{current[0].role.label} {_mentions(cfg, current)}" if current else "its last rung"
    at = stamp(inc.stepped_at, cfg.zone) if inc.stepped_at else "earlier"
    return (
        f"Nothing changed: {inc.id} was already escalated to {where} at {at} "
        "(your button was from before that). To move it on, press Escalate now on the page "
        "as it reads now."
    )


# `/oncall incidents` shows this many per page: each is a block, well inside Slack's 50.
INCIDENTS_PER_PAGE = 20


def incidents_reply(
    cfg: TeamConfig,
    rows: Sequence[tuple[Incident, int, str | None, int | None]],
    now: datetime,
    total: int | None = None,
    page: int = 1,
) -> Reply:
    """One page of open incidents, most urgent first (`rows` in that order, `total` open in
    all), with a button to the next page while there is one."""
    total = len(rows) if total is None else total
    if not rows:
        if total:
            last = -(-total // INCIDENTS_PER_PAGE)
            text = (
                f"There is no page {page} of open incidents: {total} open make "
                f"{plural(last, 'page')} (`/oncall incidents page {last}`)."
            )
            return Reply(text=text, blocks=[section(text)])
        return Reply(text="No open incidents.", blocks=[section("No open incidents. :sunny:")])
    first = (page - 1) * INCIDENTS_PER_PAGE + 1
    last = first + len(rows) - 1
    title = (
        f"Open incidents: {first}–{last} of {total:,}, most urgent first"
        if total > len(rows)
        else f"Open incidents ({total}), most urgent first"
    )
    lines = []
    for inc, count, progress, window_ms in rows:
        status = status_line(cfg, inc, now, window_ms)
        extra = f" · {plural(count, 'alert')}" if count > 1 else ""
        checklist = f" · checklist {progress}" if progress else ""
        name = cfg.pipeline(inc.pipeline).name
        head = f"*{inc.id}* {inc.severity.value.upper()} {name}: {inc.summary}"
        implies = f"\n    {severity_note(cfg, inc)}" if inc.mode is Mode.PAGE else ""
        lines.append(fill(cfg, f"{head}{extra}{checklist}\n    {status}{implies}"))
    blocks = [section(f"*{title}*"), *(section(line) for line in lines)]
    more = total - last
    if more > 0:
        blocks.append(context(f"… and {more:,} more: `/oncall incidents page {page + 1}`"))
        blocks.append(
            actions(
                f"incidents_page:{page + 1}",
                button(
                    f"Next {min(more, INCIDENTS_PER_PAGE)}",
                    ids.ACTION_INCIDENTS_PAGE,
                    str(page + 1),
                ),
            )
        )
    text = f"{title}:\n" + "\n".join(lines)
    if more > 0:
        text += f"\n… and {more:,} more: `/oncall incidents page {page + 1}`"
    return Reply(text=text, blocks=blocks)
