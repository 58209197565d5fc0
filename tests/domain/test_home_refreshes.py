"""Whose Home tab an incident's change redraws: the people it pages now and, when it opens or
its status changes, everyone it paged and whoever acted; a rung that pages nobody and a
schedule re-check redraw nobody's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import TeamConfig
from bot.domain.home import home_refreshes, incident_refreshes
from bot.domain.incident import Incident, Mode, Paged, Severity, Status
from bot.domain.notices import HomeRefresh, Notice, PageDM, PageUpdate, ThreadReply
from tests.conftest import ist

AT = ist("2025-09-03 12:00")
IDS = {"AM": "U0AMEHTA01", "PR": "U0PRRAO002", "CW": "U0CHENWU03", "SK": "U0SKAPOOR4"}


def inc(
    status: Status = Status.TRIGGERED, paged: tuple[str, ...] = ("PR",), **kw: object
) -> Incident:
    return Incident(
        id="INC-1",
        pipeline="growth-agg",
        severity=Severity.SEV1,
        summary="late",
        dedupe_key="k",
        mode=Mode.PAGE,
        opened_at=AT,
        opened_by="alert",
        status=status,
        paged=[Paged(member=m, level=0, at=AT) for m in paged],
        **kw,
    )


def users(notices: list[Notice]) -> list[str]:
    assert all(isinstance(n, HomeRefresh) for n in notices)
    return [n.user for n in notices if isinstance(n, HomeRefresh)]


def dm(member: str) -> PageDM:
    return PageDM(incident="INC-1", member=member, text="paged")


@pytest.mark.parametrize(
    ("before", "after", "notices", "expected"),
    [
        # Opened: whoever it pages.
        (None, inc(), [dm("PR")], ["PR"]),
        # A rung reaches the Backup: only them (PR's tab already lists it).
        (
            inc(),
            inc(paged=("PR", "CW")),
            [dm("CW"), ThreadReply(incident="INC-1", text="x")],
            ["CW"],
        ),
        # A schedule re-check or a rung that pages nobody new: nobody.
        (inc(), inc(), [PageUpdate(incident="INC-1")], []),
        # ACKed by someone it never paged: all it paged, and the one who ACKed.
        (
            inc(paged=("PR", "CW")),
            inc(
                Status.ACKNOWLEDGED, ("PR", "CW"), acked_by="SK", acked_at=AT + timedelta(minutes=3)
            ),
            [],
            ["PR", "CW", "SK"],
        ),
        # Resolved after the ACK: the same people, each once.
        (
            inc(Status.ACKNOWLEDGED, ("PR",), acked_by="PR", acked_at=AT),
            inc(
                Status.RESOLVED,
                ("PR",),
                acked_by="PR",
                acked_at=AT,
                resolved_by="PR",
                resolved_at=AT,
            ),
            [],
            ["PR"],
        ),
    ],
)
def test_incident_refreshes(
    config: TeamConfig,
    before: Incident | None,
    after: Incident,
    notices: list[Notice],
    expected: list[str],
) -> None:
    assert users(incident_refreshes(config, before, after, notices)) == [IDS[m] for m in expected]


def test_home_refreshes_skip_unknown_members_and_repeats(config: TeamConfig) -> None:
    out = home_refreshes(config, ["CW", None, "PR", "CW", "ZZ"])
    assert users(out) == [IDS["CW"], IDS["PR"]]
    # Coalesced per person in the outbox: a second refresh for CW while one waits adds nothing.
    assert [n.coalesce_id for n in out] == [f"home:{IDS['CW']}", f"home:{IDS['PR']}"]
