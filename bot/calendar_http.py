"""`GET /calendar/team.ics` and `GET /calendar/<initials>.ics`: the schedule and PTO as
calendar feeds (bot.domain.calendar_feed) that Google Calendar, Outlook or Apple Calendar can
subscribe to.

Calendar clients cannot send headers, so the secret is in the URL: `?token=<CALENDAR_TOKEN>`,
compared in constant time before anything is read. Answers 404 "calendar feeds are off"
when CALENDAR_TOKEN is unset, 401 on a wrong or missing token, 404 on initials that are not
on the roster, 503 when Redis is down (the client polls again later).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.deps import Deps
from bot.domain.calendar_feed import build_events, feed_window, to_ics
from bot.http_guard import Rejected, RejectionLog

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar"


def check_token(wanted: str | None, given: str) -> None:
    if not wanted:
        raise Rejected(404, "calendar feeds are off (CALENDAR_TOKEN is not set)")
    # Compared as bytes: a token with non-ASCII characters is simply wrong, not an error.
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), wanted.encode()):
        raise Rejected(401, "missing or wrong calendar token (?token=…, CALENDAR_TOKEN)")


def calendar_handler(deps: Deps, rejections: RejectionLog) -> Any:
    """The handler of both routes: `{who}` in the path names a member, else the team."""

    async def handle(request: web.Request) -> web.Response:
        who = request.match_info.get("who")
        try:
            check_token(deps.settings.calendar_token, request.query.get("token", ""))
            member: str | None = None
            if who is not None and who.casefold() != "team":
                member = who.upper()
                if not any(m.initials == member for m in deps.config.members):
                    roster = ", ".join(m.initials for m in deps.config.members)
                    raise Rejected(
                        404,
                        f"no team member with initials {who[:20]!r}: use one of {roster}, or team",
                    )
        except Rejected as no:
            rejections.note(request.path, no.status, no.reason, 0)
            return no.response()
        now = deps.clock.now()
        start, end = feed_window(deps.config, now)
        try:
            approved = await deps.swaps.store.approved_between(start, end)
            ptos = await deps.swaps.store.ptos_between(start, end)
        except RedisError as exc:
            deps.metrics.redis_error("calendar")
            log.warning("calendar: redis unavailable: %s", exc)
            return Rejected(
                503, "the bot's state store (Redis) is not answering; retry later"
            ).response()
        events = build_events(deps.config, deps.calendar, now, approved, ptos, member)
        if member is None:
            title = "On call: team"
        else:
            title = f"On call: {deps.config.member(member).name} ({member})"
        body = to_ics(events, now, title, team=member is None)
        return web.Response(
            body=body,
            content_type=CONTENT_TYPE,
            charset="utf-8",
            headers={
                "Cache-Control": "private, no-cache",
                "Content-Disposition": f'inline; filename="{member or "team"}.ics"',
            },
        )

    return handle
