"""What each Web API method the fake Slack serves answers, and the workspace state it answers
from: posted messages, the users.lookupByEmail directory, user groups, channels and topics."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.devtools.fakeslack_blocks import VIEW_METHODS


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _ts_key(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class SlackMethods:
    """The method handlers of FakeSlack, which declares this state as its dataclass fields
    (a dataclass ignores the annotations of a base that is not one)."""

    bot_user_id: str
    messages: dict[tuple[str, str], dict[str, Any]]
    users: dict[str, dict[str, Any]]
    usergroups: dict[str, dict[str, Any]]
    topics: dict[str, str]
    channels: dict[str, str]
    socket_url: str | None
    _last_ts_us: int

    def add_user(
        self, email: str, user_id: str, name: str | None = None, deleted: bool = False
    ) -> dict[str, Any]:
        """Register a workspace member for users.lookupByEmail (emails match case-blind).
        Once one is registered, unknown emails answer `users_not_found`."""
        user: dict[str, Any] = {
            "id": user_id,
            "name": name or email.split("@")[0],
            "real_name": name or email.split("@")[0],
            "deleted": deleted,
            "is_bot": False,
            "profile": {"email": email, "real_name": name or ""},
        }
        self.users[email.lower()] = user
        return user

    def add_usergroup(self, handle: str, users: Iterable[str] = ()) -> str:
        """Create a user group as an admin would; returns its id."""
        gid = f"S{len(self.usergroups) + 1:04d}{handle.upper().replace('-', '')[:6]}"
        self.usergroups[gid] = {"id": gid, "handle": handle, "name": handle, "users": list(users)}
        return gid

    def group_users(self, handle: str) -> list[str] | None:
        for group in self.usergroups.values():
            if group["handle"] == handle:
                return list(group["users"])
        return None

    def _next_ts(self) -> str:
        # Real time, so `oldest` filters work, but strictly increasing even within one µs.
        us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _usergroups(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "usergroups.list":
            groups = [
                {k: v for k, v in g.items() if k != "users" or _truthy(args.get("include_users"))}
                for g in self.usergroups.values()
            ]
            return {"ok": True, "usergroups": groups}
        if method == "usergroups.create":
            handle = str(args.get("handle") or args.get("name", ""))
            if self.group_users(handle) is not None:
                return {"ok": False, "error": "name_already_exists"}
            gid = self.add_usergroup(handle)
            self.usergroups[gid]["name"] = str(args.get("name", handle))
            return {"ok": True, "usergroup": self.usergroups[gid]}
        group = self.usergroups.get(str(args.get("usergroup")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        if method == "usergroups.users.update":
            members = [u for u in str(args.get("users", "")).split(",") if u]
            if not members:
                return {"ok": False, "error": "invalid_users"}  # Slack refuses an empty group
            group["users"] = members
            return {"ok": True, "usergroup": group}
        return {"ok": True, "users": list(group["users"])}

    def _metadata(self, message: dict[str, Any], include: bool) -> dict[str, Any]:
        return message if include else {k: v for k, v in message.items() if k != "metadata"}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        oldest, latest = _ts_key(args.get("oldest", "0")), _ts_key(args.get("latest", "inf"))
        limit = int(args.get("limit") or 100)
        found = [
            m
            for (ch, ts), m in self.messages.items()
            if ch == channel
            and m.get("thread_ts") in (None, "", ts)
            and (oldest is None or Decimal(ts) > oldest)
            and (latest is None or Decimal(ts) < latest)
        ]
        found.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
        include = _truthy(args.get("include_all_metadata"))
        # Slack pages with an opaque cursor; here it is simply the offset of the next page.
        start = int(str(args.get("cursor") or "0") or 0)
        page = [self._metadata(m, include) for m in found[start : start + limit]]
        more = len(found) > start + limit
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        parent = self.messages.get((channel, ts))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        oldest = _ts_key(args.get("oldest", "0"))
        replies = [
            m
            for (ch, m_ts), m in self.messages.items()
            if ch == channel
            and m_ts != ts
            and m.get("thread_ts") == ts
            and (oldest is None or Decimal(m_ts) > oldest)
        ]
        replies.sort(key=lambda m: Decimal(m["ts"]))
        include = _truthy(args.get("include_all_metadata"))
        # Like Slack, the parent comes first whatever `oldest` says.
        thread = [self._metadata(m, include) for m in [parent, *replies]]
        return {"ok": True, "messages": thread, "has_more": False}

    def _lookup_by_email(self, email: str) -> dict[str, Any]:
        if not email:
            return {"ok": False, "error": "invalid_arguments"}
        if self.users:
            user = self.users.get(email.lower())
            if user is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": user}
        user_id = "U" + re.sub(r"[^A-Z0-9]", "", email.split("@")[0].upper())
        return {"ok": True, "user": {"id": user_id, "profile": {"email": email}}}

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://oncall.slack.example/",
                "team": "oncall",
                "user": "oncall-bot",
                "team_id": "T0ONCALL",
                "user_id": self.bot_user_id,
                "bot_id": "B0ONCALLBOT",
            }
        if method == "chat.postMessage":
            channel = str(args.get("channel"))
            ts = self._next_ts()
            message = {**args, "ts": ts, "user": self.bot_user_id, "type": "message"}
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = {**self.messages[key], **args}
            return {"ok": True, "channel": key[0], "ts": key[1]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.history":
            return self._history(args)
        if method == "conversations.replies":
            return self._replies(args)
        if method == "conversations.open":
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method == "conversations.setTopic":
            self.topics[str(args.get("channel"))] = str(args.get("topic", ""))
            topic = {"value": str(args.get("topic", "")), "creator": self.bot_user_id}
            return {"ok": True, "channel": {"id": args.get("channel"), "topic": topic}}
        if method == "conversations.list":
            listed = [{"id": cid, "name": name} for name, cid in self.channels.items()]
            return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.info":
            channel = str(args.get("channel"))
            topic = {"value": self.topics.get(channel, ""), "creator": ""}
            return {"ok": True, "channel": {"id": channel, "topic": topic}}
        if method == "users.lookupByEmail":
            return self._lookup_by_email(str(args.get("email", "")))
        if method.startswith("usergroups."):
            return self._usergroups(method, args)
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}
        if method in VIEW_METHODS:
            view = args.get("view") or {}
            return {"ok": True, "view": {**view, "id": "V0VIEW"}}
        if method == "chat.getPermalink":
            # Slack's form: the ts without its dot.
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "permalink": f"https://oncall.slack.example/archives/{args.get('channel')}/p{ts}",
            }
        return {"ok": True}
