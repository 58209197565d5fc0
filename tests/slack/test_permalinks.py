"""Page links: asked of Slack once, then built in Slack's own form (bot/slack/permalinks.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.permalinks import Permalinks


class Answers:
    """Stands in for the Web API client: answers chat.getPermalink with `link(channel, ts)`."""

    def __init__(self, link: Callable[[str, str], str]) -> None:
        self.link = link
        self.calls: list[tuple[str, str]] = []

    async def chat_getPermalink(self, channel: str, message_ts: str) -> dict[str, Any]:
        self.calls.append((channel, message_ts))
        return {"ok": True, "permalink": self.link(channel, message_ts)}


def slack_form(channel: str, ts: str) -> str:
    return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def other_form(channel: str, ts: str) -> str:
    return f"https://links.example/{channel}/{ts}"


async def test_links_are_built_once_an_answer_shows_slacks_form() -> None:
    answers = Answers(slack_form)
    links = Permalinks(cast(AsyncWebClient, answers))
    assert await links.get("C1", "1.000002") == "https://acme.slack.com/archives/C1/p1000002"
    assert await links.get("C9", "2.000003") == "https://acme.slack.com/archives/C9/p2000003"
    assert answers.calls == [("C1", "1.000002")]
    assert links.base == "https://acme.slack.com"


async def test_an_answer_of_another_form_is_used_as_given_and_each_link_asked_once() -> None:
    answers = Answers(other_form)
    links = Permalinks(cast(AsyncWebClient, answers))
    assert await links.get("C1", "1.000002") == "https://links.example/C1/1.000002"
    assert await links.get("C1", "1.000002") == "https://links.example/C1/1.000002"
    assert await links.get("C9", "2.000003") == "https://links.example/C9/2.000003"
    assert answers.calls == [("C1", "1.000002"), ("C9", "2.000003")]
    assert links.base is None
