"""`POST /alerts`: monitoring opens or joins incidents. Bearer-token authenticated.

Answers 200 when every alert was taken, 207 when some were rejected (each with its reason),
400 when none could be taken, 401 on a wrong or missing token, 503 when Redis is down.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.deps import Deps
from bot.domain.alerts import Rejected, parse_alerts
from bot.domain.schedule import BeforeRotation

log = logging.getLogger(__name__)


def alerts_handler(deps: Deps) -> Any:
    async def handle(request: web.Request) -> web.Response:
        token = deps.settings.alerts_token
        given = request.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.json_response(
                {"ok": False, "error": "missing or wrong bearer token (ALERTS_TOKEN)"}, status=401
            )
        try:
            body = json.loads(await request.text())
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            return web.json_response({"ok": False, "error": f"body is not JSON: {exc}"}, status=400)
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
