"""LOG_FORMAT=json (bot/logjson.py): one parseable JSON object per record."""

from __future__ import annotations

import io
import json
import logging

from bot.logjson import JsonFormatter, use_json_logs


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("bot.services.paging", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_json_line_with_its_incident() -> None:
    line = JsonFormatter().format(_record("delivering page %s for %s failed", "n-3", "INC-7"))
    assert "\n" not in line
    out = json.loads(line)
    assert out["level"] == "WARNING"
    assert out["logger"] == "bot.services.paging"
    assert out["message"] == "delivering page n-3 for INC-7 failed"
    assert out["incident"] == "INC-7"
    assert "swap" not in out
    assert out["time"].endswith("+00:00")


def test_extra_wins_over_the_message_and_swaps_are_tagged() -> None:
    out = json.loads(JsonFormatter().format(_record("INC-1 and INC-2", incident="INC-9")))
    assert out["incident"] == "INC-9"
    out = json.loads(JsonFormatter().format(_record("Swap #4 expired")))
    assert out["swap"] == "4"
    assert "incident" not in out


def test_tracebacks_stay_on_the_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), None)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_use_json_logs_switches_the_handlers() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test-log-format")
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(stream)]
    use_json_logs(logger)
    logger.warning("paged for INC-12")
    assert json.loads(stream.getvalue())["incident"] == "INC-12"
