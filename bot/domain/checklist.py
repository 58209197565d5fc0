"""A checklist run: one use of a runbook's diagnostics checklist, ticked by several people.

Slack sends the clicking user's whole selection for one checkbox group, and that user's
copy of the message may be stale (someone else ticked a step since it was last drawn).
Storing the selection as-is would silently undo the other person's work, so a click only
ever contributes the *difference* between what that user was shown and what they selected.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.runbook import Runbook, Step

# Slack's limit on options in one checkboxes element.
MAX_OPTIONS = 10


class NoRunbook(LookupError):
    """No runbook is loaded for the slug (see `oncall-bot check`)."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no runbook is loaded for '{slug}'")
        self.slug = slug


class ChecklistNotFound(LookupError):
    """The run id is unknown or its record expired (policy.retention after the last tick)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"checklist run '{run_id}' is not stored")
        self.run_id = run_id


class Tick(BaseModel):
    model_config = ConfigDict(frozen=True)

    by: str
    at: datetime


class ChecklistRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    # A snapshot, so a run keeps rendering the steps people were ticking even if the runbook
    # file is edited and the bot restarted while the run is open.
    runbook: Runbook
    channel: str
    thread_ts: str
    # Set only when the bot posted the thread's parent itself and keeps its progress current;
    # a run opened inside a page's thread leaves the page's message to the paging feature.
    parent_ts: str | None = None
    message_ts: list[str] = Field(default_factory=list)
    incident_id: str | None = None
    opened_by: str | None = None
    opened_at: datetime
    ticks: dict[int, Tick] = Field(default_factory=dict)
    # Bumped by every click so re-rendered blocks get new block IDs (see blocks/runbook.py).
    revision: int = 0

    @property
    def total(self) -> int:
        return len(self.runbook.steps)

    @property
    def done(self) -> int:
        return sum(1 for step in self.runbook.steps if step.number in self.ticks)

    @property
    def progress(self) -> tuple[int, int]:
        return self.done, self.total


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    tick: frozenset[int] = frozenset()
    untick: frozenset[int] = frozenset()


def selection_change(
    shown: Iterable[int], selected: Iterable[int], offered: Iterable[int]
) -> Change:
    """What one click means: steps the user newly ticked and newly unticked.

    Only the steps ``offered`` by the clicked checkbox group count, so a forged or mangled
    payload cannot touch steps in another group.
    """
    group = set(offered)
    before = set(shown) & group
    after = set(selected) & group
    return Change(tick=frozenset(after - before), untick=frozenset(before - after))


def apply_change(run: ChecklistRun, change: Change, by: str, at: datetime) -> ChecklistRun:
    """Merge one click into the run's current state.

    A step someone else ticked in the meantime keeps its first ticker: the second person
    confirmed work that was already done, and "who did it first" is what responders need.
    """
    steps = {step.number for step in run.runbook.steps}
    ticks = dict(run.ticks)
    for number in sorted(change.tick & steps):
        ticks.setdefault(number, Tick(by=by, at=at))
    for number in change.untick:
        ticks.pop(number, None)
    return run.model_copy(update={"ticks": ticks, "revision": run.revision + 1})


def chunk_steps(steps: list[Step], size: int = MAX_OPTIONS) -> list[list[Step]]:
    """Steps grouped for checkbox elements, in order."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [steps[i : i + size] for i in range(0, len(steps), size)]
