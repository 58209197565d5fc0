"""The console reads like Slack: mrkdwn drawn for the terminal, a redraw shown as what it
changed, button numbers that keep their meaning, anyone to act as, every modal field fillable."""

from __future__ import annotations

from bot.config import TeamConfig
from bot.devtools.harness import Harness
from bot.devtools.modal import ModalForm
from bot.devtools.render import Renderer
from tests.e2e.test_console import _run


def test_mrkdwn_without_a_terminal_drops_the_marks(config: TeamConfig) -> None:
    r = Renderer(config)
    pr = config.member("PR").slack_id
    assert r.mrkdwn("*Primary:* _soon_ `/oncall now`") == "Primary: soon `/oncall now`"
    assert r.mrkdwn(":warning: :rotating_light: :no_such_emoji:") == "⚠️ 🚨 :no_such_emoji:"
    assert r.mrkdwn(f"<@{pr}> and <@U0SOMEONE>") == "@PR and @U0SOMEONE"
    assert r.mrkdwn("<https://x.example/d|Lag> <https://y.example>") == (
        "Lag (https://x.example/d) https://y.example"
    )
    assert r.mrkdwn("<#C1|investor-kpis> <!here> &lt;b&gt; &amp;") == "#investor-kpis @here <b> &"
    # Not marks: inside words, around spaces, inside code, and strike-through kept visible.
    assert r.mrkdwn("swap_start_date 2 * 3 * 4 `*x*` ~old~") == (
        "swap_start_date 2 * 3 * 4 `*x*` ~old~"
    )


def test_mrkdwn_on_a_terminal_is_styled(config: TeamConfig) -> None:
    r = Renderer(config, color=True)
    assert r.mrkdwn("*a* _b_ ~c~ `d`") == (
        "\x1b[1ma\x1b[22m \x1b[3mb\x1b[23m \x1b[9mc\x1b[29m \x1b[36md\x1b[39m"
    )


def test_a_bold_title_holding_a_code_span_is_bold_around_it(config: TeamConfig) -> None:
    """A code span inside bold text (a help title naming a command) keeps the bold whole,
    and nothing inside the span is styled."""
    assert Renderer(config).mrkdwn("*Try `/oncall now` here* `*x*`") == (
        "Try `/oncall now` here `*x*`"
    )
    assert Renderer(config, color=True).mrkdwn("*Try `/oncall` now*") == (
        "\x1b[1mTry \x1b[36m/oncall\x1b[39m now\x1b[22m"
    )


async def test_a_redraw_prints_only_what_changed_and_numbers_stay(harness: Harness) -> None:
    text = await _run(
        harness,
        "\n".join(
            [
                "at 2025-09-03 12:00",
                "/page growth-agg sev1 DAU late",
                "as PR",
                "press 1",  # ACK on the page
                "tick 5",  # step 1 of the checklist in the thread
                "press 2",  # Resolve: the same number it had before the ACK redrew the page
            ]
        ),
    )
    assert "🔴 Page INC-1 · SEV1 · Growth — Aggregate" in text
    assert ":red_circle:" not in text and "*Summary:*" not in text
    assert "  [1: ACK] [2: Resolve] [3: Post status] [4: Escalate now]" in text
    ack = text.split("PR> press 1\n")[1].split("PR> tick 5")[0]
    assert "[#investor-kpis, updated: 🔴 Page INC-1 · SEV1 · Growth — Aggregate]" in ack
    assert "Acknowledged by @PR" in ack
    assert "  [2: Resolve] [3: Post status]" in ack
    assert "Summary: DAU late" not in ack  # unchanged, so not reprinted
    tick = text.split("PR> tick 5\n")[1].split("PR> press 2")[0]
    assert "[#investor-kpis › thread, updated]\nDiagnostics checklist: Growth" in tick
    assert "    5. [x] 1. Stream lag  (✓ Priya Rao · Wed 3 Sep 2025, 12:00 IST)" in tick
    assert "2. Ingestion rate" not in tick
    assert len(tick.strip().splitlines()) < 10
    resolved = text.split("PR> press 2\n")[1]
    assert "Resolved by @PR" in resolved
    assert "(removed) [2: Resolve] [3: Post status]" in resolved


async def test_acting_as_someone_off_the_roster(harness: Harness) -> None:
    text = await _run(
        harness,
        "\n".join(["/runbook growth-agg", "as U0SOMEONE", "tick 1", "as <@u0someone>", "as PR"]),
    )
    assert "You are now U0SOMEONE, who is not on the roster." in text
    assert "U0SOMEONE> tick 1" in text
    assert "[x] 1. Stream lag  (✓ @U0SOMEONE · Wed 3 Sep 2025, 12:00 IST)" in text
    assert "You are now Priya Rao (PR)." in text


async def test_the_swap_form_field_by_field(harness: Harness) -> None:
    text = await _run(
        harness,
        "\n".join(
            [
                "/swap",
                "fill 1 cw",
                "fill 2 3 Sep",
                "fill 2 2025-09-05",
                "fill 3 9",
                "fill 3 9:00",
                "fill 6 2",
                "fill 6 nobody",
                "fill 3",
            ]
        ),
    )
    assert "[modal: Swap a shift]\n  {1} Who should take your shift?" in text
    assert "{2} From (date) (required) [date YYYY-MM-DD]: (empty)" in text
    assert "{3} From (time, IST) [time HH:MM]: (empty)\n      Leave empty for the start" in text
    assert "options: PR = Priya Rao (PR) · CW = Chen Wu (CW)" in text
    assert "<datepicker" not in text and "[datepicker]" not in text
    assert "{1} Who should take your shift? (required) [one of the options]: Chen Wu (CW)" in text
    assert "`3 Sep` is not a date: write it as YYYY-MM-DD" in text
    assert "{2} From (date) (required) [date YYYY-MM-DD]: 2025-09-05" in text
    assert "`9` is not a time: write it as HH:MM" in text
    assert "{3} From (time, IST) [time HH:MM]: 09:00" in text
    assert "{6} Your role to hand over [one of the options]: Primary" in text
    assert "`nobody` is not one of the options: any = Whichever I hold · Primary · Backup." in text
    assert text.rstrip().endswith("{3} From (time, IST) [time HH:MM]: (empty)")


def test_a_users_select_takes_initials_or_an_id(config: TeamConfig) -> None:
    view = {
        "callback_id": "cb",
        "blocks": [
            {
                "type": "input",
                "block_id": "who",
                "label": {"type": "plain_text", "text": "Who"},
                "element": {"type": "users_select", "action_id": "who_pick"},
            }
        ],
    }
    form = ModalForm(view, config)
    assert "{1} Who (required) [member: initials or Slack ID]: (empty)" in form.render()
    assert form.fill(1, "pr") is None
    assert form.shown(1).endswith(": Priya Rao (@PR)")
    state = form.submission("U1")["view"]["state"]["values"]["who"]["who_pick"]
    assert state == {"type": "users_select", "selected_user": config.member("PR").slack_id}
    assert form.fill(1, "<@U0SOMEONE>") is None
    assert form.shown(1).endswith(": U0SOMEONE")
    assert form.fill(1, "nobody") == "`nobody` is neither a member's initials nor a Slack ID (U…)."
