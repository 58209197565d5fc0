"""Every listener, registered explicitly on the app it is given."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners.actions import checklist
from bot.slack.listeners.actions import page as page_actions
from bot.slack.listeners.commands import oncall, page, runbook
from bot.slack.listeners.commands.incidents import incidents


def register_all(app: AsyncApp, deps: Deps) -> None:
    oncall.register(app, deps, extra={"incidents": incidents})
    page.register(app, deps)
    page_actions.register(app, deps)
    runbook.register(app, deps)
    checklist.register(app, deps)
