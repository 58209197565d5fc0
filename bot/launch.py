"""The `oncall-bot` entry point: kept apart from bot.cli so it runs before the imports."""

from __future__ import annotations

import gc
import sys

# Young-generation threshold while serving: each request allocates a few hundred objects,
# so CPython's default (700) ran a collection every couple of requests (401 per 9,000 in
# issue #14's profile); this many keeps them rare without letting garbage pile up.
GC_GEN0_THRESHOLD = 20_000


def settle_gc() -> None:
    """After start-up, before the first request: what start-up built (config, runbooks, the
    app, pydantic's schemas) lives as long as the process, so it is moved out of the
    collector's sight (gc.freeze); a full collection then walks only what requests made,
    instead of pausing ~35 ms over ~85k objects. The collector was off during `serve`'s
    start-up (main, below); this turns it back on. The escalation worker
    (bot/escalation_worker.py) settles the same way once it runs."""
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)
    gc.enable()


def main() -> int:
    # `serve` imports and builds some 100,000 long-lived objects (the app, its models,
    # config, runbooks); the collector would walk them again and again as they appear, a
    # fifth of start-up (issue #14). It stays off until settle_gc freezes what start-up
    # made and turns it back on, before the first request. The few thousand objects of
    # start-up garbage are frozen with the rest rather than collected: a collection then
    # would cost more than they weigh.
    if sys.argv[1:2] == ["serve"]:
        gc.disable()
    from bot.cli import main as cli_main

    return cli_main()
