"""`POST /runs`: DAGs report their runs (the deadline watch's input). Bearer-token
authenticated, with the same token as `POST /alerts`, and guarded the same way: the token is
checked before the body is read or parsed, then size, encoding, nesting and numbers.

The body is one run report or an array of them (fields: bot.domain.runs.RunReport). Answers
200 when every report was taken, 207 when some were rejected (each with its index and every
problem it has), 400 when none could be taken, 401 on a wrong or missing token, 413 on too
many, 503 when Redis is down (the sender retries; storing a report twice is harmless).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from bot.config.models import TeamConfig
from bot.deps import Deps
from bot.domain.alerts import Rejected
from bot.domain.names import find_pipeline, unknown_pipeline_message
from bot.domain.runs import RunReport, describe_errors
from bot.http_guard import Rejected as Refused
from bot.http_guard import RejectionLog, parse_json, read_body, utf8, verify_bearer
from bot.services.runs import RunRejected

log = logging.getLogger(__name__)

MAX_RUNS = 1000  # per body; a backfill reports in batches
FIELDS = ", ".join(RunReport.model_fields)


def _explain(exc: ValidationError) -> str:
    said = describe_errors(exc)
    if any(e["type"] == "extra_forbidden" for e in exc.errors()):
        # A misspelt field is the likeliest cause: name the ones there are.
        said += f" (fields: {FIELDS})"
    return said


def parse_runs(body: Any, cfg: TeamConfig) -> tuple[list[tuple[int, RunReport]], list[Rejected]]:
    """Every valid report of a body (with its index, pipeline named by slug), and why each
    invalid one was rejected. One bad entry never drops the rest."""
    if isinstance(body, dict):
        entries = [body]
    elif isinstance(body, list):
        entries = body
    else:
        return [], [Rejected(index=0, error="body must be a run report (object) or an array")]
    if not entries:
        return [], [Rejected(index=0, error="body holds no run reports")]
    runs: list[tuple[int, RunReport]] = []
    rejected: list[Rejected] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            rejected.append(Rejected(index=i, error="each run report must be a JSON object"))
            continue
        try:
            run = RunReport.model_validate(entry)
        except ValidationError as exc:
            rejected.append(Rejected(index=i, error=_explain(exc)))
            continue
        pipeline = find_pipeline(cfg, run.pipeline)
        if pipeline is None:
            rejected.append(Rejected(index=i, error=unknown_pipeline_message(cfg, run.pipeline)))
            continue
        runs.append((i, run.model_copy(update={"pipeline": pipeline.slug})))
    return runs, rejected


def runs_handler(deps: Deps, rejections: RejectionLog) -> Any:
    async def handle(request: web.Request) -> web.Response:
        size = request.content_length or 0
        try:
            verify_bearer(deps.settings.alerts_token, request.headers)
            raw = await read_body(request)
            size = len(raw)
            body = parse_json(utf8(raw))
            if isinstance(body, list) and len(body) > MAX_RUNS:
                raise Refused(413, f"{len(body)} run reports in one body; at most {MAX_RUNS}")
        except Refused as no:
            rejections.note(request.path, no.status, no.reason, size)
            return no.response()
        runs, rejected = parse_runs(body, deps.config)
        accepted: list[dict[str, Any]] = []
        now = deps.clock.now()
        for index, run in runs:
            try:
                done = await deps.runs.record(run, now)
            except RunRejected as exc:
                rejected.append(Rejected(index=index, error=str(exc)))
                continue
            except RedisError as exc:
                deps.metrics.redis_error("runs")
                log.warning("runs: redis unavailable: %s", exc)
                return web.json_response(
                    {
                        "ok": False,
                        "error": "the bot's state store (Redis) is not answering; retry later",
                        "accepted": accepted,
                    },
                    status=503,
                )
            accepted.append(
                {
                    "index": index,
                    "pipeline": run.pipeline,
                    "run_id": run.run_id,
                    "status": run.status.value,
                    "stored": done.stored,
                    "detail": done.detail,
                    "incident": done.incident,
                    "closed": done.closed,
                    "deadline": done.deadline,
                }
            )
        errors = [r.model_dump() for r in sorted(rejected, key=lambda r: r.index)]
        status = 200 if not errors else (207 if accepted else 400)
        return web.json_response(
            {"ok": not errors, "accepted": accepted, "rejected": errors}, status=status
        )

    return handle
