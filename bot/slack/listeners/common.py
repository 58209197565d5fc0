"""What every listener shares: the acting member in `context`, one error handler, and one
way to answer a click (an ephemeral notice through the outbox, never a direct call)."""

from __future__ import annotations

import json
import logging
from typing import Any

from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.config.models import Member
from bot.deps import Deps
from bot.domain.notices import Ephemeral, HomeRefresh, MemberDM, Notice
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply

log = logging.getLogger(__name__)

STORE_DOWN = (
    "The bot's state store (Redis) is not answering, so nothing was changed. "
    "Try again in a minute; if it persists, tell #data-platform."
)
FAILED = (
    "Something went wrong on our side; the error is in the bot's log. Check the current state "
    "(`/oncall incidents`, `/swap list`) before trying again."
)


def member_of(context: AsyncBoltContext) -> Member | None:
    """The roster member acting, as put there by the middleware; None off the roster."""
    member = context.get("member")
    return member if isinstance(member, Member) else None


def actor_name(context: AsyncBoltContext) -> str:
    """Initials for a roster member, else their Slack ID (which never matches initials)."""
    member = member_of(context)
    return member.initials if member else str(context.get("user_id") or "")


def admit(deps: Deps, context: AsyncBoltContext, body: dict[str, Any]) -> BoltResponse | None:
    """Before any listener: note the roster member acting (member_of), and refuse command
    text longer than any command needs (bounded where it enters; nothing is echoed back).
    Returns the refusal, or None to go on."""
    user = context.get("user_id")
    context["member"] = deps.config.member_by_slack_id(str(user)) if user else None
    limit = deps.config.policy.limits.command_text
    text = body.get("text") if "command" in body else None
    if isinstance(text, str) and len(text) > limit:
        return _json(
            error_reply(
                f"That `{str(body['command'])[:32]}` text is {len(text):,} characters "
                f"long; commands take at most {limit:,}."
            ).body()
        )
    return None


def register_common(app: AsyncApp, deps: Deps) -> None:
    if deps.settings.app_token:
        # Socket Mode requests reach Bolt directly. Over HTTP, bot/server.py admits each
        # request before dispatching it: a Bolt middleware costs a tenth of the CPU of
        # answering `/oncall now` (issue #14), most of it Bolt building its arguments.
        @app.middleware
        async def acting_member(
            context: AsyncBoltContext, body: dict[str, Any], next: Any
        ) -> BoltResponse | None:
            refused = admit(deps, context, body)
            if refused is not None:
                return refused
            await next()
            return None

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        """Any listener failure: a specific ephemeral answer, never a crash or a spinner."""
        if isinstance(error, RedisError):
            deps.metrics.redis_error("request")
            log.warning("Redis unavailable while handling %s: %s", _what(body), error)
            message = STORE_DOWN
        else:
            log.exception("listener for %s failed", _what(body), exc_info=error)
            message = FAILED
        kind = body.get("type")
        if kind == "view_submission":
            # A modal has no response URL: an error beside its first field is all we can show.
            errors = {ids.BLOCK_SWAP_MEMBER: message[:150]}
            return _json({"response_action": "errors", "errors": errors})
        if kind == "block_actions":
            url = body.get("response_url")
            if url and not isinstance(error, RedisError):
                try:
                    await tell(deps, str(url), error_reply(message))
                except Exception:
                    log.warning("could not queue the error answer", exc_info=True)
            return BoltResponse(status=200, body="")
        return _json(error_reply(message).body())


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(body), headers={"content-type": "application/json"}
    )


def _what(body: dict[str, Any]) -> str:
    return str(body.get("command") or body.get("type") or "request")


async def tell(deps: Deps, response_url: str, reply: Reply) -> None:
    """Answer the person who clicked, only them, through the outbox."""
    notice = Ephemeral(response_url=response_url, text=reply.text, blocks=reply.blocks)
    await deps.outbox.enqueue([notice], deps.clock.now())
    deps.waker.wake()


async def answer_click(
    deps: Deps, body: dict[str, Any], context: AsyncBoltContext, reply: Reply
) -> None:
    """`tell`, for a button that may sit on the App Home tab, where Slack gives no response
    URL: the answer goes by DM (roster members only have one), and the tab is redrawn so
    that the stale button that caused it goes away."""
    url = body.get("response_url")
    if url:
        await tell(deps, str(url), reply)
        return
    notices: list[Notice] = []
    member = member_of(context)
    if member is not None:
        notices.append(MemberDM(member=member.initials, about="home tab", text=reply.text))
    user = context.get("user_id")
    if user:
        notices.append(HomeRefresh(user=str(user)))
    await deps.outbox.enqueue(notices, deps.clock.now())
    deps.waker.wake()
