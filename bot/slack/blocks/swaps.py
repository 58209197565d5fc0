"""Messages and the modal for `/swap`, swap decisions, PTO and conflict reminders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from bot.config.models import TeamConfig
from bot.domain.pto import Conflict, ExchangeNote, Pto
from bot.domain.schedule import Segment, swap_note
from bot.domain.swaps import Swap, SwapStatus, Window, describe_window, window_forms
from bot.domain.timefmt import period, plural, zone_label
from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    Reply,
    actions,
    button,
    context,
    header,
    person,
    section,
    sections,
)

# How a request reads to the person asked, in its DM and on their Home tab alike.
IF_YOU_HOLD_THE_OTHER = (
    "If you hold the other role then, the two of you exchange roles; otherwise you take theirs."
)

_HELP = (
    "*`/swap`* — hand your on-call shift to someone, with their approval",
    "• `/swap @member <window>` — ask @member to take your role (Primary or Backup) for "
    "the window; if they hold the other role you exchange roles, e.g. "
    "`/swap @CW 2025-09-03`",
    "• `/swap @member <window> for <window>` — an exchange of shifts: you take theirs "
    "in return, e.g. `/swap @CW 2025-09-03 for 2025-09-10`",
    "• `/swap` — the same, in a form",
    "• `/swap list` — pending and upcoming swaps",
    "• `/swap cancel <id>` — withdraw your request (or an approved swap not yet started), "
    "e.g. `/swap cancel 12`",
    "• `/swap help` — this message",
    "• `/oncall pto <window>` — record your leave; if you are on call then, you are "
    "reminded to arrange a swap",
)


def help_text(cfg: TeamConfig) -> str:
    """`/swap help`; the windows it accepts are named in the rotation's zone."""
    return "\n".join([*_HELP, f"Windows: {window_forms(cfg.zone)}."])


def _windows(cfg: TeamConfig, swap: Swap) -> str:
    tz = cfg.zone
    text = f"*{describe_window(swap.window, tz)}*"
    if swap.back is not None:
        text += f", and you take their role on *{describe_window(swap.back, tz)}* in return"
    return text


def help_reply(cfg: TeamConfig, prefix: str | None = None) -> Reply:
    text = f"{prefix}\n\n{help_text(cfg)}" if prefix else help_text(cfg)
    return Reply(text=text, blocks=sections(text))


def _role_window(cfg: TeamConfig, roles: Sequence[str], window: Window) -> str:
    """`Primary, Wed 3 Sep 2025, 00:00–24:00 IST`: what is asked, exactly."""
    held = " and ".join(roles)
    when = period(window.start, window.end, cfg.zone)
    return f"{held}, {when}" if held else when


def pto_warning(cfg: TeamConfig, ptos: Sequence[Pto], who: str = "You have") -> str:
    """`You have PTO #2 then (…).`: a request that would put someone on call on leave."""
    if not ptos:
        return ""
    items = ", ".join(f"#{p.id} ({period(p.start, p.end, cfg.zone)})" for p in ptos)
    return f"⚠ {who} PTO {items} then."


def requested_reply(cfg: TeamConfig, swap: Swap, ptos: Sequence[Pto] = ()) -> Reply:
    """To the requester; `ptos`: the counterpart's PTO in the window, which they are warned of."""
    text = (
        f"Asked {person(cfg, swap.counterpart)} to take your on-call role for "
        f"{_windows(cfg, swap)} (swap #{swap.id}). You will hear when they answer; "
        f"`/swap cancel {swap.id}` withdraws it. Unanswered, it expires when the window starts."
    )
    warning = pto_warning(cfg, ptos, f"{swap.counterpart} has")
    if warning:
        text += f"\n{warning}"
    return Reply(text=text, blocks=[section(text)])


def request_dm(
    cfg: TeamConfig,
    swap: Swap,
    roles: Sequence[str] = (),
    back_roles: Sequence[str] = (),
    ptos: Sequence[Pto] = (),
) -> Reply:
    """To the counterpart: the only message with Approve/Decline for this swap. `roles`
    (`back_roles`): what the requester hands over (takes back); `ptos`: the counterpart's
    PTO in the window, so nobody approves a shift in their own leave unawares."""
    ask = (
        f"{person(cfg, swap.requester)} asks you to take their on-call role: "
        f"*{_role_window(cfg, roles, swap.window)}*"
    )
    if swap.back is not None:
        ask += f", and to give them yours: *{_role_window(cfg, back_roles, swap.back)}*"
    text = f"Swap #{swap.id}: {ask}. {IF_YOU_HOLD_THE_OTHER}"
    warning = pto_warning(cfg, ptos)
    if warning:
        text += f"\n{warning}"
    blocks: list[Block] = [
        header(f"Swap request #{swap.id}"),
        section(text),
    ]
    if swap.note:
        blocks.append(context(f"Note: {swap.note}"))
    blocks.append(
        actions(
            ids.BLOCK_SWAP_DECISION,
            button("Approve", ids.ACTION_SWAP_APPROVE, str(swap.id), "primary"),
            button("Decline", ids.ACTION_SWAP_DECLINE, str(swap.id), "danger"),
        )
    )
    blocks.append(context("Unanswered, the request expires when the window starts."))
    return Reply(text=text, blocks=blocks)


