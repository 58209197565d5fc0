"""The fake Slack's records of calls, and the faults a test can tell it to inject."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    # Not part of equality, so tests may still compare calls with Call(method, args).
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass
class Failure:
    status: int
    times: int
    retry_after: int = 0
    # With an error, the call is answered HTTP 200 `{"ok": false, "error": error, **extra}`
    # (Slack adds `needed` and `provided` to `missing_scope`, for one).
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stall:
    seconds: float
    times: int
