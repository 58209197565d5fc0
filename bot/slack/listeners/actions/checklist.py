"""A click on a checklist's checkboxes: merge it into the run; the redraw is queued with it.
Someone paged who works the checklist without ACKing is reminded that the page escalates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.domain.checklist import ChecklistNotFound, ChecklistRun, selection_change
from bot.domain.incident import Mode, Status
from bot.slack import ids
from bot.slack.blocks.common import Reply, actions, button, error_reply, section
from bot.slack.blocks.runbook import run_id_of
from bot.slack.listeners.common import tell

REFRESH = "Scroll to the checklist's latest version, or start a new one with `/runbook <pipeline>`."


class ClickError(ValueError):
    pass


class Click(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    shown: frozenset[int]
    selected: frozenset[int]
    offered: frozenset[int]


def _numbers(options: Any) -> frozenset[int]:
    values = (str(o.get("value", "")) for o in options or [] if isinstance(o, dict))
    return frozenset(int(v) for v in values if v.isdecimal())


def read_click(body: dict[str, Any], action: dict[str, Any]) -> Click:
    """What the user's message showed for the clicked group, and what they selected now."""
    block = str(action.get("block_id", ""))
    run_id = run_id_of(block)
    if run_id is None:
        raise ClickError(f"That checkbox is not part of a checklist I know. {REFRESH}")
    message = body.get("message")
    if not isinstance(message, dict):
        raise ClickError(f"Slack did not say which message you clicked. {REFRESH}")
    for candidate in message.get("blocks") or []:
        if candidate.get("block_id") != block:
            continue
        for element in candidate.get("elements") or []:
            if element.get("action_id") == ids.CHECKLIST_TICK:
                return Click(
                    run_id=run_id,
                    shown=_numbers(element.get("initial_options")),
                    selected=_numbers(action.get("selected_options")),
                    offered=_numbers(element.get("options")),
                )
    raise ClickError(f"I could not find the checklist you clicked in its message. {REFRESH}")


async def unacked_hint(deps: Deps, run: ChecklistRun, user_id: str) -> Reply | None:
    """An ACK button for someone paged for the run's incident who ticks its checklist while
    nobody ACKed it: working it is not ACKing it, and the page goes on to the next rung."""
    member = deps.config.member_by_slack_id(user_id)
    if run.incident_id is None or member is None:
        return None
    stored = await deps.paging.stored(run.incident_id)
    if stored is None:
        return None
    inc = stored.incident
    if inc.mode is not Mode.PAGE or inc.status is not Status.TRIGGERED:
        return None
    if member.initials not in {p.member for p in inc.paged}:
        return None
    text = f"{inc.id} is not ACKed yet: it keeps escalating."
    ack = button("ACK", ids.ACTION_PAGE_ACK, inc.id, "primary")
    return Reply(text=text, blocks=[section(text), actions(ids.PAGE_ACTIONS_BLOCK, ack)])


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ids.CHECKLIST_TICK)
    async def tick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        url = str(body.get("response_url", ""))
        try:
            click = read_click(body, action)
            change = selection_change(click.shown, click.selected, click.offered)
            user_id = body["user"]["id"]
            run = await deps.checklists.record_click(click.run_id, change, user_id)
            deps.waker.wake()
            # An answer to this click, not a consequence of the tick: a tick saved without
            # it (a crash in between) loses nothing the incident needs.
            hint = await unacked_hint(deps, run, str(user_id)) if url else None
            if hint is not None:
                await tell(deps, url, hint)
        except ClickError as exc:
            await tell(deps, url, error_reply(str(exc)))
        except ChecklistNotFound as exc:
            days = deps.config.policy.retention.days
            message = (
                f"Checklist `{exc.run_id}` is no longer stored (runs are kept {days} days after "
                "the last tick), so the tick was not saved. Start a new one with "
                "`/runbook <pipeline>`."
            )
            await tell(deps, url, error_reply(message))
        await ack()
