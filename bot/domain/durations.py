"""Durations as a tired human reads them: `42 s`, `3 min 27 s`, `1 h 5 min`, `2 d 3 h`.

The one function every message uses for a length of time. Two units at most, the larger
first; never `0 min`, never hundreds of seconds.
"""

from __future__ import annotations

from datetime import timedelta

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def human_duration(delta: timedelta) -> str:
    total = max(0, round(delta.total_seconds()))
    if total == 0:
        return "0 s"
    parts = []
    for name, size in _UNITS:
        if total >= size:
            parts.append(f"{total // size} {name}")
            total %= size
        elif parts:
            # A gap (1 h 0 min 5 s) ends the reading: the next unit would be noise.
            break
        if len(parts) == 2:
            break
    return " ".join(parts)
