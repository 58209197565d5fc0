"""`oncall-bot --help` names every subcommand and its options, with an example (issue #12)."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import main


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser main() builds, caught as it parses."""

    def catch(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    with pytest.raises(_Parsed) as caught:
        main(["serve"])
    return caught.value.parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Each subcommand with its long options, read from argparse itself."""
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: [
            opt
            for a in sub._actions
            for opt in a.option_strings
            if opt.startswith("--") and opt != "--help"
        ]
        for name, sub in action.choices.items()
    }


def test_help_lists_every_subcommand_with_its_options_and_an_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    subcommands = _subcommands(_parser(monkeypatch))
    assert set(subcommands) == {"serve", "check", "members", "console", "export", "outbox"}
    monkeypatch.undo()
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    for name, options in subcommands.items():
        [line] = [ln for ln in lines if ln.startswith(f"  {name} ")]
        for option in options:
            assert f"[{option}" in line, (name, option)
        assert f"`oncall-bot {name}" in line, line
        assert len(line) <= 100, line
