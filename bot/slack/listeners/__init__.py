"""Every listener, registered explicitly on the app it is given."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners.actions import checklist
from bot.slack.listeners.commands import oncall, runbook


def register_all(app: AsyncApp, deps: Deps) -> None:
    oncall.register(app, deps, extra={})
    runbook.register(app, deps)
    checklist.register(app, deps)
