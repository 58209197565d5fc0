"""`POST /alerts`: monitoring opens or joins incidents. Bearer-token authenticated.

Answers 200 when every alert was taken, 207 when some were rejected (each with its reason),
400 when none could be taken, 401 on a wrong or missing token, 503 when Redis is down.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.deps import Deps
from bot.domain.alerts import Rejected, parse_alerts
from bot.domain.schedule import BeforeRotation
from bot.http_guard import Rejected as Refused
from bot.http_guard import RejectionLog, parse_json, read_body, utf8, verify_bearer

log = logging.getLogger(__name__)


MAX_ALERTS = 1000  # per body; Alertmanager groups far fewer


def alerts_handler(deps: Deps, rejections: RejectionLog) -> Any:
    async def handle(request: web.Request) -> web.Response:
        size = request.content_length or 0
        try:
            verify_bearer(deps.settings.alerts_token, request.headers)
            raw = await read_body(request)
            size = len(raw)
            body = parse_json(utf8(raw))
            items = body.get("alerts") if isinstance(body, dict) else body
            if isinstance(items, list) and len(items) > MAX_ALERTS:
                raise Refused(413, f"{len(items)} alerts in one body; at most {MAX_ALERTS}")
        except Refused as no:
            rejections.note(request.path, no.status, no.reason, size)
            return no.response()
        alerts, rejected = parse_alerts(body, deps.config)
        accepted: list[dict[str, Any]] = []
        now = deps.clock.now()
        for index, alert in alerts:
            try:
                outcome = await deps.paging.ingest(alert, now)
            except BeforeRotation as exc:
                rejected.append(Rejected(index=index, error=f"cannot page: {exc}"))
                continue
            except RedisError as exc:
                # 503 so that the sender (Alertmanager) retries; alerts already taken would
                # join their incidents again, which is harmless.
                deps.metrics.redis_error("alerts")
                log.warning("alerts: redis unavailable: %s", exc)
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
                    "pipeline": alert.pipeline,
                    "signal": alert.signal.value,
                    "incident": outcome.incident_id,
                    "created": outcome.created,
                    "mode": outcome.mode.value if outcome.mode else None,
                    "detail": outcome.detail,
                }
            )
        errors = [r.model_dump() for r in sorted(rejected, key=lambda r: r.index)]
        status = 200 if not errors else (207 if accepted else 400)
        return web.json_response(
            {"ok": not errors, "accepted": accepted, "rejected": errors}, status=status
        )

    return handle
