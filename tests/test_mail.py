"""Emails to the team's list: the builders (bot/domain/emails.py) and sending them over SMTP
to a local aiosmtpd server (bot/mail.py)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.config import TeamConfig
from bot.domain.emails import (
    DEFAULT_EMAIL_TO,
    Email,
    email_recipients,
    incident_opened_email,
    incident_resolved_email,
    rca_posted_email,
    wants_email,
)
from bot.domain.incident import AUTO, Incident, Mode, Severity, Signal, Status
from bot.domain.schedule import LadderRole, Rung
from bot.mail import EMAIL_OFF, Mailer, MailError, SmtpConfig, parse_smtp_url, redact_url
from bot.settings import settings_from_env
from tests.conftest import IST, ist
from tests.processes import free_port

T0 = ist("2025-09-03 12:00")  # a Wednesday
LIST = "data-eng-oncall@company.example"
FROM = "On-call bot <oncall-bot@company.example>"
LADDER = [
    Rung(role=LadderRole.PRIMARY, member="AM", reason=""),
    Rung(role=LadderRole.BACKUP, member="PR", reason=""),
]


def incident(**overrides: Any) -> Incident:
    args: dict[str, Any] = {
        "id": "INC-7",
        "pipeline": "profit-agg",
        "severity": Severity.SEV1,
        "summary": "Aggregate profit late: last success 05:10",
        "signal": Signal.FRESHNESS,
        "dedupe_key": "k",
        "mode": Mode.PAGE,
        "opened_at": T0,
        "opened_by": "alert",
        "ladder": LADDER,
    }
    return Incident(**{**args, **overrides})


def resolved(**overrides: Any) -> Incident:
    return incident(
        status=Status.RESOLVED,
        acked_by="AM",
        acked_at=T0 + timedelta(minutes=4, seconds=30),
        resolved_by="PR",
        resolved_at=T0 + timedelta(hours=1, minutes=5),
        **overrides,
    )


# ---------------------------------------------------------------- builders (pure)


def test_only_investor_sev1_and_sev2_want_email(config: TeamConfig) -> None:
    assert wants_email(incident(), config)
    assert wants_email(incident(severity=Severity.SEV2, pipeline="growth-agg"), config)
    assert not wants_email(incident(severity=Severity.SEV3), config)
    assert not wants_email(incident(severity=Severity.SEV4), config)
    assert not wants_email(incident(pipeline="profit-unit"), config)  # experiment-facing
    assert not wants_email(incident(pipeline="gone"), config)


def test_the_list_is_the_policy_contact(config: TeamConfig) -> None:
    assert email_recipients(config) == [LIST] == list(DEFAULT_EMAIL_TO)


def test_opened_email(config: TeamConfig) -> None:
    mail = incident_opened_email(incident(), config, IST)
    assert mail.to == [LIST]
    assert mail.subject == (
        "[SEV1] INC-7 opened: Profit — Aggregate: Aggregate profit late: last success 05:10"
    )
    assert mail.body.splitlines() == [
        "INC-7 was opened.",
        "",
        "Pipeline: Profit — Aggregate (investor-facing, #investor-kpis)",
        "Severity: SEV1",
        "Summary: Aggregate profit late: last success 05:10",
        "Signal: freshness",
        "Opened: Wed 3 Sep 2025, 12:00 IST by monitoring (alert)",
        "Paging: Primary Alex Mehta (AM)",
        "RCA: due within 5 business days of resolution (investor-facing Sev-1/Sev-2).",
        "",
        "Sent by oncall-bot; follow and act on the incident in Slack.",
    ]


def test_opened_by_a_person_and_times_in_the_given_zone(config: TeamConfig) -> None:
    from zoneinfo import ZoneInfo

    mail = incident_opened_email(incident(opened_by="PR"), config, ZoneInfo("UTC"))
    assert "Opened: Wed 3 Sep 2025, 06:30 UTC by Priya Rao (PR)" in mail.body
    off_roster = incident_opened_email(incident(opened_by="<@U0XYZ>"), config, IST)
    assert "by Slack user U0XYZ" in off_roster.body


def test_a_long_or_multiline_summary_keeps_the_subject_one_short_line(
    config: TeamConfig,
) -> None:
    mail = incident_opened_email(
        incident(summary="line one\nBcc: evil@example.com\n" + "x" * 200), config, IST
    )
    assert "\n" not in mail.subject
    assert mail.subject.startswith("[SEV1] INC-7 opened: Profit — Aggregate: line one Bcc:")
    assert mail.subject.endswith("…")
    assert len(mail.subject) < 130


def test_resolved_email(config: TeamConfig) -> None:
    mail = incident_resolved_email(resolved(), config, IST)
    assert mail.subject == (
        "[SEV1] INC-7 resolved: Profit — Aggregate: Aggregate profit late: last success 05:10"
    )
    lines = mail.body.splitlines()
    assert lines[0] == "INC-7 was resolved after 1 h 5 min."
    assert (
        "Acknowledged: Wed 3 Sep 2025, 12:04 IST by Alex Mehta (AM), 4 min 30 s after the page"
        in lines
    )
    assert "Resolved: Wed 3 Sep 2025, 13:05 IST by Priya Rao (PR)" in lines
    assert "Time to resolve: 1 h 5 min" in lines


def test_resolved_without_ack_and_automatically(config: TeamConfig) -> None:
    mail = incident_resolved_email(
        incident(
            status=Status.RESOLVED, resolved_by=AUTO, resolved_at=T0 + timedelta(days=1, hours=2)
        ),
        config,
        IST,
    )
    assert "Acknowledged: not before it was resolved" in mail.body
    assert "Resolved: Thu 4 Sep 2025, 14:00 IST closed automatically" in mail.body
    assert "Time to resolve: 1 d 2 h" in mail.body
    with pytest.raises(ValueError, match="INC-7 is not resolved"):
        incident_resolved_email(incident(), config, IST)


def test_rca_email_takes_strings() -> None:
    mail = rca_posted_email(
        "INC-7",
        "Profit — Aggregate",
        "Payments CDC snapshot gap",
        "Alex Mehta",
        "https://slack.example/archives/C1/p1",
        to=[LIST],
    )
    assert mail.to == [LIST]
    assert mail.subject == "INC-7 RCA posted: Profit — Aggregate: Payments CDC snapshot gap"
    assert "Owner: Alex Mehta" in mail.body
    assert "Read it: https://slack.example/archives/C1/p1" in mail.body


def test_an_email_needs_addresses() -> None:
    with pytest.raises(ValueError):
        Email(to=[], subject="s", body="")
    with pytest.raises(ValueError, match="not an email address"):
        Email(to=["a@b.example, c@d.example"], subject="s", body="")


# ---------------------------------------------------------------- SMTP


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; `refuse_rcpt` / `refuse_data` make
    it answer with that reply instead."""

    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_rcpt: str | None = None
    refuse_data: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"p@ss:w/rd")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield handler, port
    finally:
        server.stop()


