"""Every Redis key the bot uses, in one place (as arq keeps its prefixes).

All keys share PREFIX so one Redis can be shared with other apps and inspected with SCAN.
"""

from __future__ import annotations

PREFIX = "oncall:"
