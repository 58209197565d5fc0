"""The handover digest renders every part, passes slack_sdk's Block Kit validators, stays
inside Slack's limits (3,000 characters a section, 50 blocks a message) and never drops a
row without saying so."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.config import TeamConfig
from bot.domain.calendar import HolidayCalendar
from bot.domain.handover import HandoverDigest, build_digest
from bot.domain.handover_confirm import reminder_text
from bot.domain.incident import Incident, Mode, Paged, Severity, Status
from bot.domain.pto import Conflict
from bot.domain.rca import ActionItem, Rca
from bot.domain.suppressions import Suppression
from bot.domain.timefmt import stamp
from bot.slack import ids
from bot.slack.blocks.common import MAX_BLOCKS, SECTION_LIMIT, chunk_lines
from bot.slack.blocks.handover import digest_reply, preview_reply
from tests.conftest import IST, ist

BOUNDARY = ist("2025-10-20 09:00")  # Diwali: SK/PR hand over to AM/PR


@pytest.fixture(scope="module")
def cal(config: TeamConfig) -> HolidayCalendar:
    return HolidayCalendar(config.policy.holidays)


def incidents(n: int) -> list[Incident]:
    pipelines = ["profit-agg", "growth-agg", "engagement-agg", "profit-unit", "growth-daily"]
    out = []
    for i in range(n):
        opened = BOUNDARY - timedelta(hours=1 + i)
        inc = Incident(
            id=f"INC-{i + 1}",
            pipeline=pipelines[i % 5],
            severity=list(Severity)[i % 4],
            summary=f"freshness breach #{i + 1}: " + "upstream partition late; " * 4,
            dedupe_key=str(i),
            mode=Mode.PAGE,
            opened_at=opened,
            opened_by="alert",
            paged=[Paged(member="SK", level=0, at=opened)],
        )
        if i % 2:
            inc = inc.model_copy(
                update={
                    "status": Status.ACKNOWLEDGED,
                    "acked_by": "SK",
                    "acked_at": opened + timedelta(minutes=4),
                }
            )
        out.append(inc)
    return out


def digest(config: TeamConfig, cal: HolidayCalendar, n: int = 3, **kw: Any) -> HandoverDigest:
    sup = Suppression(
        id="S-4",
        pipeline="growth-agg",
        starts_at=ist("2025-10-20 08:00"),
        ends_at=ist("2025-10-20 11:00"),
        reason="warehouse upgrade",
        created_by="CW",
        created_at=ist("2025-10-20 08:00"),
        suppressed=2,
    )
    upcoming = sup.model_copy(
        update={"id": "S-5", "pipeline": "all", "starts_at": ist("2025-10-22 01:00")}
    )
    upcoming = upcoming.model_copy(update={"ends_at": ist("2025-10-22 03:00")})
    rca = Rca(
        incident_id="INC-0",
        pipeline="profit-agg",
        severity=Severity.SEV1,
        title="profit aggregate late",
        zone="Asia/Kolkata",
        incident_opened_at=ist("2025-10-06 10:00"),
        resolved_at=ist("2025-10-06 12:00"),
        opened_at=ist("2025-10-06 12:00"),
        due_at=ist("2025-10-14 23:59:59"),
        owner="SK",
        action_items=[ActionItem(id=2, text="alert on FX lag", owner="AM", due=date(2025, 10, 17))],
    )
    pto = Conflict(
        member="AM",
        role="Backup",
        start=ist("2025-10-23 00:00"),
        end=ist("2025-10-24 00:00"),
        reason="PTO",
    )
    args: dict[str, Any] = {
        "incidents": incidents(n),
        "checklists": {"INC-1": (3, 8)},
        "suppressions": [sup, upcoming],
        "rcas": [rca],
        "conflicts": [pto],
    }
    sent = kw.pop("sent", BOUNDARY)
    return build_digest(config, cal, kw.pop("boundary", BOUNDARY), sent, **(args | kw))


def assert_valid(blocks: list[dict[str, Any]]) -> None:
    """As the fake Slack checks every message (bot/devtools/fakeslack.py)."""
    assert len(blocks) <= MAX_BLOCKS
    for i, parsed in enumerate(Block.parse_all(blocks)):
        assert parsed is not None, f"block {i} has an unknown type: {blocks[i]}"
        parsed.validate_json()
        parsed.to_dict()
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= SECTION_LIMIT
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150


def texts(blocks: list[dict[str, Any]]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


def test_the_digest_renders_every_part(config: TeamConfig, cal: HolidayCalendar) -> None:
    reply = digest_reply(config, digest(config, cal))
    assert_valid(reply.blocks)
    body = texts(reply.blocks)
    assert reply.blocks[0]["text"]["text"] == "Handover · Mon 20 Oct 2025, 09:00 IST"
    for part in [
        "*Outgoing* (week 8 of 8): Primary Samir Kapoor (<@U0SKAPOOR4>), Backup Priya Rao",
        "*Incoming* (week 1 of 8, Mon 20 Oct 2025, 09:00 → Mon 27 Oct 2025, 09:00 IST)",
        "Primary Alex Mehta (<@U0AMEHTA01>), Backup Priya Rao",
        # The Diwali exchange and a PTO conflict, with the why.
        "Mon 20 Oct 2025, 09:00–24:00 IST: Primary Priya Rao, Backup "
        "Alex Mehta. Why: Diwali (2025-10-20) is a critical holiday",
        "2025-10-23: AM is Backup on PTO with no swap",
        "*Open incidents (3)*",
        "open 1 h (since Mon 20 Oct 2025, 08:00 IST) · *not ACKed*",
        "ACKed by Samir Kapoor 4 min after the page",
        "checklist 3/8 done",
        "*Suppressions: 1 active, 1 upcoming*",
        "*S-4* Growth — Aggregate, until Mon 20 Oct 2025, 11:00 IST, by Chen Wu: warehouse upgrade",
        "*S-5* every pipeline, Wed 22 Oct 2025, 01:00–03:00 IST",
        "*Pending RCAs (1)*",
        "owner Samir Kapoor (<@U0SKAPOOR4>) · due Tue 14 Oct 2025 *(overdue)*",
        "*Overdue action items (1)*",
        "*INC-0 A2* alert on FX lag · owner Alex Mehta (<@U0AMEHTA01>) · due Fri 17 Oct 2025 (3 d overdue)",
        "*Last week* (Mon 13 Oct 2025, 09:00 → Mon 20 Oct 2025, 09:00 IST)",
        "• Time to ACK: p50 4 min, max 4 min (1 ACKed, 2 never ACKed)",
        "• Escalated past the Backup: 0",
        "Samir Kapoor (<@U0SKAPOOR4>) and Alex Mehta (<@U0AMEHTA01>) press *Handover done*",
        "until 09:30 IST",
    ]:
        assert part in body, part
    assert "Sent late" not in body
    [button] = reply.blocks[-1]["elements"]
    assert button["action_id"] == ids.ACTION_HANDOVER_DONE == "handover_done"
    assert button["value"] == str(int(BOUNDARY.timestamp())) == "1760931000"
    assert reply.response_type == "in_channel"
    assert reply.text.startswith("Handover Mon 20 Oct 2025, 09:00 IST: Primary Samir Kapoor → ")


def test_forty_open_incidents_split_into_sections_under_the_limit(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    reply = digest_reply(config, digest(config, cal, n=40))
    assert_valid(reply.blocks)
    body = texts(reply.blocks)
    assert len(body) > 2 * SECTION_LIMIT  # it really needed splitting
    for i in range(1, 41):
        assert body.count(f"*INC-{i}* ") == 1
    assert "more open incidents" not in body


def test_more_than_a_message_holds_is_cut_with_a_note_never_silently(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    reply = digest_reply(config, digest(config, cal, n=1000))
    assert_valid(reply.blocks)
    body = texts(reply.blocks)
    shown = sum(f"*INC-{i}* " in body for i in range(1, 1001))
    assert 40 < shown < 1000
    assert f"…and {1000 - shown} more open incidents not shown here" in body
    assert "`/oncall incidents` lists them all" in body
    assert "*Last week*" in body and reply.blocks[-1]["type"] == "actions"


def test_a_late_digest_says_so(config: TeamConfig, cal: HolidayCalendar) -> None:
    reply = digest_reply(config, digest(config, cal, sent=ist("2025-10-20 11:40")))
    assert_valid(reply.blocks)
    body = texts(reply.blocks)
    assert "*Sent late.* This digest was due at Mon 20 Oct 2025, 09:00 IST" in body
    assert "it went out at Mon 20 Oct 2025, 11:40 IST, 2 h 40 min late" in body
    assert "(sent late)" in reply.text


def test_the_preview_says_when_it_will_be_sent_and_has_no_button(
    config: TeamConfig, cal: HolidayCalendar
) -> None:
    d = digest(config, cal, boundary=ist("2025-10-27 09:00"), sent=ist("2025-10-22 15:00"))
    reply = preview_reply(config, d)
    assert_valid(reply.blocks)
    body = texts(reply.blocks)
    assert reply.blocks[0]["text"]["text"] == "Handover preview · Mon 27 Oct 2025, 09:00 IST"
    assert (
        "*Preview.* This digest will be sent at Mon 27 Oct 2025, 09:00 IST to #data-platform"
        in body
    )
    assert "by DM to Alex Mehta, Priya Rao, Chen Wu" in body
    assert "*This week so far* (Mon 20 Oct 2025, 09:00 → Mon 27 Oct 2025, 09:00 IST)" in body
    # Two weeks are in a preview: each part names its own, so neither reads "This week"
    # about the other.
    assert "*The incoming week*" in body and "*This week*" not in body
    assert all(b["type"] != "actions" for b in reply.blocks)
    assert reply.response_type == "ephemeral"


def test_the_reminder_names_who_has_not_confirmed(config: TeamConfig, cal: HolidayCalendar) -> None:
    d = digest(config, cal)
    text = reminder_text(d, ["SK"])
    assert text.startswith(":bell: The handover of Mon 20 Oct 2025, 09:00 IST")
    assert "by {SK}." in text
    assert "{SK} and {AM}" in reminder_text(d, ["SK", "AM"])
    with pytest.raises(ValueError):
        reminder_text(d, [])


def test_typed_text_cannot_become_slack_markup(config: TeamConfig, cal: HolidayCalendar) -> None:
    [inc] = incidents(1)
    inc = inc.model_copy(update={"summary": "<!channel> spend & <https://x|y>"})
    reply = digest_reply(config, digest(config, cal, incidents=[inc]))
    body = texts(reply.blocks)
    assert "&lt;!channel&gt; spend &amp; &lt;https://x|y&gt;" in body
    assert "<!channel>" not in body


def test_times_are_shown_in_the_rotation_zone_with_the_weekday() -> None:
    assert stamp(ist("2025-09-01 09:00").astimezone(IST), IST) == "Mon 1 Sep 2025, 09:00 IST"
    assert stamp(BOUNDARY.astimezone(IST) - timedelta(days=6), IST).startswith("Tue 14 Oct")


def test_chunk_lines_loses_nothing() -> None:
    lines = ["a" * 7000, "b" * 10, "c" * 2995, ""]
    chunks = chunk_lines(lines)
    assert all(len(c) <= SECTION_LIMIT for c in chunks)
    assert "".join(chunks).replace("\n", "") == "".join(lines)
    assert [len(c) for c in chunks] == [3000, 3000, 1000 + 1 + 10, 2995 + 1]
