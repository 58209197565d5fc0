"""Every listener, registered explicitly on the app it is given."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners.actions import swap as swap_actions
from bot.slack.listeners.commands import oncall, pto, swap
from bot.slack.listeners.views import swap as swap_views


def register_all(app: AsyncApp, deps: Deps) -> None:
    oncall.register(app, deps, extra={"pto": pto.answer})
    swap.register(app, deps)
    swap_actions.register(app, deps)
    swap_views.register(app, deps)
