"""`/oncall pto`: record, list and cancel your leave, and see whether you are on call then."""

from __future__ import annotations

from bot.config.models import TeamConfig
from bot.deps import Deps
from bot.domain.pto import Conflict, Pto, PtoRefused
from bot.domain.swaps import SwapError, Window, window_forms, window_syntax
from bot.domain.timefmt import period
from bot.slack.blocks.common import Reply, error_reply, extra_words, section
from bot.slack.listeners.commands.swap_query import ExtraWords, whole_window

USAGE = "`/oncall pto <window>`, e.g. `/oncall pto 2025-09-03..2025-09-05`"
CANCEL_USAGE = "`/oncall pto cancel <id>`, with an id from `/oncall pto`"

_HELP = (
    "*`/oncall pto`* — your leave, so the schedule can flag shifts you need to swap",
    "• `/oncall pto <window>` — record leave, e.g. `/oncall pto 2025-09-03..2025-09-05`; "
    "leave that overlaps or touches leave you already recorded joins it as one entry",
    "• `/oncall pto` — your leave not yet over, with ids and the shifts you hold then",
    "• `/oncall pto cancel <id>` — remove one of yours",
)


def help_text(cfg: TeamConfig) -> str:
    """`/oncall pto help`; the windows it accepts are named in the rotation's zone."""
    return "\n".join([*_HELP, f"Windows: {window_forms(cfg.zone)}."])


def _reply(text: str) -> Reply:
    return Reply(text=text, blocks=[section(text)])


def _ids(ptos: list[Pto]) -> str:
    return " and ".join(", ".join(f"#{p.id}" for p in ptos).rsplit(", ", 1))


def _clash_lines(cfg: TeamConfig, clashes: list[Conflict]) -> list[str]:
    # The window again in `/swap`'s own syntax, so it can be pasted into the request.
    return [
        f"⚠ {c.role} {period(c.start, c.end, cfg.zone)}: "
        f"`/swap @member {window_syntax(Window(start=c.start, end=c.end), cfg.zone)}`"
        for c in clashes
    ]


def added_reply(cfg: TeamConfig, pto: Pto, merged: list[Pto], clashes: list[Conflict]) -> Reply:
    text = f"Recorded your PTO #{pto.id}: {period(pto.start, pto.end, cfg.zone)}."
    if merged:
        text += (
            f"\nMerged with your PTO {_ids(merged)}, which it overlapped or touched: "
            f"one entry now, #{pto.id}."
        )
    if clashes:
        text += "\nYou are on call during it; arrange a swap for each shift:\n" + "\n".join(
            _clash_lines(cfg, clashes)
        )
    else:
        text += "\nYou are not on call during it."
    return _reply(text)


def list_reply(cfg: TeamConfig, overview: list[tuple[Pto, list[Conflict]]]) -> Reply:
    rows: list[str] = []
    for pto, clashes in overview:
        rows.append(f"• #{pto.id} {period(pto.start, pto.end, cfg.zone)}")
        rows += [f"    {line}" for line in _clash_lines(cfg, clashes)]
    text = "*Your PTO*\n" + ("\n".join(rows) if rows else "• none recorded that is not over")
    text += f"\nRecord more with {USAGE}; remove one with `/oncall pto cancel <id>`."
    return _reply(text)


async def answer(deps: Deps, user_id: str, args: str) -> Reply:
    cfg = deps.config
    member = cfg.member_by_slack_id(user_id)
    if member is None:
        return error_reply("Only members of the on-call roster (schedules/team.toml) record PTO.")
    words = args.split()
    verb = words[0].casefold() if words else "list"
    if verb in ("list", "help") and len(words) > 1:
        usage = "`/oncall pto`" if verb == "list" else "`/oncall pto help`"
        return error_reply(extra_words(f"/oncall pto {verb}", words[1:], usage))
    if verb == "list":
        return list_reply(cfg, await deps.swaps.pto_overview(member.initials))
    if verb == "help":
        return _reply(help_text(cfg))
    if verb == "cancel":
        if len(words) < 2 or not words[1].lstrip("#").isdigit():
            return error_reply(f"Say which entry: {CANCEL_USAGE}.")
        if len(words) > 2:
            return error_reply(
                extra_words(f"/oncall pto cancel {words[1]}", words[2:], CANCEL_USAGE)
            )
        try:
            gone = await deps.swaps.cancel_pto(member.initials, int(words[1].lstrip("#")))
        except PtoRefused as exc:
            return error_reply(str(exc))
        return _reply(f"Cancelled your PTO #{gone.id} ({period(gone.start, gone.end, cfg.zone)}).")
    try:
        window = whole_window(cfg, args, deps.clock.now(), "/oncall pto", USAGE)
        pto, merged = await deps.swaps.record_pto(member.initials, window)
    except ExtraWords as exc:
        return error_reply(str(exc))
    except SwapError as exc:
        return error_reply(f"{exc} Usage: {USAGE}; `/oncall pto help` for more.")
    except PtoRefused as exc:
        return error_reply(str(exc))
    clashes = [
        c
        for c in await deps.swaps.conflicts(max(pto.start, deps.clock.now()), pto.end)
        if c.member == member.initials and c.reason == "PTO"
    ]
    return added_reply(cfg, pto, merged, clashes)
