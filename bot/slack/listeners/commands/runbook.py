"""`/runbook [pipeline]`: list the runbooks, or post one as a checklist in this channel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.runbook import Runbook
from bot.services.checklists import open_checklist
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply
from bot.slack.blocks.runbook import runbook_list_reply
from bot.slack.listeners.guard import guarded

LIST_WORDS = ("", "list", "help")


def resolve(deps: Deps, text: str) -> Runbook | Reply:
    """The runbook asked for, or the reply to give instead (the list, or an error)."""
    asked = text.strip()
    if asked.casefold() in LIST_WORDS:
        return runbook_list_reply(deps.config, deps.runbooks)
    pipeline = find_pipeline(deps.config, asked)
    if pipeline is None:
        return error_reply(
            f"{unknown_pipeline_message(deps.config, asked)} `/runbook` alone lists the runbooks."
        )
    runbook = deps.runbooks.get(pipeline.slug)
    if runbook is None:
        loaded = ", ".join(f"`{slug}`" for slug in deps.runbooks) or "none"
        return error_reply(
            f"No runbook is loaded for `{pipeline.slug}` (expected `{pipeline.slug}.md` in the "
            f"runbooks directory; `oncall-bot check` finds the problem). Loaded: {loaded}."
        )
    return runbook


def cannot_post(error: SlackApiError) -> str:
    code = error.response.get("error", "unknown_error")
    if code in ("not_in_channel", "channel_not_found"):
        return (
            f"I can't post in this channel (`{code}`): invite me with `/invite @oncall-bot`, "
            "or run `/runbook` in a channel I'm in."
        )
    return f"Slack refused to post the checklist (`{code}`), so it was not saved. Try again."


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(ids.COMMAND_RUNBOOK)
    @guarded
    async def runbook(ack: Any, command: dict[str, Any], respond: Any, client: Any) -> None:
        found = resolve(deps, command.get("text", ""))
        if isinstance(found, Reply):
            await ack(**found.body())
            return
        # Posting takes several Slack calls; ack first so Slack's 3-second limit is never hit.
        await ack()
        try:
            await open_checklist(
                deps, client, found.slug, command["channel_id"], opened_by=command["user_id"]
            )
        except SlackApiError as exc:
            reply = error_reply(cannot_post(exc))
            await respond(**reply.body(), replace_original=False)
