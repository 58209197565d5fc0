"""Whose App Home tab a change makes stale: the HomeRefresh notices to queue with it.

Queued by the same atomic step as the change (like every notice), so a Home tab that is open
on someone's screen follows what the bot knows about them. Pure: the configuration maps
initials to Slack ids, and members without one (or no longer on the roster) have no Home to
refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.config.models import TeamConfig
from bot.domain.incident import Incident
from bot.domain.notices import HomeRefresh, Notice, PageDM


def home_refreshes(cfg: TeamConfig, members: Iterable[str | None]) -> list[Notice]:
    """One HomeRefresh per member (by initials) who has a Slack id, each once, in order."""
    out: list[Notice] = []
    for initials in dict.fromkeys(m for m in members if m):
        try:
            slack_id = cfg.member(initials).slack_id
        except KeyError:
            continue
        if slack_id:
            out.append(HomeRefresh(user=slack_id))
    return out


def incident_refreshes(
    cfg: TeamConfig, before: Incident | None, after: Incident, notices: Sequence[Notice]
) -> list[Notice]:
    """The people a page reaches now, and, when the incident opens or its status changes
    (ACK, resolve), everyone it paged and whoever acted. A rung that pages nobody new, or
    a schedule re-check, refreshes nobody: an alert storm costs one redraw per person
    paged, not one per step."""
    members: list[str | None] = [n.member for n in notices if isinstance(n, PageDM)]
    if before is None or before.status is not after.status:
        members += [p.member for p in after.paged]
        members += [after.acked_by, after.resolved_by]
    return home_refreshes(cfg, members)
