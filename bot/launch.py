"""The `oncall-bot` entry point: kept apart from bot.cli so it runs before the imports."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    # `serve` imports and builds some 100,000 long-lived objects (the app, its models,
    # config, runbooks); the collector would walk them again and again as they appear, a
    # fifth of start-up (issue #14). It stays off until serve.settle_gc freezes what start-up
    # made and turns it back on, before the first request. The few thousand objects of
    # start-up garbage are frozen with the rest rather than collected: a collection then
    # would cost more than they weigh.
    if sys.argv[1:2] == ["serve"]:
        gc.disable()
    from bot.cli import main as cli_main

    return cli_main()
