"""Every Redis key the bot uses, in one place (as arq keeps its prefixes).

All keys share PREFIX so one Redis can be shared with other apps and inspected with SCAN.
"""

from __future__ import annotations

PREFIX = "oncall:"


def checklist(run_id: str) -> str:
    """One checklist run (JSON), see bot/store/checklists.py."""
    return f"{PREFIX}checklist:{run_id}"


# INCR counter that hands out checklist run ids, unique across bot processes.
CHECKLIST_SEQ = f"{PREFIX}checklist-seq"
