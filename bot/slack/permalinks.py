"""Links to posted messages, for the DMs that point at their page.

Slack's chat.getPermalink answers `<workspace URL>/archives/<channel>/p<ts without its dot>`.
A DM folding 20 pages asked for 20 links one after the other: 20 Slack calls before the DM
could go, and a fifth of delivery's CPU in an alert storm (issue #14). So the first answer of
exactly that form teaches the workspace URL and later links are built from it; an answer of
any other form is used as given and teaches nothing, and each link is then asked for.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# Links kept in memory: a page's DMs at each rung link to the same message.
KEPT = 1000


def _path(channel: str, ts: str) -> str:
    return f"/archives/{channel}/p{ts.replace('.', '')}"


class Permalinks:
    def __init__(self, client: AsyncWebClient, kept: int = KEPT) -> None:
        self.client = client
        self.kept = kept
        self.base: str | None = None  # the workspace URL, once an answer showed it
        self._links: dict[tuple[str, str], str] = {}
        self.asked = 0  # chat.getPermalink calls made

    async def get(self, channel: str, ts: str) -> str | None:
        """The message's permalink; None when Slack will not say (the caller then names
        the channel only: a page never waits on its link)."""
        if self.base is not None:
            return self.base + _path(channel, ts)
        link = self._links.get((channel, ts))
        if link is not None:
            return link
        try:
            self.asked += 1
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("no permalink for %s %s: %r", channel, ts, exc)
            return None
        got = resp.get("permalink")
        if not isinstance(got, str) or not got:
            return None
        if got.endswith(_path(channel, ts)) and got.startswith("https://"):
            self.base = got[: -len(_path(channel, ts))]
            self._links.clear()
            return got
        if len(self._links) >= self.kept:
            self._links.pop(next(iter(self._links)))
        self._links[(channel, ts)] = got
        return got
