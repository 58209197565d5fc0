"""Keep a listener's failure from becoming a crash or a silent spinner in Slack."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError

from bot.slack.blocks.common import error_reply

log = logging.getLogger(__name__)

STORE_DOWN = (
    "The bot's state store (Redis) is not answering, so nothing was changed. "
    "Try again in a minute; if it persists, tell #data-platform."
)

FAILED = (
    "Something went wrong on our side; the error is in the bot's log. Check the current state "
    "(`/oncall incidents`, `/swap list`) before trying again."
)

Listener = Callable[..., Awaitable[None]]


def guarded(fn: Listener) -> Listener:
    """Answer any failure with a specific ephemeral error; ack if the listener had not yet.

    Bolt finds listener arguments by name through `__wrapped__`, so `functools.wraps` keeps
    injection working; the wrapped listener must take `ack` and `respond`.
    """

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> None:
        ack = kwargs["ack"]
        try:
            await fn(**kwargs)
        except RedisError:
            log.warning("redis unavailable in %s", fn.__name__, exc_info=True)
            await _tell(ack, kwargs["respond"], STORE_DOWN)
        except Exception:
            log.exception("listener %s failed", fn.__name__)
            await _tell(
                ack,
                kwargs["respond"],
                FAILED,
            )

    return wrapper


async def _tell(ack: Any, respond: Any, message: str) -> None:
    reply = error_reply(message)
    if not getattr(ack, "response", None):
        await ack(**reply.body())
        return
    try:
        await respond(
            text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
        )
    except Exception:
        log.exception("could not tell the user about the failure")
