"""`/page <pipeline> [sev1|sev2|sev3|sev4] <summary>`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.config.models import Pipeline, TeamConfig
from bot.deps import Deps
from bot.domain.incident import Severity
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.schedule import BeforeRotation
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply, section
from bot.slack.listeners.common import member_of

USAGE = (
    "Usage: `/page <pipeline> [sev1|sev2|sev3|sev4] <summary>`, "
    "e.g. `/page growth-agg sev1 DAU table is 2 h late`."
)


class PageArgs:
    def __init__(self, pipeline: Pipeline, severity: Severity, summary: str) -> None:
        self.pipeline, self.severity, self.summary = pipeline, severity, summary


def parse_page(cfg: TeamConfig, text: str) -> PageArgs | str:
    """The parsed arguments, or an error message saying what is wrong and what is valid."""
    words = text.split()
    if not words:
        return f"Which pipeline? {USAGE}"
    # The pipeline may be several words (`growth agg`): take the longest prefix that names one.
    pipeline, cut = None, 0
    for cut in range(min(3, len(words)), 0, -1):
        pipeline = find_pipeline(cfg, " ".join(words[:cut]))
        if pipeline is not None:
            break
    if pipeline is None:
        return unknown_pipeline_message(cfg, words[0]) + " " + USAGE
    rest = words[cut:]
    severity = Severity.SEV2
    if rest and rest[0].casefold() in {s.value for s in Severity}:
        severity = Severity(rest[0].casefold())
        rest = rest[1:]
    elif rest and rest[0].casefold().startswith("sev"):
        return f"Unknown severity `{rest[0]}`: use sev1, sev2, sev3 or sev4. {USAGE}"
    summary = " ".join(rest).strip()
    if not summary:
        return f"Say what is wrong, so whoever is paged knows where to start. {USAGE}"
    return PageArgs(pipeline, severity, summary[:500])


def _actor(context: AsyncBoltContext, user_id: str) -> str:
    member = member_of(context)
    return member.initials if member else f"<@{user_id}>"


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(ids.COMMAND_PAGE)
    async def page(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        parsed = parse_page(deps.config, command.get("text", ""))
        if isinstance(parsed, str):
            await ack(**error_reply(parsed).body())
            return
        now = deps.clock.now()
        try:
            created, incident_id = await deps.paging.page(
                parsed.pipeline,
                parsed.severity,
                parsed.summary,
                _actor(context, command["user_id"]),
                now,
            )
        except BeforeRotation as exc:
            await ack(**error_reply(f"Cannot page: {exc}.").body())
            return
        if created:
            text = (
                f":rotating_light: {incident_id} opened: paging the on-call for "
                f"{parsed.pipeline.name} in {parsed.pipeline.channel}."
            )
        else:
            text = (
                f"{parsed.pipeline.name} already has an open page, {incident_id}: your page "
                f"joined it (see {parsed.pipeline.channel})."
            )
        await ack(**Reply(text=text, blocks=[section(text)]).body())
