"""`oncall-bot console`: the bot with no Slack workspace.

What you type goes through the same Bolt app as signed HTTP requests; a fake Slack Web API
prints what the bot says. `as PR` acts as another member; `at` / `advance` move a virtual
clock so escalations and reminders can be watched in fast-forward.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.clock import FakeClock
from bot.config.models import TeamConfig, parse_duration
from bot.devtools.fakeslack import Call
from bot.devtools.harness import Harness, Response
from bot.devtools.modal import ModalForm
from bot.devtools.render import Pressable, Renderer
from bot.devtools.signing import block_actions_payload
from bot.domain.timefmt import zone_label
from bot.domain.timeparse import TimeParseError, parse_instant

# `{zone}`: the rotation's zone, named by zone_label, since it is configurable.
HELP = """Console commands:
  /oncall …, /page …, /swap …, /runbook …   a slash command, as the current member
  as <initials> | as <slack-id>             act as a member (`as PR`), or as anyone, on the
                                            roster or not (`as U0SOMEONE`)
  at <date time>                            set the virtual clock ({zone} unless a zone is given)
  advance <duration>                        move the clock (30s, 10m, 2h, 1d), firing due timers
  press <n> | tick <n>                      press button n / toggle checkbox n; a number means
                                            the same button all session, redrawn or not
  fill <n> <value>                          fill field {n} of the open form: text (\\n for a
                                            new line), a date 2025-09-03, a time 14:30, an
                                            option (value, label or number), a member (PR)
  fill <n>                                  empty field {n}
  submit | cancel                           submit or close the open form
  now                                       show the virtual time
  help, quit"""


def help_text(config: TeamConfig) -> str:
    return HELP.replace("{zone}", zone_label(config.zone))


Ticker = Callable[[], Awaitable[None]]

# A Slack user ID as typed, or as a mention: `U0SOMEONE`, `<@U0SOMEONE>`.
_SLACK_ID = re.compile(r"<?@?([UW][A-Z0-9]{4,})(?:\|[^>]*)?>?")


@dataclass
class Console:
    harness: Harness
    clock: FakeClock
    config: TeamConfig
    out: TextIO = sys.stdout
    user: str = ""
    tickers: list[Ticker] = field(default_factory=list)
    # None: styled when printing to a terminal that has not asked for NO_COLOR.
    color: bool | None = None
    renderer: Renderer = field(init=False)
    modal: ModalForm | None = None
    # Set when acting as someone off the roster, who has an ID but no initials.
    user_id: str | None = None
    # What each posted message last printed as, so a redraw prints only what it changed.
    shown: dict[tuple[str, str], tuple[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = _isatty(self.out) and not os.environ.get("NO_COLOR")
        self.renderer = Renderer(self.config, color=self.color, channel_names=self._channels)
        self.user = self.user or self.config.members[0].initials
        self.harness.slack.on_call = self._show_call

    def _channels(self) -> dict[str, str]:
        return {cid: name for name, cid in self.harness.slack.channels.items()}

    def say(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n")
        self.out.flush()

    def _who(self, channel: str) -> str:
        if channel.startswith("D"):
            member = self.config.member_by_slack_id(channel[1:])
            if member:
                return f"DM to {member.name} ({member.initials})"
            return f"DM to {channel[1:]}"
        name = self._channels().get(channel)
        return f"#{name}" if name else channel

    def _show_call(self, call: Call) -> None:
        a = call.args
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            where = self._who(str(a.get("channel", "")))
            if a.get("thread_ts"):
                where += " › thread"
            verb = {"chat.update": "updated", "chat.postEphemeral": "only you"}.get(call.method)
            ts = self._ts_of(call)
            text = self.renderer.message(a, str(a.get("channel")), ts)
            key = (str(a.get("channel")), ts) if ts else None
            before = self.shown.get(key) if key else None
            redraw = before is not None and call.method == "chat.update"
            if before is not None and redraw:
                # An update does not say it is in a thread; the post it redraws did.
                where = before[0]
                self.say(self._changes(where, before[1], text.splitlines()))
            else:
                self.say(f"[{where}{', ' + verb if verb else ''}]\n{text}\n")
            if key:
                self.shown[key] = (where, text.splitlines())
        elif call.method == "response_url":
            self.say(f"[only you]\n{self.renderer.message(a)}\n")
        elif call.method in ("views.open", "views.update", "views.push"):
            view = a.get("view") or {}
            intro = [b for b in view.get("blocks", []) if b.get("type") != "input"]
            self.modal = ModalForm(view, self.config)
            head = self.renderer.message({"blocks": intro}) + "\n" if intro else ""
            self.say(f"[modal: {self.modal.title}]\n{head}{self.modal.render()}\n")

    def _changes(self, where: str, before: list[str], after: list[str]) -> str:
        """A redraw as the lines it changed: a 45-line checklist ticked reads as two lines."""
        changed: list[str] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            changed.extend(after[j1:j2])
            # Lines replaced by fewer lines are gone too: say so, or a vanished button would
            # look as if it were still there to press.
            gone = before[i1 + (j2 - j1) : i2] if op == "replace" else before[i1:i2]
            changed.extend(f"(removed) {line.strip()}" for line in gone)
        title = _plain(next((line.strip() for line in after if line.strip()), ""))
        # The first line names the message, unless it is itself among the changes.
        if not title or (changed and _plain(changed[0]).strip() == title):
            tag = f"[{where}, updated]"
        else:
            tag = f"[{where}, updated: {title if len(title) <= 60 else title[:59] + '…'}]"
        if not changed:
            return f"{tag} (no visible change)\n"
        return tag + "\n" + "\n".join(changed) + "\n"

    def _ts_of(self, call: Call) -> str | None:
        if call.method == "chat.update":
            return str(call.args.get("ts"))
        if call.method == "chat.postMessage":
            channel = str(call.args.get("channel"))
            # The fake stores the message before it records the call: the newest in the channel.
            found = [ts for (ch, ts) in self.harness.slack.messages if ch == channel]
            return found[-1] if found else None
        return None

    def _slack_id(self) -> str:
        if self.user_id is not None:
            return self.user_id
        member = self.config.member(self.user)
        return member.slack_id or f"U{member.initials}"

    def _show_response(self, resp: Response) -> None:
        if resp.status != 200:
            self.say(f"[HTTP {resp.status}] {resp.text}")
            return
        if not resp.text:
            return
        try:
            body = resp.json
        except ValueError:
            self.say(resp.text)
            return
        if body.get("text") or body.get("blocks"):
            self.say(f"[only you]\n{self.renderer.message(body)}\n")

    async def handle(self, line: str) -> bool:
        """Run one console line; False means quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.say(help_text(self.config))
        elif word.startswith("/"):
            self._show_response(await self.harness.command(word, rest, self._slack_id()))
            await self._tick()
        elif word == "as":
            self._as(rest)
        elif word == "at":
            self._at(rest)
        elif word == "advance":
            await self._advance(rest)
        elif word in ("press", "tick"):
            await self._press(rest)
        elif word in ("fill", "submit", "cancel"):
            await self._form(word, rest)
        elif word == "now":
            self.say(f"It is {self._now()}.")
        else:
            self.say(f"Unknown console command `{word}`. Type `help`.")
        return True

    async def _tick(self) -> None:
        for tick in self.tickers:
            await tick()

    def _now(self) -> str:
        local = self.clock.now().astimezone(self.config.zone)
        return f"{local:%Y-%m-%d %H:%M} {zone_label(self.config.zone, local)} ({local:%A})"

    def _as(self, who: str) -> None:
        initials = who.upper()
        member = next((m for m in self.config.members if m.initials == initials), None)
        found = _SLACK_ID.fullmatch(initials)
        if member is None and found is not None:
            member = self.config.member_by_slack_id(found.group(1))
            if member is None:
                # Someone off the roster: what the bot does when they press a button is
                # worth trying too.
                self.user = self.user_id = found.group(1)
                self.say(f"You are now {self.user}, who is not on the roster.")
                return
        if member is None:
            valid = ", ".join(m.initials for m in self.config.members)
            self.say(f"No member `{who}`; valid: {valid}, or a Slack ID such as U0SOMEONE.")
            return
        self.user, self.user_id = member.initials, None
        self.say(f"You are now {member.name} ({self.user}).")

    def _at(self, text: str) -> None:
        try:
            at, _ = parse_instant(text, self.clock.now(), self.config.zone)
        except TimeParseError as exc:
            self.say(str(exc))
            return
        self.clock.set(at)
        self.say(f"Clock set to {self._now()}.")

    async def _advance(self, text: str) -> None:
        try:
            delta = parse_duration(text.replace(" ", ""))
        except ValueError as exc:
            self.say(str(exc))
            return
        target = self.clock.now() + delta
        # Step a few seconds at a time so timers fire in order, as they would in real time.
        step = max(delta / 200, parse_duration("5s"))
        while self.clock.now() < target:
            self.clock.set(min(self.clock.now() + step, target))
            await self._tick()
        self.say(f"Clock advanced to {self._now()}.")

    async def _press(self, text: str) -> None:
        if not text.isdecimal() or int(text) not in self.renderer.pressables:
            self.say(f"No element `{text}`: press a number shown in [n: …] or `n.` above.")
            return
        p = self.renderer.pressables[int(text)]
        payload = self._payload(p)
        self._show_response(await self.harness.interact(payload))
        await self._tick()

    async def _form(self, word: str, rest: str) -> None:
        if self.modal is None:
            self.say("No form is open: a command or button opens one.")
            return
        if word == "cancel":
            self.modal = None
            self.say("Form closed; nothing was sent.")
            return
        if word == "fill":
            number, _, value = rest.partition(" ")
            problem = (
                self.modal.fill(int(number), value.strip())
                if number.isdecimal()
                else "Say which field: `fill 1 some text`."
            )
            self.say(problem or self.modal.shown(int(number)))
            return
        resp = await self.harness.interact(self.modal.submission(self._slack_id()))
        body = resp.json if resp.status == 200 and resp.text else {}
        if body.get("response_action") == "errors":
            by_block = {f.block_id: f.number for f in self.modal.fields}
            for block, error in body.get("errors", {}).items():
                self.say(f"  {{{by_block.get(block, '?')}}}: {error}")
            return
        self.modal = None
        self._show_response(resp)
        self.say("Form sent.")
        await self._tick()

    def _payload(self, p: Pressable) -> dict[str, Any]:
        el = p.element
        message = None
        if p.channel and p.ts:
            message = self.harness.slack.messages.get((p.channel, p.ts))
        action: dict[str, Any] = {"type": el["type"], "action_id": el.get("action_id")}
        block_id = p.block_id
        if el["type"] == "button":
            action.update(value=el.get("value"), text=el.get("text"))
        else:
            current = _current_element(message, p.block_id, str(el.get("action_id")))
            if current is None and p.option is not None:
                # Redrawn since it was numbered, under a new block ID: click today's copy.
                block_id, current = _element_with_option(
                    message, str(el.get("action_id")), p.option
                ) or (block_id, None)
            current = current or el
            chosen = list(current.get("initial_options", []))
            assert p.option is not None
            if any(o.get("value") == p.option.get("value") for o in chosen):
                chosen = [o for o in chosen if o.get("value") != p.option.get("value")]
            else:
                chosen.append(p.option)
            action["selected_options"] = chosen
        return block_actions_payload(
            user_id=self._slack_id(),
            action=action,
            block_id=block_id,
            response_url=self.harness.slack.response_url(),
            channel=p.channel,
            message=message,
        )