@pytest.fixture
def auth_inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    server = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    server.start()
    try:
        yield handler, port
    finally:
        server.stop()


def mailer(port: int, userinfo: str = "") -> Mailer:
    return Mailer(f"smtp://{userinfo}127.0.0.1:{port}", FROM, timeout=5, local_hostname="test")


async def test_an_incident_opened_email_arrives(
    inbox: tuple[Inbox, int], config: TeamConfig
) -> None:
    handler, port = inbox
    sent = incident_opened_email(incident(), config, IST)
    await mailer(port).send(sent)
    [(mail_from, rcpt_tos, msg)] = handler.received
    assert mail_from == "oncall-bot@company.example"
    assert rcpt_tos == [LIST]
    assert msg["To"] == LIST
    assert msg["From"] == FROM
    assert msg["Subject"] == sent.subject  # the em dash survives the header encoding
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@company.example>")
    assert msg["Date"]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")  # as it came over the wire
    assert text == sent.body
    assert "Opened: Wed 3 Sep 2025, 12:00 IST by monitoring (alert)" in text


# Loopback only: aiosmtpd warns that AUTH without TLS is unsafe, which is the point here.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_with_a_percent_encoded_password(auth_inbox: tuple[Inbox, int]) -> None:
    handler, port = auth_inbox
    sent = Email(to=[LIST], subject="hello", body="text\n")
    await mailer(port, "bot:p%40ss%3Aw%2Frd@").send(sent)
    assert [to for _, to, _ in handler.received] == [[LIST]]
    with pytest.raises(MailError, match="535") as info:
        await mailer(port, "bot:wrong@").send(sent)
    assert info.value.permanent
    assert "wrong" not in str(info.value)


async def test_a_server_that_is_down_raises_so_the_outbox_retries() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(MailError, match=f"could not send through smtp://127.0.0.1:{port}") as info:
        await mailer(port).send(Email(to=[LIST], subject="s", body="b\n"))
    assert not info.value.permanent


