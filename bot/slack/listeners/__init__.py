"""Every listener, registered explicitly on the app it is given."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners.actions import checklist
from bot.slack.listeners.actions import handover as handover_actions
from bot.slack.listeners.actions import page as page_actions
from bot.slack.listeners.actions import swap as swap_actions
from bot.slack.listeners.commands import handover as handover_command
from bot.slack.listeners.commands import incidents as incidents_command
from bot.slack.listeners.commands import oncall, page, pto, rca, runbook, suppress, swap
from bot.slack.listeners.commands.incidents import incidents
from bot.slack.listeners.commands.runs import runs
from bot.slack.listeners.common import register_common
from bot.slack.listeners.events import home as home_events
from bot.slack.listeners.views import rca as rca_views
from bot.slack.listeners.views import status as status_views
from bot.slack.listeners.views import swap as swap_views

# `/oncall <word> …` subcommands of other features; module-level so the help's
# completeness test sees exactly what is registered.
EXTRA: dict[str, oncall.Subcommand] = {
    "handover": handover_command.preview,
    "incidents": incidents,
    "pto": pto.answer,
    "runs": runs,
    "suppress": suppress.suppress,
    "suppressions": suppress.suppressions,
    "unsuppress": suppress.unsuppress,
}


def register_all(app: AsyncApp, deps: Deps) -> None:
    register_common(app, deps)
    oncall.register(app, deps, extra=EXTRA)
    page.register(app, deps)
    page_actions.register(app, deps)
    incidents_command.register(app, deps)
    handover_actions.register(app, deps)
    status_views.register(app, deps)
    runbook.register(app, deps)
    checklist.register(app, deps)
    swap.register(app, deps)
    swap_actions.register(app, deps)
    swap_views.register(app, deps)
    rca.register(app, deps)
    rca_views.register(app, deps)
    home_events.register(app, deps)
