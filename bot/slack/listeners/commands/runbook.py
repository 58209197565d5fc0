"""`/runbook [pipeline]`: list the runbooks, or post one as a checklist in this channel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.runbook import Runbook
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply, extra_words
from bot.slack.blocks.runbook import runbook_list_reply
from bot.slack.listeners.commands.oncall_query import pipeline_prefix

LIST_WORDS = ("", "list", "help")
USAGE = "`/runbook [pipeline]`, e.g. `/runbook growth-agg`; `/runbook` alone lists them"


def resolve(deps: Deps, text: str) -> Runbook | Reply:
    """The runbook asked for, or the reply to give instead (the list, or an error)."""
    asked = text.strip()
    if asked.casefold() in LIST_WORDS:
        return runbook_list_reply(deps.config, deps.runbooks)
    words = asked.split()
    if words[0].casefold() in LIST_WORDS:
        return error_reply(extra_words(f"/runbook {words[0]}", words[1:], f"`/runbook {words[0]}`"))
    pipeline = find_pipeline(deps.config, asked)
    if pipeline is None:
        # `/runbook growth-agg now`: the pipeline was understood, the rest is extra.
        found, used = pipeline_prefix(deps.config, words)
        if found is not None:
            done = "/runbook " + " ".join(words[:used])
            return error_reply(extra_words(done, words[used:], USAGE))
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


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(ids.COMMAND_RUNBOOK)
    async def runbook(ack: AsyncAck, command: dict[str, Any]) -> None:
        found = resolve(deps, command.get("text", ""))
        if isinstance(found, Reply):
            await ack(**found.body())
            return
        await deps.checklists.start(
            found.slug,
            command["channel_id"],
            opened_by=command["user_id"],
            response_url=command.get("response_url"),
        )
        deps.waker.wake()
        # Nothing visible: the checklist itself appears in the channel a moment later.
        await ack()
