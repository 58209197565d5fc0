"""`/oncall runs <pipeline> [days]`: a pipeline's deliveries against its deadline, by day."""

from __future__ import annotations

from bot.deps import Deps
from bot.domain.names import unknown_pipeline_message
from bot.domain.timefmt import plural
from bot.slack.blocks.common import Reply, error_reply, extra_words
from bot.slack.blocks.runs import history_reply
from bot.slack.listeners.commands.oncall_query import pipeline_prefix
from bot.store.runs import KEEP

USAGE = "`/oncall runs <pipeline> [days]`, e.g. `/oncall runs growth-agg` (the last 7 days)"
DEFAULT_DAYS = 7
# Older runs are not kept, so more days could only show "no run".
MAX_DAYS = KEEP.days


async def runs(deps: Deps, user_id: str, args: str) -> Reply:
    words = args.split()
    valid = ", ".join(f"`{p.slug}`" for p in deps.config.pipelines)
    if not words:
        return error_reply(f"Say which pipeline: {USAGE}. Pipelines: {valid}.")
    pipeline, used = pipeline_prefix(deps.config, words)
    if pipeline is None:
        name = " ".join(words[:-1] if len(words) > 1 and words[-1].isdecimal() else words)
        return error_reply(unknown_pipeline_message(deps.config, name))
    rest = words[used:]
    days = DEFAULT_DAYS
    if rest and rest[0].isdecimal():
        days = int(rest[0]) if len(rest[0]) <= 6 else MAX_DAYS + 1
        if not 1 <= days <= MAX_DAYS:
            return error_reply(
                f"Show 1 to {MAX_DAYS} days (runs are kept {plural(MAX_DAYS, 'day')}), "
                f"not {days}: {USAGE}."
            )
        used += 1
    if used < len(words):
        done = "/oncall runs " + " ".join(words[:used])
        return error_reply(extra_words(done, words[used:], USAGE))
    if pipeline.deadline is None:
        return error_reply(
            f"{pipeline.name} has no delivery deadline in schedules/pipelines.toml, so its "
            "runs are not judged. Add `deadline = 06:30:00` (daily) or a rolling "
            '`deadline = { max_gap = "15m" }` to its entry.'
        )
    now = deps.clock.now()
    history = await deps.runs.history(pipeline, days, now)
    return history_reply(deps.config, pipeline, history, now)