def _current_element(
    message: dict[str, Any] | None, block_id: str, action_id: str
) -> dict[str, Any] | None:
    for block in (message or {}).get("blocks", []):
        if block.get("block_id") != block_id:
            continue
        for el in [*block.get("elements", []), block.get("accessory") or {}]:
            if el.get("action_id") == action_id:
                return dict(el)
    return None


def _element_with_option(
    message: dict[str, Any] | None, action_id: str, option: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The block ID and element that now offer `option`, wherever the redraw put them."""
    for block in (message or {}).get("blocks", []):
        for el in [*block.get("elements", []), block.get("accessory") or {}]:
            values = {o.get("value") for o in el.get("options", [])}
            if el.get("action_id") == action_id and option.get("value") in values:
                return str(block.get("block_id", "")), dict(el)
    return None


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


async def run_console(
    console: Console, stream: TextIO = sys.stdin, interactive: bool | None = None
) -> None:
    interactive = stream.isatty() if interactive is None else interactive
    console.say(f"oncall-bot console. It is {console._now()}; you are {console.user}. Type `help`.")
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            try:
                line = await loop.run_in_executor(None, input, f"{console.user}> ")
            except EOFError:
                break
        else:
            line = stream.readline()
            if not line:
                break
            if line.strip() and not line.lstrip().startswith("#"):
                console.say(f"{console.user}> {line.strip()}")
        if not await console.handle(line):
            break
