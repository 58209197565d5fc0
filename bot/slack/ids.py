"""Action, block and callback IDs: one constant each, shared by builders and listeners."""

from __future__ import annotations

COMMAND_ONCALL = "/oncall"
