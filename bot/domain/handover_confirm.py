"""Confirming a handover: who of the outgoing and incoming Primary pressed "Handover done"
for a boundary, and the reminder to whoever has not. The digest itself is in
bot/domain/handover.py; this is the state its button changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.handover import HandoverDigest, HandoverError
from bot.domain.timefmt import stamp


class Confirmation(BaseModel):
    model_config = ConfigDict(frozen=True)

    member: str
    at: datetime


class HandoverConfirmations(BaseModel):
    """Who pressed "Handover done" for one boundary, and when."""

    model_config = ConfigDict(frozen=True)

    boundary: datetime
    confirmed: tuple[Confirmation, ...] = ()

    def at(self, member: str) -> datetime | None:
        return next((c.at for c in self.confirmed if c.member == member), None)

    def _check(self, digest: HandoverDigest) -> None:
        if digest.boundary != self.boundary:
            raise HandoverError(
                f"these confirmations are for the handover at {self.boundary.isoformat()}, "
                f"not {digest.boundary.isoformat()}"
            )

    def confirm(self, digest: HandoverDigest, member: str, at: datetime) -> HandoverConfirmations:
        """Record `member`'s press at `at`. Only the two Primaries confirm: the policy's
        handoff is between them, and a Backup's press must not stand in for theirs. A
        second press keeps the first time (a double click or a replayed click changes
        nothing), so the caller can say "you confirmed at …" from `at(member)`."""
        self._check(digest)
        if member not in digest.confirmers:
            who = " and ".join(digest.confirmers)
            raise HandoverError(f"Only the outgoing and incoming Primary ({who}) confirm it.")
        if self.at(member) is not None:
            return self
        return self.model_copy(
            update={"confirmed": (*self.confirmed, Confirmation(member=member, at=at))}
        )

    def missing(self, digest: HandoverDigest) -> list[str]:
        """The Primary(s) who have not confirmed, outgoing first."""
        self._check(digest)
        return [p for p in digest.confirmers if self.at(p) is None]


def reminder_text(digest: HandoverDigest, missing: list[str]) -> str:
    """The 09:30 reminder to whoever has not confirmed. Members are `{XX}` placeholders, as
    in the domain's notices: delivery turns them into mentions (bot/slack/blocks/page.fill)."""
    if not missing:
        raise ValueError("everyone has confirmed: there is nobody to remind")
    who = " and ".join(f"{{{m}}}" for m in missing)
    return (
        f":bell: The handover of {stamp(digest.boundary, digest.tz)} is not confirmed yet "
        f"by {who}. Once you have handed over, press *Handover done* on the digest."
    )