async def test_refusals_raise_and_say_whether_a_retry_can_help(
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    sent = Email(to=[LIST], subject="s", body="b\n")
    handler.refuse_data = "451 4.3.0 try again later"
    with pytest.raises(MailError, match="451") as info:
        await mailer(port).send(sent)
    assert not info.value.permanent
    handler.refuse_data = None
    handler.refuse_rcpt = "550 5.1.1 no such list"
    with pytest.raises(MailError, match="refused every recipient") as info:
        await mailer(port).send(sent)
    assert info.value.permanent
    assert handler.received == []


async def test_email_off_sends_nothing(inbox: tuple[Inbox, int]) -> None:
    handler, _ = inbox
    off = Mailer(None)
    assert not off.enabled
    await off.send(Email(to=[LIST], subject="s", body="b\n"))
    assert handler.received == []


async def test_check(inbox: tuple[Inbox, int]) -> None:
    _, port = inbox
    off = await Mailer(None).check()
    assert (off.ok, off.enabled, off.text) == (True, False, EMAIL_OFF)
    assert off.text == "email: off (SMTP_URL unset)"
    on = await mailer(port).check()
    assert on.ok and on.enabled
    assert on.text.startswith(f"email: on, smtp://127.0.0.1:{port} (no TLS), from {FROM}: NOOP 250")
    down = await mailer(free_port()).check()
    assert not down.ok and down.enabled
    assert down.text.startswith("email: smtp://127.0.0.1:")
    assert "failed" in down.text


def test_from_settings() -> None:
    env = {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "s"}
    assert not Mailer.from_settings(settings_from_env(env)).enabled
    m = Mailer.from_settings(
        settings_from_env({**env, "SMTP_URL": "smtps://u:p@mail.example", "SMTP_FROM": FROM})
    )
    assert m.smtp == SmtpConfig("mail.example", 465, "tls", "u", "p")
    assert (m.sender, m.sender_address) == (FROM, "oncall-bot@company.example")


# ---------------------------------------------------------------- SMTP_URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://localhost", SmtpConfig("localhost", 25)),
        ("smtp://relay.internal:2525/", SmtpConfig("relay.internal", 2525)),
        ("smtp://mail.example?starttls=1", SmtpConfig("mail.example", 587, "starttls")),
        (
            "smtp://user:pass@mail.example:587?starttls=1",
            SmtpConfig("mail.example", 587, "starttls", "user", "pass"),
        ),
        ("SMTP://mail.example?STARTTLS=true", SmtpConfig("mail.example", 587, "starttls")),
        ("smtp://mail.example:25?starttls=0", SmtpConfig("mail.example", 25)),
        ("smtps://mail.example", SmtpConfig("mail.example", 465, "tls")),
        (
            "smtps://bot%40company.example:p%40ss%3Aw%2Frd@mail.example:2465",
            SmtpConfig("mail.example", 2465, "tls", "bot@company.example", "p@ss:w/rd"),
        ),
        ("smtp://u:p@127.0.0.1:1025", SmtpConfig("127.0.0.1", 1025, "none", "u", "p")),
        ("smtp://[::1]:1025", SmtpConfig("::1", 1025)),
    ],
)
def test_parse_smtp_url(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mail.example:25", "expected smtp://host[:port]"),
        ("http://mail.example", "expected smtp://host[:port]"),
        ("smtp://", "no host"),
        ("smtp://:587", "no host"),
        ("smtp://mail.example:abc", "the port must be a number from 1 to 65535"),
        ("smtp://mail.example:70000", "the port must be a number from 1 to 65535"),
        ("smtp://mail.example:0", "the port must be a number from 1 to 65535"),
        ("smtp://mail.example/path", "only ?starttls=1 or ?starttls=0 may follow the host"),
        ("smtp://mail.example?tls=1", "unknown option 'tls'"),
        ("smtp://mail.example?starttls=maybe", "starttls must be 1 or 0, got 'maybe'"),
        ("smtps://mail.example?starttls=1", "smtps:// is TLS from the start"),
        ("smtp://user@mail.example?starttls=1", "a user without a password"),
        ("smtp://:secret@mail.example?starttls=1", "a password without a user"),
        ("smtp://user:secret@mail.example:587", "a password over plain SMTP"),
    ],
)
def test_bad_smtp_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_smtp_url(url)
    assert message in str(info.value)
    assert "secret" not in str(info.value)


def test_display_and_redaction_hide_the_password() -> None:
    config = parse_smtp_url("smtp://bot:s3cret@mail.example?starttls=1")
    assert config.display == "smtp://bot@mail.example:587 (STARTTLS)"
    assert "s3cret" not in repr(config)
    assert redact_url("smtp://bot:s3cret@mail.example:587?starttls=1") == (
        "smtp://bot:***@mail.example:587?starttls=1"
    )
    assert redact_url("smtps://bot:p@ss@mail.example") == "smtps://bot:***@mail.example"
    assert redact_url("smtp://mail.example") == "smtp://mail.example"
    assert redact_url("smtp://bot@mail.example") == "smtp://bot@mail.example"
    assert redact_url("not a url") == "not a url"
