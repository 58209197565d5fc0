"""`/rca`: list, write (the template modal), assign, action items."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.rca_render import timeline_lines
from bot.services.rcas import RcaError
from bot.slack import ids
from bot.slack.blocks.common import Reply, error_reply, extra_words, section
from bot.slack.blocks.rca import HELP, actions_reply, list_reply, rca_modal

VALID = "`/rca`, `write`, `assign`, `actions`, `done`, `help`"
# Each subcommand's form and how many words it takes after it, for refusing the rest.
SUBCOMMANDS = {
    "help": ("`/rca help`", 0),
    "list": ("`/rca` (or `/rca list`)", 0),
    "actions": ("`/rca actions [all]`", 1),
    "write": ("`/rca write <incident>`, e.g. `/rca write INC-7`", 1),
    "assign": ("`/rca assign <incident> @member`, e.g. `/rca assign INC-7 @PR`", 2),
    "done": ("`/rca done <incident> <item>`, e.g. `/rca done INC-7 A2`", 2),
}
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def _initials(deps: Deps, word: str) -> str:
    """`<@U…>` as Slack sends a mention, else the word itself (`@PR`, `pr`)."""
    m = _MENTION.fullmatch(word)
    if m:
        member = deps.config.member_by_slack_id(m.group(1))
        return member.initials if member else word
    return word


def _usage(what: str, example: str) -> Reply:
    return error_reply(f"{what} Usage: `{example}`.")


async def answer(deps: Deps, user_id: str, text: str) -> Reply | str:
    """The reply, or an incident id when the template modal should open for it."""
    words = text.split()
    sub = words[0].casefold() if words else "list"
    args = words[1:]
    me = deps.config.member_by_slack_id(user_id)
    now = deps.clock.now()
    if sub == "actions" and args and args[0].casefold() != "all":
        return _usage(f"`{args[0][:40]}` is not `all`.", "/rca actions [all]")
    usage, takes = SUBCOMMANDS.get(sub, ("", len(args)))
    if len(args) > takes:
        done = " ".join(["/rca", *words[: takes + 1]])
        return error_reply(extra_words(done, args[takes:], usage))
    if sub == "help":
        return Reply(text=HELP, blocks=[section(HELP)])
    if sub == "list":
        return list_reply(deps.config, await deps.rcas.open_rcas(), now)
    if sub == "actions":
        if not args and me is None:
            return error_reply("You are not on the roster; `/rca actions all` lists everyone's.")
        owner = None if args else me.initials if me else None
        whose = "" if args else " of yours"
        return actions_reply(await deps.rcas.actions(owner), whose)
    if me is None:
        roster = ", ".join(m.initials for m in deps.config.members)
        return error_reply(f"Only members of the on-call roster ({roster}) can {sub} RCAs.")
    try:
        if sub == "write":
            if not args:
                return _usage("Say which incident's RCA to write.", "/rca write INC-7")
            return (await deps.rcas.to_write(args[0])).incident_id
        if sub == "assign":
            if len(args) != 2:
                return _usage("Say which RCA and to whom.", "/rca assign INC-7 @PR")
            rca = await deps.rcas.assign(args[0], _initials(deps, args[1]), me.initials)
            msg = f"{rca.incident_id}'s RCA is now owned by {rca.owner}; they are told by DM."
            return Reply(text=msg, blocks=[section(msg)])
        if sub == "done":
            if len(args) != 2:
                return _usage("Say which action item.", "/rca done INC-7 A2")
            rca, item = await deps.rcas.complete_action(args[0], args[1], me.initials)
            msg = f"Action item {rca.incident_id} A{item.id} is done: {item.text}"
            return Reply(text=msg, blocks=[section(msg)])
    except RcaError as exc:
        return error_reply(str(exc))
    return error_reply(f"`{words[0]}` is not an `/rca` subcommand. Valid: {VALID}.")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(ids.COMMAND_RCA)
    async def rca(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        result = await answer(deps, command["user_id"], command.get("text", ""))
        if isinstance(result, Reply):
            await ack(**result.body())
            return
        rca_ = await deps.rcas.get(result)
        assert rca_ is not None
        events = await deps.incidents.events(result)
        view = rca_modal(rca_, timeline_lines(events, rca_.tz))
        # The one Web API call allowed on the request path: a trigger_id expires in 3 s.
        await client.views_open(trigger_id=command["trigger_id"], view=view)
        await ack()
