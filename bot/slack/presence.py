"""Deliver a `PresenceSync`: make a user group or the team channel's topic match the
schedule as it stands now (bot/services/presence.py decides when).

Read, compare, write: Slack is changed only where it differs, so a repair or a retried sync
costs one read, and a group edited by hand is put back. Group and channel ids are looked up
once per process (they never change for a handle or a channel name).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.notices import PresenceSync
from bot.services.presence import PresenceService

log = logging.getLogger(__name__)


class PresenceSender:
    def __init__(self, client: AsyncWebClient, presence: PresenceService) -> None:
        self.client = client
        self.presence = presence
        self._groups: dict[str, str] = {}
        self._channels: dict[str, str] = {}

    async def sync(self, notice: PresenceSync) -> None:
        desired = await self.presence.desired(notice.target, self.presence.clock.now())
        if desired is None:
            return  # before the rotation starts there is nobody to show
        if isinstance(desired, str):
            await self._topic(desired)
        else:
            await self._group(self.presence.handle(notice.target), desired)

    async def _group(self, handle: str, users: list[str]) -> None:
        gid = await self._group_id(handle)
        current = await self.client.usergroups_users_list(usergroup=gid)
        if sorted(current.get("users") or []) == sorted(users):
            return
        await self.client.usergroups_users_update(usergroup=gid, users=",".join(users))
        log.info("@%s set to %s", handle, ", ".join(users))

    async def _group_id(self, handle: str) -> str:
        if handle in self._groups:
            return self._groups[handle]
        listed = await self.client.usergroups_list(include_disabled=True)
        groups: list[dict[str, Any]] = listed.get("usergroups") or []
        found = next((g for g in groups if g.get("handle") == handle), None)
        if found is None:
            # Created on first use, so a new workspace needs no manual step.
            created = await self.client.usergroups_create(name=handle, handle=handle)
            found = created["usergroup"]
            log.info("created user group @%s", handle)
        elif found.get("date_delete"):
            await self.client.usergroups_enable(usergroup=found["id"])
        self._groups[handle] = str(found["id"])
        return self._groups[handle]

    async def _topic(self, text: str) -> None:
        channel = await self._channel_id(self.presence.config.policy.team_channel)
        info = await self.client.conversations_info(channel=channel)
        if ((info.get("channel") or {}).get("topic") or {}).get("value") == text:
            return
        await self.client.conversations_setTopic(channel=channel, topic=text)
        log.info("topic of %s set: %s", channel, text)

    async def _channel_id(self, name: str) -> str:
        """conversations.setTopic takes an id, while the policy names `#data-platform`."""
        bare = name.lstrip("#")
        if bare in self._channels:
            return self._channels[bare]
        cursor: str | None = None
        while True:
            page = await self.client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for ch in page.get("channels") or []:
                self._channels[str(ch.get("name"))] = str(ch.get("id"))
            if bare in self._channels:
                return self._channels[bare]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                # Not a channel the token can see: the sync is dropped with this reason.
                raise LookupError(f"channel {name} not found (is the bot a member?)")
