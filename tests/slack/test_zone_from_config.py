"""The rotation's zone is configurable, so no reply names a zone it did not get from the
configuration (issue #12, item 5): with the rotation in America/New_York, help texts, the
swap form, errors and answers say EST/EDT, never IST."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.cli import main
from bot.clock import FakeClock
from bot.config import TeamConfig
from bot.console import Console, help_text, run_console
from bot.devtools.harness import Harness
from bot.domain.swaps import window_forms
from bot.domain.timefmt import plural, stamp, zone_label
from bot.domain.timeparse import forms
from bot.slack.blocks import swaps as swap_blocks
from bot.slack.blocks.oncall import help_reply
from bot.slack.listeners import EXTRA
from bot.slack.listeners.commands import pto
from tests.conftest import ROOT

NY = ZoneInfo("America/New_York")
IST_WORD = re.compile(r"\bIST\b")
PR = "U0PRRAO002"


@pytest.fixture(scope="module")
def ny_config(config: TeamConfig) -> TeamConfig:
    rotation = config.rotation.model_copy(update={"zone": "America/New_York"})
    return config.model_copy(update={"rotation": rotation})


@pytest.fixture
async def ny_harness(redis: Redis, ny_config: TeamConfig) -> AsyncIterator[Harness]:
    clock = FakeClock(ny_config.rotation.start_at + timedelta(days=9, hours=3))
    h = await Harness(
        redis, clock, ny_config, settings_overrides={"runbooks_dir": ROOT / "runbooks"}
    ).start()
    yield h
    await h.stop()


@pytest.mark.parametrize(
    ("tz", "at", "label"),
    [
        (ZoneInfo("Asia/Kolkata"), None, "IST"),
        (ZoneInfo("Asia/Kolkata"), "2025-10-20T12:00:00+00:00", "IST"),
        (NY, None, "EST/EDT"),  # no instant: every name the zone uses in a year
        (NY, "2025-07-01T12:00:00+00:00", "EDT"),
        (NY, "2025-12-01T12:00:00+00:00", "EST"),
        (ZoneInfo("UTC"), None, "UTC"),
        (timezone(timedelta(hours=5, minutes=30)), None, "UTC+05:30"),
    ],
)
def test_zone_label(tz: ZoneInfo, at: str | None, label: str) -> None:
    assert zone_label(tz, datetime.fromisoformat(at) if at else None) == label


def test_the_formatters_name_the_zone_through_zone_label() -> None:
    summer = datetime(2025, 7, 1, 16, 0, tzinfo=ZoneInfo("UTC"))
    assert stamp(summer, NY) == "Tue 1 Jul 2025, 12:00 EDT"


@pytest.mark.parametrize(
    ("n", "word", "many", "text"),
    [
        (0, "week", None, "0 weeks"),
        (1, "week", None, "1 week"),
        (2, "week", None, "2 weeks"),
        (1, "incident", None, "1 incident"),
        (3, "alert", None, "3 alerts"),
        (1, "step", None, "1 step"),
        (1, "more week", None, "1 more week"),
        (2, "person", "people", "2 people"),
    ],
)
def test_plural(n: int, word: str, many: str | None, text: str) -> None:
    assert plural(n, word, many) == text


def test_help_texts_and_the_swap_form_name_the_configured_zone(ny_config: TeamConfig) -> None:
    rendered = {
        "/oncall help": help_reply(ny_config, list(EXTRA)).text,
        "/swap help": swap_blocks.help_text(ny_config),
        "/oncall pto help": pto.help_text(ny_config),
        "console help": help_text(ny_config),
        "swap form": json.dumps(swap_blocks.swap_modal(ny_config, "PR"), ensure_ascii=False),
        "window forms": window_forms(ny_config.zone),
        "instant forms": forms(ny_config.zone),
    }
    for what, text in rendered.items():
        assert not IST_WORD.search(text), what
        assert "EST/EDT" in text, what
    modal = swap_blocks.swap_modal(ny_config, "PR")
    labels = [b["label"]["text"] for b in modal["blocks"]]
    assert "From (time, EST/EDT)" in labels and "Until (time, EST/EDT)" in labels


def test_with_the_policy_zone_the_help_still_says_ist(config: TeamConfig) -> None:
    assert "(IST unless a zone is given)" in help_reply(config).text
    modal = swap_blocks.swap_modal(config, "PR")
    assert "From (time, IST)" in [b["label"]["text"] for b in modal["blocks"]]


async def test_answers_through_the_app_name_the_configured_zone(ny_harness: Harness) -> None:
    texts = []
    for command, text in [
        ("/oncall", "help"),
        ("/oncall", ""),
        ("/oncall", "at 2025-09-03 12:00"),
        ("/oncall", "at 2025-13-40 12:00"),
        ("/oncall", "me"),
        ("/swap", "help"),
        ("/swap", "@CW next tuesday"),
        ("/oncall", "pto help"),
        ("/oncall", "pto 2025-09-20 09:00..18:00"),
    ]:
        body = (await ny_harness.command(command, text, PR)).json
        texts.append(f"{command} {text}: {body['text']} {json.dumps(body.get('blocks'))}")
    for text in texts:
        assert not IST_WORD.search(text), text
    assert any("EDT" in t for t in texts)
    # `/swap` alone opens the form.
    await ny_harness.command("/swap", "", PR)
    [opened] = ny_harness.slack.of("views.open")
    assert not IST_WORD.search(json.dumps(opened.args["view"]))


async def test_the_console_names_the_configured_zone(ny_harness: Harness) -> None:
    out = io.StringIO()
    assert isinstance(ny_harness.clock, FakeClock)
    assert ny_harness.config is not None
    console = Console(ny_harness, ny_harness.clock, ny_harness.config, out)
    await run_console(console, io.StringIO("help\nnow\nat 2025-09-03 12:00\n"), interactive=False)
    text = out.getvalue()
    assert not IST_WORD.search(text), text
    assert "(EST/EDT unless a zone is given)" in text
    assert "Clock set to 2025-09-03 12:00 EDT (Wednesday)." in text


def test_cli_console_help_names_no_zone(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["console", "--help"])
    out = capsys.readouterr().out
    assert not IST_WORD.search(out)
    assert "rotation zone" in out
