"""Every subcommand a parser accepts has a line in its command's help, with an example, and
the examples really parse to that subcommand (issue #12, item 2)."""

from __future__ import annotations

import inspect
import re
from typing import get_args

from bot.config import TeamConfig
from bot.devtools.fakeslack_blocks import block_errors
from bot.devtools.harness import Harness
from bot.domain.runbook import Runbook
from bot.slack.blocks import rca as rca_blocks
from bot.slack.blocks.common import escape_placeholders
from bot.slack.blocks.oncall import EXTRA_HELP, help_reply
from bot.slack.blocks.swaps import help_text as swap_help
from bot.slack.listeners import EXTRA
from bot.slack.listeners.commands import oncall_query, rca, runbook, swap_query
from bot.slack.listeners.commands.oncall import VALID
from tests.conftest import ist

NOW = ist("2025-09-03 12:00")
PR = "U0PRRAO002"


def _commands(text: str, command: str) -> list[str]:
    """The runnable `/command …` snippets in `text`: no `<placeholder>`, `[option]`, `…` or
    `@member`."""
    snippets = re.findall(r"`(/[a-z]+(?: [^`]*)?)`", text)
    return [
        s
        for s in snippets
        if s.split()[0] == command and not any(c in s for c in "<[…") and "@member" not in s
    ]


def _words(source: object, var: str) -> set[str]:
    """The literal words a parser compares its first word with, e.g. `sub == "list"`."""
    return set(re.findall(rf'\b{var} == "(\w+)"', inspect.getsource(source)))  # type: ignore[arg-type]


def _help_line(text: str, form: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(f"• `{form}")]
    assert lines, f"no help line for {form}"
    return lines[0]


# ---------------------------------------------------------------------------------- /oncall


def test_oncall_help_has_a_line_for_each_word_the_parser_knows(config: TeamConfig) -> None:
    text = help_reply(config, list(EXTRA)).text
    words = _words(oncall_query.parse_oncall, "sub")
    assert words == {w.strip() for w in VALID.split(",")}
    for word in words:
        assert f"`/oncall {word}" in text, word
    assert "`/oncall @member`" in text and "`/oncall <date time> [pipeline]`" in text


def test_oncall_help_examples_parse_to_every_kind(config: TeamConfig) -> None:
    text = help_reply(config, list(EXTRA)).text
    kinds: set[str] = set()
    for snippet in _commands(text, "/oncall"):
        args = snippet.removeprefix("/oncall").strip()
        first = args.split()[0] if args else ""
        if first in EXTRA:
            kinds.add(f"extra:{first}")
            continue
        kinds.add(oncall_query.parse_oncall(config, args, NOW).kind)
    literal = set(get_args(oncall_query.QueryKind))
    assert kinds == literal | {f"extra:{name}" for name in EXTRA}


def test_every_registered_extra_subcommand_is_described(config: TeamConfig) -> None:
    text = help_reply(config, list(EXTRA)).text
    assert set(EXTRA) <= set(EXTRA_HELP), set(EXTRA) - set(EXTRA_HELP)
    for name in EXTRA:
        line = _help_line(text, f"/oncall {name}")
        assert line == EXTRA_HELP[name]
        description = line.split(" — ", 1)[1]
        assert len(description) > 20 and "…" not in line.split(" — ")[0], line
    assert "`/oncall incidents [page N]`" in text and "`/oncall incidents page 2`" in text


async def test_oncall_help_through_the_app(harness: Harness) -> None:
    body = (await harness.command("/oncall", "help", PR)).json
    for name in EXTRA:
        assert escape_placeholders(EXTRA_HELP[name]) in body["text"]
    assert block_errors(body["blocks"]) is None


# ------------------------------------------------------------------------------------ /swap


def test_swap_help_examples_parse_to_every_kind(config: TeamConfig) -> None:
    SWAP_HELP = swap_help(config)
    words = _words(swap_query.parse_swap, "head")
    for word in words:
        assert f"`/swap {word}" in SWAP_HELP, word
    kinds = {
        swap_query.parse_swap(config, s.removeprefix("/swap").strip(), NOW).kind
        for s in _commands(SWAP_HELP, "/swap")
    }
    assert kinds == set(get_args(swap_query.SwapQuery.model_fields["kind"].annotation))
    for form in ("/swap @member <window>", "/swap list", "/swap cancel <id>", "/swap help"):
        assert " — " in _help_line(SWAP_HELP, form)


async def test_swap_help_through_the_app(harness: Harness, config: TeamConfig) -> None:
    body = (await harness.command("/swap", "help", PR)).json
    assert body["text"] == escape_placeholders(swap_help(config))
    assert block_errors(body["blocks"]) is None


# --------------------------------------------------------------------------------- /runbook


async def test_runbook_help_lists_every_form_with_an_example(harness: Harness) -> None:
    body = (await harness.command("/runbook", "help", PR)).json
    text = body["text"]
    assert block_errors(body["blocks"]) is None
    for word in runbook.LIST_WORDS:
        assert f"`{f'/runbook {word}'.strip()}`" in text, word
        assert (await harness.command("/runbook", word, PR)).json["text"] == text
    assert "`/runbook &lt;pipeline&gt;`" in text  # as Slack gets it (blocks/common.py)
    typed = text.replace("&lt;", "<").replace("&gt;", ">")  # as the reader sees it
    examples = [s.removeprefix("/runbook").strip() for s in _commands(typed, "/runbook")]
    pipelines = [e for e in examples if e.casefold() not in runbook.LIST_WORDS]
    assert pipelines
    for example in pipelines:
        assert harness.deps is not None
        assert isinstance(runbook.resolve(harness.deps, example), Runbook), example


# ------------------------------------------------------------------------------------- /rca


def test_rca_help_has_a_line_and_example_for_each_subcommand() -> None:
    words = _words(rca.answer, "sub")
    valid = {w.strip("`/ ") for w in rca.VALID.split(",")} - {"rca"}
    assert valid <= words
    for word in words:
        form = "/rca" if word == "list" else f"/rca {word}"
        line = _help_line(rca_blocks.HELP, form)
        assert "e.g. `/rca" in line, line
        if word != "list":
            assert f"`/rca {word}" in line
    assert "`/rca list`" in rca_blocks.HELP
