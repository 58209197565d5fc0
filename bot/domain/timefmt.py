"""How instants, days, zones and counts are written for people: one function for each form,
so every reply, DM, export and email reads the same. Pure: the zone is an argument, and
names come from fixed tables rather than the process locale, so output is the same on
every host."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# With no instant to ask about, a zone's names are those of one winter and one summer: a
# zone with daylight saving has two (`EST/EDT`) and a help text must not pick one. A fixed
# year keeps this pure; zones change their abbreviations far more rarely than that matters.
_SEASONS = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))


def zone_label(tz: tzinfo, at: datetime | None = None) -> str:
    """The zone's abbreviation as the team reads it: `IST` for Asia/Kolkata, `EDT` for
    America/New_York in summer. With no `at` (a help text, a form label), every name the
    zone uses in a year: `IST`, or `EST/EDT`. The only place a zone is named for people:
    the rotation's zone is configurable, so no reply may spell one out."""
    if at is not None:
        return str(at.astimezone(tz).tzname())
    names = (str(moment.replace(tzinfo=tz).tzname()) for moment in _SEASONS)
    return "/".join(dict.fromkeys(names))


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 week`, `2 weeks`, `0 alerts`: a count with its noun agreeing; `many` for a noun
    whose plural is not the word plus "s"."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def day_label(day: date) -> str:
    """`Mon 27 Oct 2025`: the weekday, because "due Monday" is how people plan."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def stamp(at: datetime, zone: tzinfo) -> str:
    """`Fri 17 Oct 2025, 14:05 IST`: an instant as the team reads it, in the rotation zone."""
    local = at.astimezone(zone)
    return f"{day_label(local.date())}, {local:%H:%M} {zone_label(zone, at)}"


def period(start: datetime, end: datetime, zone: tzinfo) -> str:
    """A window as the team reads it, each end with its weekday: `Wed 3 Sep 2025, 10:00–18:00
    IST` within a day; `Tue 28 Oct 2025, 00:00 → Wed 29 Oct 2025, 24:00 IST` across days. An
    end at midnight is written 24:00 of the day before, so a window always names its last
    day (nobody has to work out that "until Thu 00:00" means through Wednesday). A day whose
    clocks change names the zone at each end (`00:00 GMT–24:00 BST`)."""
    if end <= start:
        # Nothing should ask for this; if something does, say exactly what it was given
        # rather than a range that reads as overnight or as "until midnight".
        return f"{stamp(start, zone)} → {stamp(end, zone)}"
    s, e = start.astimezone(zone), end.astimezone(zone)
    s_label, e_label = zone_label(zone, start), zone_label(zone, end)
    e_day, e_time = e.date(), f"{e:%H:%M}"
    if e.time() == time(0):
        e_day, e_time = e_day - timedelta(days=1), "24:00"
    s_zone = "" if s_label == e_label else f" {s_label}"
    if e_day == s.date():
        return f"{day_label(s.date())}, {s:%H:%M}{s_zone}–{e_time} {e_label}"
    return f"{day_label(s.date())}, {s:%H:%M}{s_zone} → {day_label(e_day)}, {e_time} {e_label}"
