"""Deliver a HomeRefresh: draw the person's Home tab from current state and publish it.

views.publish replaces the whole tab, so it is idempotent and needs no sent-once check;
Slack keeps one Home per user and app, so no id has to be stored either.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.config.models import TeamConfig
from bot.services.home import HomeService
from bot.slack.blocks.home import home_view
from bot.slack.slackout import SlackOut

log = logging.getLogger(__name__)

METHOD = "views.publish"
# Answers no retry changes (the tab is off in the app's settings, the person is gone, the
# view was refused): the next change or visit draws the tab afresh anyway, so drop it.
GIVE_UP = frozenset({"invalid_arguments", "not_enabled", "user_not_found", "account_inactive"})


async def publish_home(out: SlackOut, home: HomeService, config: TeamConfig, user: str) -> None:
    # Paced like the edits of one message: during an alert storm every rung would redraw the
    # tab of whoever it pages, and each draw reads every open incident. A Retry-After from
    # an earlier publish to this person holds this one back too, without holding a worker.
    every = out.pacing.update_every
    await out.pace(f"{METHOD}:{user}", f"{METHOD}:{user}", 1 / every if every else 0, 1)
    view = home_view(await home.gather(user, out.now()), config)
    try:
        await out.client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        if exc.response.status_code == 429:
            raise await out.blocked(METHOD, user, exc) from exc
        code = str(exc.response.get("error", ""))
        if code in GIVE_UP:
            log.warning("home tab for %s not published: Slack says %s", user, code)
            return
        raise
    log.info("home tab published for %s", user)
