"""How an RCA's messages read: the DM that opens it, the reassignment and reminder DMs, the
channel summary, and the helpers their text is made with. bot/services/rcas.py decides when
each is sent; this module only words them, from the configuration and the holiday calendar
(business days)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.config.models import TeamConfig
from bot.domain.business_days import business_days_between
from bot.domain.calendar import HolidayCalendar
from bot.domain.incident import Incident
from bot.domain.notices import MemberDM
from bot.domain.rca import ActionItem, Rca, ReminderKind, incident_commander
from bot.domain.timefmt import day_label, plural

# How the messages tell people to act; the listeners own the commands, so keep these in step.
WRITE_HINT = "`/rca write {id}`"
ASSIGN_HINT = "`/rca assign {id} @member`"
DONE_HINT = "`/rca done {id} A{n}`"

# A channel summary quotes the written sections; the RCA itself is in the thread.
_QUOTE_MAX = 500


def summary_channel(config: TeamConfig, pipeline: str) -> str:
    """Where an RCA's summary is posted: the pipeline's own channel (the investor-facing
    pipelines report in #investor-kpis). A pipeline since removed from the configuration
    posts where the investor-facing ones do, else in the team channel."""
    try:
        return config.pipeline(pipeline).channel
    except KeyError:
        investor = [p.channel for p in config.pipelines if p.investor]
        return investor[0] if investor else config.policy.team_channel


def slack_text(markdown: str) -> str:
    """The Markdown export as Slack mrkdwn: headings and `**bold**` become `*bold*`, task
    boxes become ☐/☑ (Slack shows `#` and `[ ]` literally)."""
    text = re.sub(r"^#{1,6}\s+(.*)$", r"*\1*", markdown, flags=re.M)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    text = re.sub(r"^- \[ \] ", "☐ ", text, flags=re.M)
    return re.sub(r"^- \[x\] ", "☑ ", text, flags=re.M)


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str) -> str:
    flat = one_line(text)
    return flat if len(flat) <= _QUOTE_MAX else flat[: _QUOTE_MAX - 1].rstrip() + "…"


def clean_lines(values: Sequence[str]) -> list[str]:
    return [v.strip() for v in values if v.strip()]


def days_text(n: int) -> str:
    return plural(n, "business day")


class RcaWording:
    def __init__(self, config: TeamConfig, calendar: HolidayCalendar) -> None:
        self.config = config
        self.calendar = calendar

    def pipeline_name(self, rca: Rca) -> str:
        try:
            return self.config.pipeline(rca.pipeline).name
        except KeyError:
            return rca.pipeline

    def label(self, rca: Rca) -> str:
        """`INC-7 (Profit — Aggregate, Sev-1: profit aggregate late)`."""
        name = self.pipeline_name(rca)
        sev = rca.severity.value.replace("sev", "Sev-")
        return f"*{rca.incident_id}* ({name}, {sev}: {one_line(rca.title)})"

    @staticmethod
    def due(rca: Rca) -> str:
        local = rca.due_at.astimezone(rca.tz)
        return f"{day_label(local.date())}, end of day {local.tzname()}"

    def name(self, initials: str) -> str:
        try:
            return f"{self.config.member(initials).name} ({initials})"
        except KeyError:
            return initials

    @staticmethod
    def why_owner(inc: Incident, owner: str) -> str:
        if owner == incident_commander(inc):
            return "as its Incident Commander"
        if owner == inc.acked_by:
            return "as the one who ACKed it"
        if owner == inc.resolved_by:
            return "as the one who resolved it"
        return "as the pipeline's primary owner"

    def how(self, rca: Rca) -> str:
        i = rca.incident_id
        return (
            f"Write it with {WRITE_HINT.format(id=i)}; if someone else should, "
            f"{ASSIGN_HINT.format(id=i)}."
        )

    def reminder(self, rca: Rca, kind: ReminderKind, today: date) -> MemberDM:
        hours = self.config.policy.business_hours
        what = f"the RCA for {self.label(rca)}"
        if kind is ReminderKind.DUE_SOON:
            left = days_text(business_days_between(today, rca.due_day, self.calendar, hours))
            head = f"Reminder: {what} is due {self.due(rca)}, {left} from now."
        elif kind is ReminderKind.DUE_TODAY:
            tz = rca.due_at.astimezone(rca.tz).tzname()
            head = f"Reminder: {what} is due today, by the end of the day {tz}."
        else:
            late = days_text(business_days_between(rca.due_day, today, self.calendar, hours))
            head = f"Reminder: {what} is overdue: it was due {day_label(rca.due_day)} ({late} ago)."
        return MemberDM(member=rca.owner, about=rca.incident_id, text=f"{head} {self.how(rca)}")

    def action_dm(self, rca: Rca, item: ActionItem, today: date) -> MemberDM:
        when = f"is due {day_label(item.due)}" if item.due > today else "is due today"
        if item.due < today:
            when = f"was due {day_label(item.due)} and is not marked done"
        done = DONE_HINT.format(id=rca.incident_id, n=item.id)
        text = (
            f"Action item *A{item.id}* from the RCA for {self.label(rca)} {when}: "
            f"{one_line(item.text)}. When it is done: {done}."
        )
        return MemberDM(member=item.owner, about=rca.incident_id, text=text)

    def summary(self, rca: Rca) -> str:
        assert rca.posted_at is not None
        posted_day = rca.posted_at.astimezone(rca.tz).date()
        hours = self.config.policy.business_hours
        late = business_days_between(rca.due_day, posted_day, self.calendar, hours)
        timing = "on time" if rca.posted_at <= rca.due_at else f"{days_text(late)} late"
        lines = [
            f"RCA posted for {self.label(rca)}",
            f"Owner {self.name(rca.owner)}; posted by {self.name(rca.posted_by or '')} "
            f"{timing} (due {day_label(rca.due_day)}).",
            f"*Summary:* {clip(rca.summary)}",
        ]
        if rca.investor_impact.strip():
            lines.append(f"*Investor impact:* {clip(rca.investor_impact)}")
        lines += [
            f"• A{i.id} {one_line(i.text)} ({i.owner}, due {day_label(i.due)})"
            for i in rca.action_items
        ]
        lines.append("The full RCA is in the incident's thread.")
        return "\n".join(lines)
