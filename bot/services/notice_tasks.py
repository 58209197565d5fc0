"""Outbox notices that are not Slack messages: emails to the team's list, and opening a
resolved incident's RCA. They ride the outbox for what it gives every notice: queued in the
same atomic step as the change that causes them, retried until done, never lost."""

from __future__ import annotations

import logging

from bot.config.models import TeamConfig
from bot.domain.emails import Email, incident_opened_email, incident_resolved_email
from bot.domain.notices import IncidentMail, Mail, OpenRca
from bot.mail import Mailer, MailError
from bot.services.paging import PagingService
from bot.services.rcas import RcaService

log = logging.getLogger(__name__)


class NoticeTasks:
    def __init__(
        self, config: TeamConfig, paging: PagingService, rcas: RcaService, mailer: Mailer | None
    ) -> None:
        self.config = config
        self.paging = paging
        self.rcas = rcas
        self.mailer = mailer

    async def run(self, notice: IncidentMail | Mail | OpenRca) -> None:
        match notice:
            case OpenRca():
                stored = await self.paging.stored(notice.incident)
                if stored is None or stored.incident.resolved_at is None:
                    return
                await self.rcas.open_for(stored.incident, stored.incident.resolved_at)
            case IncidentMail():
                stored = await self.paging.stored(notice.incident)
                if stored is None:
                    return
                inc = stored.incident
                draw = (
                    incident_opened_email if notice.event == "opened" else incident_resolved_email
                )
                await self._send(notice.id, draw(inc, self.config, self.config.zone))
            case Mail():
                await self._send(
                    notice.id, Email(to=notice.to, subject=notice.subject, body=notice.body)
                )

    async def _send(self, notice_id: str, email: Email) -> None:
        if self.mailer is None or not self.mailer.enabled:
            # Queued while SMTP_URL was set, sent after it was unset: nothing to send with.
            log.warning("email %s dropped: SMTP_URL is not set", notice_id)
            return
        try:
            await self.mailer.send(email)
        except MailError as exc:
            if exc.permanent:
                # The server refused it for good (5xx): retrying cannot help.
                log.error("email %s refused for good: %s", notice_id, exc)
                return
            raise
