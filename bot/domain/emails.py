"""Emails to the team's list: an investor Sev-1/Sev-2 incident opened, resolved, and its RCA
posted (issue #10, item 6). Pure: each builder returns an `Email`; bot/mail.py sends it,
through the outbox so that a mail server outage loses nothing.

Plain text, short, readable on a phone: the subject says severity, incident, what happened
and where; the body says when (in the rotation's zone, with the weekday), who, and where to
follow it in Slack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.incident import AUTO, Incident, Severity
from bot.domain.schedule import LadderRole
from bot.domain.timefmt import stamp

# The policy's "Contacts" list: policy.toml's `email_to` as shipped.
DEFAULT_EMAIL_TO: tuple[str, ...] = ("data-eng-oncall@company.example",)
EMAIL_SEVERITIES = frozenset({Severity.SEV1, Severity.SEV2})
SUBJECT_SUMMARY_MAX = 80
FOOTER = "Sent by oncall-bot; follow and act on the incident in Slack."

_SPACE = re.compile(r"\s+")
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


class Email(BaseModel):
    """One plain-text email: recipients, a one-line subject, a text body."""

    model_config = ConfigDict(frozen=True)

    to: list[str] = Field(min_length=1)
    subject: str = Field(min_length=1)
    body: str

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+", address):
                raise ValueError(f"not an email address: {address!r}")
        return value

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # A newline in a header would start another header (or the body).
        return one_line(value)


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int = SUBJECT_SUMMARY_MAX) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def email_recipients(cfg: TeamConfig) -> list[str]:
    """The list the emails go to: policy.toml's `email_to`."""
    return list(cfg.policy.email_to)


def wants_email(incident: Incident, cfg: TeamConfig) -> bool:
    """Investor-facing pipeline and Sev-1/Sev-2: the incidents the policy owes an RCA."""
    try:
        pipeline = cfg.pipeline(incident.pipeline)
    except KeyError:
        return False
    return pipeline.investor and incident.severity in EMAIL_SEVERITIES


def person(cfg: TeamConfig, who: str) -> str:
    """A roster member's name (`Priya Rao (PR)`); `monitoring` for an alert; a Slack user id
    for someone off the roster (email cannot render a mention)."""
    if who == "alert":
        return "monitoring (alert)"
    try:
        return f"{cfg.member(who).name} ({who})"
    except KeyError:
        pass
    m = _MENTION.match(who)
    return f"Slack user {m.group(1)}" if m else who


def _pipeline_name(cfg: TeamConfig, slug: str) -> str:
    try:
        return cfg.pipeline(slug).name
    except KeyError:
        return slug


def _subject(incident: Incident, cfg: TeamConfig, verb: str) -> str:
    sev = incident.severity.value.upper()
    name = _pipeline_name(cfg, incident.pipeline)
    return f"[{sev}] {incident.id} {verb}: {name}: {shorten(incident.summary)}"


def _facts(incident: Incident, cfg: TeamConfig) -> list[str]:
    lines = [f"Pipeline: {_pipeline_name(cfg, incident.pipeline)}"]
    try:
        p = cfg.pipeline(incident.pipeline)
    except KeyError:
        p = None
    if p is not None:
        lines[0] += f" ({p.type.value}-facing, {p.channel})"
    lines.append(f"Severity: {incident.severity.value.upper()}")
    lines.append(f"Summary: {one_line(incident.summary)}")
    if incident.signal is not None:
        lines.append(f"Signal: {incident.signal.value}")
    return lines


def _body(lines: Sequence[str]) -> str:
    return "\n".join([*lines, "", FOOTER]) + "\n"


def incident_opened_email(incident: Incident, cfg: TeamConfig, zone: tzinfo) -> Email:
    lines = [f"{incident.id} was opened.", "", *_facts(incident, cfg)]
    lines.append(f"Opened: {stamp(incident.opened_at, zone)} by {person(cfg, incident.opened_by)}")
    primary = [r for r in incident.ladder if r.role is LadderRole.PRIMARY]
    if primary:
        lines.append("Paging: Primary " + " and ".join(person(cfg, r.member) for r in primary))
    lines.append(
        f"RCA: due within {cfg.policy.rca_business_days} business days of resolution "
        "(investor-facing Sev-1/Sev-2)."
    )
    return Email(
        to=email_recipients(cfg), subject=_subject(incident, cfg, "opened"), body=_body(lines)
    )


def incident_resolved_email(incident: Incident, cfg: TeamConfig, zone: tzinfo) -> Email:
    """For a resolved incident (raises ValueError otherwise)."""
    if incident.resolved_at is None or incident.resolved_by is None:
        raise ValueError(f"{incident.id} is not resolved")
    took = human_duration(incident.resolved_at - incident.opened_at)
    lines = [f"{incident.id} was resolved after {took}.", "", *_facts(incident, cfg)]
    lines.append(f"Opened: {stamp(incident.opened_at, zone)} by {person(cfg, incident.opened_by)}")
    if incident.acked_at is not None and incident.acked_by is not None:
        after = human_duration(incident.acked_at - incident.opened_at)
        lines.append(
            f"Acknowledged: {stamp(incident.acked_at, zone)} by "
            f"{person(cfg, incident.acked_by)}, {after} after the page"
        )
    else:
        lines.append("Acknowledged: not before it was resolved")
    who = (
        "closed automatically"
        if incident.resolved_by == AUTO
        else f"by {person(cfg, incident.resolved_by)}"
    )
    lines.append(f"Resolved: {stamp(incident.resolved_at, zone)} {who}")
    lines.append(f"Time to resolve: {took}")
    lines.append(
        f"RCA: due within {cfg.policy.rca_business_days} business days "
        "(investor-facing Sev-1/Sev-2)."
    )
    return Email(
        to=email_recipients(cfg), subject=_subject(incident, cfg, "resolved"), body=_body(lines)
    )


def rca_posted_email(
    incident_id: str,
    pipeline: str,
    summary: str,
    owner: str,
    link: str,
    *,
    to: Sequence[str],
) -> Email:
    """An RCA was posted. Strings in (the RCA model lives elsewhere): `pipeline` is its
    display name, `owner` a display name, `link` where to read it (a URL or a Slack
    permalink); `to` is usually `email_recipients(cfg)`."""
    lines = [
        f"The RCA for {incident_id} was posted.",
        "",
        f"Pipeline: {one_line(pipeline)}",
        f"Summary: {one_line(summary)}",
        f"Owner: {one_line(owner)}",
        f"Read it: {one_line(link)}",
    ]
    subject = f"{incident_id} RCA posted: {one_line(pipeline)}: {shorten(summary)}"
    return Email(to=list(to), subject=subject, body=_body(lines))