_OUTCOME = {
    SwapStatus.APPROVED: "✅ approved",
    SwapStatus.DECLINED: "❌ declined",
    SwapStatus.CANCELLED: "🚫 cancelled",
    SwapStatus.EXPIRED: "⌛ expired",
}


def decided_dm(cfg: TeamConfig, swap: Swap) -> Reply:
    """The counterpart's request message once answered: no more buttons."""
    by = f" by {swap.decided_by}" if swap.decided_by and swap.decided_by != "bot" else ""
    text = (
        f"Swap #{swap.id} ({swap.requester}→{swap.counterpart}, "
        f"{describe_window(swap.window, cfg.zone)}): {_OUTCOME[swap.status]}{by}."
    )
    return Reply(text=text, blocks=[header(f"Swap request #{swap.id}"), section(text)])


def outcome_dm(cfg: TeamConfig, swap: Swap) -> Reply:
    """To the requester (or, for a cancellation, to the counterpart)."""
    tz = cfg.zone
    window = describe_window(swap.window, tz)
    if swap.status is SwapStatus.APPROVED:
        text = (
            f"{person(cfg, swap.counterpart)} approved swap #{swap.id}: they take your on-call "
            f"role for {window}. The schedule now shows it."
        )
    elif swap.status is SwapStatus.DECLINED:
        text = (
            f"{person(cfg, swap.counterpart)} declined swap #{swap.id} ({window}). You still "
            "hold the shift; try someone else with `/swap`."
        )
    elif swap.status is SwapStatus.EXPIRED:
        text = (
            f"Swap #{swap.id} with {person(cfg, swap.counterpart)} ({window}) expired "
            "unanswered when its window started. You still hold the shift."
        )
    else:
        text = (
            f"{person(cfg, swap.requester)} cancelled swap #{swap.id} ({window}); the schedule "
            "is as it was before it."
        )
    return Reply(text=text, blocks=[section(text)])


def announcement(cfg: TeamConfig, swap: Swap, segs: list[Segment]) -> Reply:
    """To the team channel: what changed, in the policy's notation (`PR→SK` for a handover
    to someone off duty, `CW⇄PR` for two who exchange roles)."""
    tz = cfg.zone
    lines = []
    for seg in segs:
        span = describe_window(Window(start=seg.start, end=seg.end), tz)
        mine = [c for c in seg.changes if c.id == swap.id]
        if not mine:
            continue
        lines.append(f"• {span}: {swap_note(mine)} — Primary {seg.primary}, Backup {seg.backup}")
    if swap.status is not SwapStatus.APPROVED:
        text = (
            f"🔁 Swap #{swap.id} ({swap.requester}→{swap.counterpart}, "
            f"{describe_window(swap.window, tz)}) was {swap.status.value}; the schedule is as "
            "it was before it."
        )
        return Reply(text=text, blocks=[section(text)])
    verb = "approved"
    text = (
        f"🔁 Swap #{swap.id} {verb}: {person(cfg, swap.counterpart)} takes "
        f"{person(cfg, swap.requester)}'s on-call role for {describe_window(swap.window, tz)}"
        + (
            f", and {swap.requester} takes {swap.counterpart}'s for "
            f"{describe_window(swap.back, tz)}"
            if swap.back
            else ""
        )
        + "."
    )
    body = text + ("\n" + "\n".join(lines) if lines else "")
    return Reply(text=body, blocks=[section(text)] + ([section("\n".join(lines))] if lines else []))


def _row(cfg: TeamConfig, swap: Swap, me: str | None) -> str:
    tz = cfg.zone
    back = f" for {describe_window(swap.back, tz)}" if swap.back else ""
    mark = " (you)" if me in swap.people else ""
    note = f" — “{swap.note}”" if swap.note else ""
    return (
        f"• #{swap.id} {swap.requester}→{swap.counterpart} {describe_window(swap.window, tz)}"
        f"{back}{mark}{note}"
    )


def list_reply(cfg: TeamConfig, pending: list[Swap], upcoming: list[Swap], me: str | None) -> Reply:
    parts = ["*Pending*"]
    parts += [_row(cfg, s, me) for s in pending] or ["• none"]
    parts += ["*Approved, not yet over*"]
    parts += [_row(cfg, s, me) for s in upcoming] or ["• none"]
    text = "\n".join(parts)
    return Reply(text=f"Swaps\n{text}", blocks=[header("Swaps"), section(text)])


def cancelled_reply(cfg: TeamConfig, swap: Swap) -> Reply:
    text = f"Cancelled swap #{swap.id}; {swap.counterpart} has been told."
    return Reply(text=text, blocks=[section(text)])


