"""Sending the team's emails over SMTP (aiosmtplib).

`SMTP_URL` says where (see `parse_smtp_url` for the forms); unset, email is off. `Mailer.send`
raises `MailError` on any failure so that the outbox keeps the email and tries again: a mail
server outage delays emails, never loses them. `Mailer.check` is the line `oncall-bot check`
prints about email.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from bot.domain.emails import Email
from bot.settings import DEFAULT_SMTP_FROM, Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0  # seconds, for connecting and for each SMTP command
EMAIL_OFF = "email: off (SMTP_URL unset)"
URL_FORMS = (
    "smtp://host[:port], smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host[:port]"
)

TlsMode = Literal["none", "starttls", "tls"]
_DEFAULT_PORT: dict[TlsMode, int] = {"none": 25, "starttls": 587, "tls": 465}
_TLS_LABEL: dict[TlsMode, str] = {"none": "no TLS", "starttls": "STARTTLS", "tls": "TLS"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|::1)$", re.IGNORECASE)
_ADDRESS = re.compile(r"[^@\s<>,]+@[^@\s<>,]+")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the mail server, parsed from SMTP_URL."""

    host: str
    port: int
    tls: TlsMode = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """`smtp://bot@mail.example:587 (STARTTLS)`: never the password."""
        scheme = "smtps" if self.tls == "tls" else "smtp"
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port} ({_TLS_LABEL[self.tls]})"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse SMTP_URL. The forms:

    - `smtp://host[:port]`: plain SMTP, port 25 (a relay on this machine or network);
    - `smtp://user:pass@host[:port]?starttls=1`: upgraded with STARTTLS, port 587;
    - `smtps://user:pass@host[:port]`: TLS from the start, port 465.

    User and password are percent-encoded (`@` as %40, `:` as %3A). `starttls` takes
    1/0 (true/false, yes/no, on/off). A password is refused over plain SMTP to anything but
    this machine. Raises ValueError with a message that never contains the password.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ValueError("the port must be a number from 1 to 65535") from None
        raise ValueError(f"not a URL (expected {URL_FORMS})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError(f"expected {URL_FORMS}")
    if not parts.hostname:
        raise ValueError(f"no host (expected {URL_FORMS})")
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("only ?starttls=1 or ?starttls=0 may follow the host")
    starttls: bool | None = None
    try:
        options = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError("only ?starttls=1 or ?starttls=0 may follow the host") from None
    for key, value in options:
        if key.lower() != "starttls":
            raise ValueError(f"unknown option {key!r} (only starttls=1 or starttls=0)")
        if value.lower() in _TRUE:
            starttls = True
        elif value.lower() in _FALSE:
            starttls = False
        else:
            raise ValueError(f"starttls must be 1 or 0, got {value!r}")
    if scheme == "smtps" and starttls:
        raise ValueError("smtps:// is TLS from the start; starttls=1 is for smtp://")
    tls: TlsMode = "tls" if scheme == "smtps" else "starttls" if starttls else "none"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and not password:
        raise ValueError("a user without a password (smtp://user:pass@host…)")
    if password and not username:
        raise ValueError("a password without a user (smtp://user:pass@host…)")
    if password and tls == "none" and not _LOOPBACK.match(parts.hostname):
        raise ValueError(
            "a password over plain SMTP would cross the network unencrypted: "
            "add ?starttls=1 or use smtps://"
        )
    return SmtpConfig(
        host=parts.hostname,
        port=port or _DEFAULT_PORT[tls],
        tls=tls,
        username=username,
        password=password,
    )


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for messages and logs."""
    scheme, sep, rest = url.partition("//")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    userinfo, at, hostport = rest[:end].rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}//{user}{':***' if colon else ''}@{hostport}{rest[end:]}"


def parse_address(value: str) -> str:
    """The bare address of SMTP_FROM (`bot@x.example` or `On-call bot <bot@x.example>`)."""
    if "\n" in value or "\r" in value:
        raise ValueError("must be one line")
    _, address = parseaddr(value)
    if not _ADDRESS.fullmatch(address):
        raise ValueError(
            "expected an address such as oncall-bot@company.example "
            "or 'On-call bot <oncall-bot@company.example>'"
        )
    return address


class MailError(Exception):
    """An email was not sent. `permanent` when the server refused it for good (a 5xx
    reply): trying again will not help until someone changes the configuration."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class MailCheck:
    """The email line of `oncall-bot check`: `ok` is False only when SMTP_URL is set and
    the server could not be reached, greeted or logged in to."""

    ok: bool
    enabled: bool
    text: str


class Mailer:
    """Sends `Email`s through the server SMTP_URL names; one connection per email (a handful
    a day), so nothing is held open between incidents."""

    def __init__(
        self,
        url: str | None,
        sender: str = DEFAULT_SMTP_FROM,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        local_hostname: str | None = None,
    ) -> None:
        self.smtp = parse_smtp_url(url) if url else None
        self.sender = sender
        self.sender_address = parse_address(sender)
        self.timeout = timeout
        self.local_hostname = local_hostname

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        return cls(settings.smtp_url, settings.smtp_from)

    @property
    def enabled(self) -> bool:
        return self.smtp is not None

    def message(self, email: Email) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(email.to)
        msg["Subject"] = email.subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain=self.sender_address.rpartition("@")[2])
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        msg.set_content(email.body)
        return msg

    def _connect_args(self, smtp: SmtpConfig) -> dict[str, Any]:
        return {
            "hostname": smtp.host,
            "port": smtp.port,
            "username": smtp.username,
            "password": smtp.password,
            "use_tls": smtp.tls == "tls",
            # Explicit: no opportunistic STARTTLS on a plain smtp:// URL.
            "start_tls": smtp.tls == "starttls",
            "timeout": self.timeout,
            "local_hostname": self.local_hostname,
        }

    async def send(self, email: Email) -> None:
        """Send one email; returns once the server has accepted it for every recipient it
        accepts. Raises MailError when nothing was accepted (the outbox tries again). With
        email off (SMTP_URL unset) the email is logged and dropped."""
        smtp = self.smtp
        if smtp is None:
            log.warning("email is off (SMTP_URL unset): not sent: %s", email.subject)
            return
        message = self.message(email)
        try:
            refused, _ = await aiosmtplib.send(
                message,
                sender=self.sender_address,
                recipients=email.to,
                **self._connect_args(smtp),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise MailError(
                f"{smtp.display} refused every recipient ({detail})",
                permanent=all(500 <= c < 600 for c in codes),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(
                f"{smtp.display} refused the email: {exc.code} {exc.message}",
                permanent=500 <= exc.code < 600,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"could not send through {smtp.display}: {_describe(exc)}") from exc
        if refused:
            # The others have it: raising would make the outbox send it to them again.
            log.warning(
                "%s refused some recipients of %r: %s",
                smtp.display,
                email.subject,
                "; ".join(f"{to}: {r.code} {r.message}" for to, r in refused.items()),
            )
        log.info("email sent to %s: %s", ", ".join(email.to), email.subject)

    async def check(self) -> MailCheck:
        """Connect (with TLS and login as configured), NOOP, quit: the `oncall-bot check`
        line about email."""
        smtp = self.smtp
        if smtp is None:
            return MailCheck(ok=True, enabled=False, text=EMAIL_OFF)
        client = aiosmtplib.SMTP(**self._connect_args(smtp))
        try:
            async with client:
                reply = await client.noop()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return MailCheck(
                ok=False, enabled=True, text=f"email: {smtp.display} failed: {_describe(exc)}"
            )
        return MailCheck(
            ok=True,
            enabled=True,
            text=(
                f"email: on, {smtp.display}, from {self.sender}: "
                f"NOOP {reply.code} {reply.message}".rstrip()
            ),
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    text = str(exc) or type(exc).__name__
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"
