"""The "Handover done" button on the Monday digest (channel post or DM): the outgoing and
incoming Primary confirm the handoff; the answer, only for whoever pressed, says what was
recorded. The digest itself stays as posted: confirmations live in Redis, and the 09:30
reminder reads them there."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.config.models import TeamConfig
from bot.deps import Deps
from bot.domain.handover import HandoverDigest, HandoverError
from bot.domain.handover_confirm import HandoverConfirmations
from bot.domain.timefmt import stamp
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply, section
from bot.slack.listeners.common import actor_name, tell


def _name(cfg: TeamConfig, initials: str) -> str:
    try:
        return cfg.member(initials).name
    except KeyError:
        return initials


def confirmed_reply(
    cfg: TeamConfig, digest: HandoverDigest, done: HandoverConfirmations, who: str, fresh: bool
) -> Reply:
    zone = cfg.zone
    at = done.at(who)
    assert at is not None  # the store has just recorded it, or had it already
    when = stamp(digest.boundary, zone)
    # On the handover's own day the time alone reads best; later presses carry the day.
    pressed = stamp(at, zone)
    if at.astimezone(zone).date() == digest.boundary.astimezone(zone).date():
        pressed = pressed.rsplit(", ", 1)[1]
    head = (
        f":white_check_mark: Recorded: you confirmed the handover of {when} at {pressed}."
        if fresh
        else f":information_source: You had already confirmed the handover of {when}, at "
        f"{pressed}; that time stands."
    )
    missing = done.missing(digest)
    rest = (
        f" Still to confirm: {' and '.join(_name(cfg, m) for m in missing)}."
        if missing
        else " Both Primaries have confirmed: the handover is done."
    )
    return Reply(text=head + rest, blocks=[section(head + rest)])


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ids.ACTION_HANDOVER_DONE)
    async def handover_done(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await _answer(deps, body, action, context)
        await ack()


async def _answer(
    deps: Deps, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    url = str(body.get("response_url", ""))
    value = str(action.get("value", ""))
    if not value.isdecimal():
        await tell(deps, url, error_reply("That button is not part of a handover digest."))
        return
    who = actor_name(context)
    try:
        digest, done, fresh = await deps.handover.confirm(int(value), who)
    except HandoverError as exc:
        await tell(deps, url, error_reply(str(exc)))
        return
    await tell(deps, url, confirmed_reply(deps.config, digest, done, who, fresh))
