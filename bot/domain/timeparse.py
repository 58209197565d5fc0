"""Parse the instants and windows people type: `2025-10-20 08:00`, `tomorrow 10:00`, `… UTC`.

Relative words (`now`, `today`, `tomorrow`) resolve against `now`, an argument.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser

from bot.domain.timefmt import zone_label

# The zone names accepted besides IANA names and offsets (the policy's team works in IST).
_ALIASES = {"utc": "UTC", "z": "UTC", "gmt": "UTC", "ist": "Asia/Kolkata"}
_OFFSET = re.compile(r"^([+-])(\d{1,2}):?(\d{2})$")
_RELATIVE = {"today": 0, "tomorrow": 1, "yesterday": -1}
# A bare date means midday: a Monday then shows the week that starts that morning.
DATE_ONLY_TIME = time(12, 0)


class TimeParseError(ValueError):
    pass


def forms(zone: tzinfo) -> str:
    """The instants people may type, for errors and help; `zone` is the team's."""
    return (
        "`now`, `2025-10-20 08:00`, `2026-03-04`, `2025-10-20 03:00 UTC`, `tomorrow 10:00`, "
        f"`today`; times are {zone_label(zone)} (the team's zone) unless a zone is given "
        "(`UTC`, an IANA name such as `Europe/London`, or an offset such as `+05:30`)"
    )


def parse_zone(token: str) -> tzinfo | None:
    """A zone token, or None if `token` is not one."""
    alias = _ALIASES.get(token.casefold())
    if alias:
        return ZoneInfo(alias)
    m = _OFFSET.match(token)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        hours, minutes = int(m.group(2)), int(m.group(3))
        if hours > 14 or minutes > 59:  # real offsets run from -12:00 to +14:00
            return None
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if "/" in token:
        try:
            return ZoneInfo(token)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def _parse_time(text: str) -> time:
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text.strip().casefold())
    if not m:
        raise TimeParseError(f"`{text}` is not a time of day (try 09:00 or 18:30)")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3) == "pm" and hour < 12:
        hour += 12
    if m.group(3) == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise TimeParseError(f"`{text}` is not a time of day (try 09:00 or 18:30)")
    return time(hour, minute)


def split_zone(text: str, default: tzinfo) -> tuple[str, tzinfo]:
    words = text.split()
    if len(words) > 1:
        zone = parse_zone(words[-1])
        if zone is not None:
            return " ".join(words[:-1]), zone
    return text, default


# Far enough for any rotation question, and far from datetime's year-9999 overflow.
YEARS = range(1970, 3000)


def _in_range(day: date, text: str) -> date:
    if day.year not in YEARS:
        raise TimeParseError(
            f"`{text}` is outside the years {YEARS.start}–{YEARS.stop - 1} the bot can answer for"
        )
    return day


def parse_date(text: str, now: datetime, zone: tzinfo) -> date:
    word = text.strip().casefold()
    if word in _RELATIVE:
        return (now.astimezone(zone) + timedelta(days=_RELATIVE[word])).date()
    try:
        return _in_range(date.fromisoformat(text.strip()), text)
    except ValueError as exc:
        if isinstance(exc, TimeParseError):
            raise
        raise TimeParseError(
            f"`{text}` is not a date (use YYYY-MM-DD, today or tomorrow)"
        ) from None


def parse_instant(text: str, now: datetime, zone: tzinfo) -> tuple[datetime, bool]:
    """Parse `text` into an aware datetime; the flag says whether a time of day was given."""
    body, tz = split_zone(text.strip(), zone)
    if not body or body.casefold() == "now":
        return now, True
    words = body.split()
    head = words[0].casefold()
    if head in _RELATIVE:
        day = parse_date(head, now, tz)
        if len(words) == 1:
            return datetime.combine(day, DATE_ONLY_TIME, tzinfo=tz), False
        return datetime.combine(day, _parse_time(" ".join(words[1:])), tzinfo=tz), True
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", body):
        return datetime.combine(parse_date(body, now, tz), DATE_ONLY_TIME, tzinfo=tz), False
    if not re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d", body):
        raise TimeParseError(f"`{text}` is not a date or time; use {forms(zone)}")
    try:
        parsed = dateparser.isoparse(body.replace(" ", "T", 1))
    except ValueError:
        raise TimeParseError(f"`{text}` is not a date or time; use {forms(zone)}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    _in_range(parsed.date(), text)
    return parsed, True


def parse_window(text: str, now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """A window: `2025-09-03` (that whole day), `2025-09-03..2025-09-05` (whole days),
    `week 2025-09-03` (the handoff week is the caller's business: this gives Mon..Sun days),
    `2025-09-03 09:00..18:00`, `2025-09-03 09:00..2025-09-04 09:00`. End is exclusive."""
    body, tz = split_zone(text.strip(), zone)
    if ".." not in body:
        day = parse_date(body, now, tz)
        start = datetime.combine(day, time(0), tzinfo=tz)
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    left, right = (part.strip() for part in body.split("..", 1))
    if not left or not right:
        raise TimeParseError(f"`{text}` needs a start and an end around `..`")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|today|tomorrow", left, re.I) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}|today|tomorrow", right, re.I
    ):
        first, last = parse_date(left, now, tz), parse_date(right, now, tz)
        start = datetime.combine(first, time(0), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    else:
        start, has_time = parse_instant(left, now, tz)
        if not has_time:
            start = datetime.combine(start.date(), time(0), tzinfo=tz)
        if re.fullmatch(r"\d{1,2}(:\d{2})?\s*(am|pm)?", right, re.I):
            end = datetime.combine(start.astimezone(tz).date(), _parse_time(right), tzinfo=tz)
        else:
            end, has_time = parse_instant(right, now, tz)
            if not has_time:
                end = datetime.combine(end.date() + timedelta(days=1), time(0), tzinfo=tz)
    if end <= start:
        raise TimeParseError(f"`{text}` is empty: it must end after it starts")
    return start, end
