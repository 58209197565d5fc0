"""How instants and days are written for people: one function for each form, so every
reply, DM, export and email reads the same. Pure: the zone is an argument, and names come
from fixed tables rather than the process locale, so output is the same on every host."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(at: datetime, zone: tzinfo) -> str:
    """`2025-09-03 12:00 IST`: the compact form used in schedule and page replies."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def day_label(day: date) -> str:
    """`Mon 27 Oct 2025`: the weekday, because "due Monday" is how people plan."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def stamp(at: datetime, zone: tzinfo) -> str:
    """`Fri 17 Oct 2025, 14:05 IST`: an instant as the team reads it, in the rotation zone."""
    local = at.astimezone(zone)
    return f"{day_label(local.date())}, {local:%H:%M} {local.tzname()}"
