"""The worst input of every command, and a deterministic measure of the work it costs.

Shared by `tests/e2e/test_worst_inputs.py`, which holds each answer to a budget of the bot's
own work, and `bench/worst_inputs.py`, which times the same inputs in CPU milliseconds.
The test counts work rather than time because CPU time in a long test process also pays for
whatever the garbage collector found there: a CI run once charged a 2 ms answer with 99 ms.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

LONG = "x" * 999  # just under the command text limit
WORST: list[tuple[str, str]] = [
    ("/oncall", "pto 2027-01-04..2999-12-30"),
    ("/oncall", "pto 2025-09-04..2025-12-02"),  # the longest leave allowed, with conflicts
    ("/swap", "@CW 2027-01-04..2999-12-30"),
    ("/swap", "@CW 2025-09-04..2025-12-02 for 2025-12-03..2026-03-02"),
    ("/oncall", "schedule 52"),
    ("/oncall", "at 2999-12-30 23:59 growth-agg"),
    ("/oncall", "week 2999-12-30"),
    ("/oncall", LONG),
    ("/oncall", "at " + "2025-09-03 " * 90),
    ("/oncall", "x" * 5000),  # over the limit: refused before any work
    ("/page", "growth-agg sev1 " + LONG[:980]),
    ("/page", "gr" * 490),
    ("/runbook", LONG),
    ("/swap", "@" + LONG),
    ("/swap", "cancel " + "9" * 900),
    ("/oncall", "incidents"),
    ("/oncall", "help"),
]


class WorkCount:
    """Calls made in, or by, the bot's own code while a `count_work` block runs, and the
    bot's modules that ran (so a caller can check the server's work was seen at all)."""

    def __init__(self) -> None:
        self.calls = 0
        self.modules: set[str] = set()


def _bots(frame: FrameType | None) -> str | None:
    """The bot module a frame runs in; None for libraries and for these dev tools, which
    sign and send the request and are not the bot's work."""
    if frame is None:
        return None
    name = str(frame.f_globals.get("__name__", ""))
    if name.startswith("bot.") and not name.startswith("bot.devtools"):
        return name
    return None


@contextmanager
def count_work() -> Iterator[WorkCount]:
    """Count every function call (Python or C) whose frame, or whose caller's frame, is the
    bot's: its own loops and every call it makes into a library or Redis client. The same
    input costs the same count on every run, whatever else the machine is doing. Modules
    are told by name, not file path, so a symlinked checkout counts the same. A call into
    C code counts once however long it runs: pair the count with a generous time limit."""
    work = WorkCount()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "return" or event == "c_return" or event == "c_exception":
            return
        module = _bots(frame)
        if module is not None:
            work.modules.add(module)
        if module is not None or _bots(frame.f_back) is not None:
            work.calls += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield work
    finally:
        sys.setprofile(previous)
