"""Swaps and PTO as TOML for people to review (`oncall-bot export`); pure text out.

Written by hand because the standard library reads TOML but does not write it; the values
are only strings, integers and offset date-times, so escaping strings is all it takes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.pto import Pto
from bot.domain.swaps import Swap


def _str(value: str) -> str:
    # A JSON string is a valid TOML basic string for everything json.dumps emits.
    return json.dumps(value, ensure_ascii=False)


def _dt(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat()


def export_toml(
    swaps: Sequence[Swap], ptos: Sequence[Pto], tz: ZoneInfo, now: datetime, audit_key: str
) -> str:
    lines = [
        f"# oncall-bot export at {_dt(now, tz)}: swaps and PTO as stored in Redis.",
        f"# The append-only audit log is the Redis stream {audit_key}.",
        "",
    ]
    for s in sorted(swaps, key=lambda s: s.id):
        lines += [
            "[[swaps]]",
            f"id = {s.id}",
            f"status = {_str(s.status.value)}",
            f"requester = {_str(s.requester)}",
            f"counterpart = {_str(s.counterpart)}",
            f"start = {_dt(s.start, tz)}",
            f"end = {_dt(s.end, tz)}",
        ]
        if s.back is not None:
            lines += [f"back_start = {_dt(s.back.start, tz)}", f"back_end = {_dt(s.back.end, tz)}"]
        if s.note:
            lines.append(f"note = {_str(s.note)}")
        lines.append(f"created_at = {_dt(s.created_at, tz)}")
        if s.decided_at is not None:
            lines.append(f"decided_at = {_dt(s.decided_at, tz)}")
        if s.decided_by is not None:
            lines.append(f"decided_by = {_str(s.decided_by)}")
        lines.append("")
    for p in sorted(ptos, key=lambda p: p.id):
        lines += [
            "[[pto]]",
            f"id = {p.id}",
            f"member = {_str(p.member)}",
            f"start = {_dt(p.start, tz)}",
            f"end = {_dt(p.end, tz)}",
            f"created_at = {_dt(p.created_at, tz)}",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
