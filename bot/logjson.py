"""`LOG_FORMAT=json`: one JSON object per log line, for a log pipeline to index.

Each line has `time` (UTC, ISO 8601), `level`, `logger` and `message`, plus `incident` and
`swap` when the record carries them (`log.info(..., extra={"incident": "INC-7"})`) or, failing
that, when the message names one: a plain regex finds the first `INC-<n>` and `swap #<n>`
(or `swap <n>`), so a message about two incidents is tagged with the first only. A traceback
goes in `exc`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

INCIDENT = re.compile(r"\bINC-\d+\b")
SWAP = re.compile(r"\bswap #?(\d+)\b", re.IGNORECASE)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        incident = getattr(record, "incident", None)
        if incident is None and (m := INCIDENT.search(message)):
            incident = m.group(0)
        if incident is not None:
            out["incident"] = str(incident)
        swap = getattr(record, "swap", None)
        if swap is None and (s := SWAP.search(message)):
            swap = s.group(1)
        if swap is not None:
            out["swap"] = str(swap)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def use_json_logs(root: logging.Logger | None = None) -> None:
    """Switch every handler of the root logger (basicConfig's) to JSON lines."""
    for handler in (root or logging.getLogger()).handlers:
        handler.setFormatter(JsonFormatter())