def refusal(message: str) -> Reply:
    return Reply(text=f":no_entry: {message}", blocks=[section(f":no_entry: {message}")])


# ---------------------------------------------------------------------------- PTO & reminders


def conflict_line(cfg: TeamConfig, c: Conflict) -> str:
    what = "on PTO" if c.reason == "PTO" else f"on a company holiday ({c.reason})"
    return f"{describe_window(Window(start=c.start, end=c.end), cfg.zone)}: {c.role} {what}"


def reminder_dm(cfg: TeamConfig, c: Conflict, now: datetime) -> Reply:
    # Say the real distance: a conflict found late gets its reminder late.
    days = (c.start.astimezone(cfg.zone).date() - now.astimezone(cfg.zone).date()).days
    when = {0: "today", 1: "tomorrow"}.get(days, f"in {plural(days, 'day')}")
    what = "while you are on PTO" if c.reason == "PTO" else f"on {c.reason}, a company holiday"
    window = Window(start=c.start, end=c.end)
    text = (
        f"Heads-up: you are {c.role} on call {when} "
        f"({describe_window(window, cfg.zone)}) {what}. The policy asks you to arrange a "
        "swap beforehand."
    )
    value = json.dumps({"start": c.start.isoformat(), "end": c.end.isoformat()})
    return Reply(
        text=text,
        blocks=[
            section(text),
            actions(
                ids.BLOCK_SWAP_REMINDER,
                button("Arrange a swap", ids.ACTION_SWAP_OPEN_MODAL, value, "primary"),
            ),
        ],
    )


# ---------------------------------------------------------------------------- the modal


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def swap_modal(
    cfg: TeamConfig,
    me: str | None,
    prefill: tuple[date, time | None, date, time | None] | None = None,
) -> dict[str, Any]:
    members = [_option(f"{m.name} ({m.initials})", m.initials) for m in cfg.members]
    members = [o for o in members if o["value"] != me] or members
    start_date: dict[str, Any] = {"type": "datepicker", "action_id": ids.ACTION_SWAP_START_DATE}
    end_date: dict[str, Any] = {"type": "datepicker", "action_id": ids.ACTION_SWAP_END_DATE}
    start_time: dict[str, Any] = {"type": "timepicker", "action_id": ids.ACTION_SWAP_START_TIME}
    zone = zone_label(cfg.zone)
    end_time: dict[str, Any] = {"type": "timepicker", "action_id": ids.ACTION_SWAP_END_TIME}
    if prefill is not None:
        sd, st, ed, et = prefill
        start_date["initial_date"] = sd.isoformat()
        end_date["initial_date"] = ed.isoformat()
        if st is not None:
            start_time["initial_time"] = f"{st:%H:%M}"
        if et is not None:
            end_time["initial_time"] = f"{et:%H:%M}"
    roles = [
        _option("Whichever I hold", "any"),
        _option("Primary", "Primary"),
        _option("Backup", "Backup"),
    ]
    return {
        "type": "modal",
        "callback_id": ids.CALLBACK_SWAP_MODAL,
        "title": {"type": "plain_text", "text": "Swap a shift"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(
                ids.BLOCK_SWAP_MEMBER,
                "Who should take your shift?",
                {
                    "type": "static_select",
                    "action_id": ids.ACTION_SWAP_MEMBER,
                    "options": members,
                },
            ),
            _input(ids.BLOCK_SWAP_START_DATE, "From (date)", start_date),
            _input(
                ids.BLOCK_SWAP_START_TIME,
                f"From (time, {zone})",
                start_time,
                optional=True,
                hint="Leave empty for the start of the day.",
            ),
            _input(ids.BLOCK_SWAP_END_DATE, "Until (date)", end_date),
            _input(
                ids.BLOCK_SWAP_END_TIME,
                f"Until (time, {zone})",
                end_time,
                optional=True,
                hint="Leave empty to include the whole last day.",
            ),
            _input(
                ids.BLOCK_SWAP_ROLE,
                "Your role to hand over",
                {
                    "type": "static_select",
                    "action_id": ids.ACTION_SWAP_ROLE,
                    "options": roles,
                    "initial_option": roles[0],
                },
                optional=True,
            ),
            _input(
                ids.BLOCK_SWAP_NOTE,
                "Note",
                {"type": "plain_text_input", "action_id": ids.ACTION_SWAP_NOTE, "multiline": True},
                optional=True,
            ),
        ],
    }


def exchange_dm(cfg: TeamConfig, note: ExchangeNote) -> Reply:
    """To each of the two whose roles a critical holiday exchanges: information only."""
    window = describe_window(Window(start=note.start, end=note.end), cfg.zone)
    text = (
        f"Heads-up: on {note.holiday} ({window}) you are *{note.role}* on call: on a "
        f"critical holiday the Backup and the Primary exchange roles ({note.label}). "
        "Nothing to arrange; `/swap` if that day does not work for you."
    )
    return Reply(text=text, blocks=[section(text)])
