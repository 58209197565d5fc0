"""Prometheus metrics (`GET /metrics`): counters and histograms fed by hooks in the services,
delivery and runtime, and gauges read from Redis at scrape time.

`Metrics` is the no-op the services start with; `PromMetrics` records into a registry of
its own (never prometheus_client's global one), so several apps in one process (tests, the
bench's replicas) each count only their own. bot/domain stays free of any of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.store.incidents import IncidentStore
    from bot.store.outbox import Outbox

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: from a minute to the end of the ladder (escalations run over an hour).
ACK_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, float("inf"))
# Seconds a rung fired after it was due: the escalation loop sleeps at most one tick.
LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, float("inf"))
SCRAPE_TIMEOUT = 2.0


class Metrics:
    """The hooks, doing nothing: where no metrics are wired (and the default)."""

    def page_opened(self, pipeline: str, severity: str) -> None:
        pass

    def rung_fired(self, pipeline: str) -> None:
        pass

    def acked(self, seconds: float) -> None:
        pass

    def timer_late(self, seconds: float) -> None:
        pass

    def alert_suppressed(self, pipeline: str) -> None:
        pass

    def slack_error(self, method: str, error: str) -> None:
        pass

    def redis_error(self, where: str) -> None:
        pass

    def deadline_missed(self, pipeline: str, stage: str) -> None:
        pass


class _StateCollector(Collector):
    """Gauges from the last `refresh` (the /metrics handler refreshes before each scrape:
    collect() is synchronous and Redis is not)."""

    def __init__(self) -> None:
        self.values: dict[str, float] | None = None

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("oncall_redis_up", "1 when the scrape could read Redis")
        up.add_metric([], 0.0 if self.values is None else 1.0)
        yield up
        if self.values is None:
            return
        for name, doc in GAUGES.items():
            yield GaugeMetricFamily(name, doc, value=self.values[name])


GAUGES = {
    "oncall_outbox_depth": "Notices queued for delivery (every lane)",
    "oncall_dead_letters": "Undeliverable notices parked now",
    "oncall_dead_letters_total": "Notices parked since the start (a running total in Redis)",
    "oncall_open_incidents": "Incidents open now",
}


class PromMetrics(Metrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.pages = Counter(
            "oncall_pages", "Incidents opened", ["pipeline", "severity"], registry=r
        )
        self.rungs = Counter("oncall_rungs", "Escalation rungs fired", ["pipeline"], registry=r)
        self.time_to_ack = Histogram(
            "oncall_time_to_ack_seconds",
            "From an incident's opening to its ACK",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.lateness = Histogram(
            "oncall_timer_lateness_seconds",
            "How long after it was due an escalation step ran",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.suppressed = Counter(
            "oncall_alerts_suppressed",
            "Alerts swallowed by a suppression",
            ["pipeline"],
            registry=r,
        )
        self.slack_errors = Counter(
            "oncall_slack_errors",
            "Slack Web API calls that failed, by method and error",
            ["method", "error"],
            registry=r,
        )
        self.redis_errors = Counter(
            "oncall_redis_errors",
            "Redis calls that failed, by where (a background job's name, or `request`)",
            ["where"],
            registry=r,
        )
        self.deadline_misses = Counter(
            "oncall_deadline_misses",
            "Pipeline deliveries late past their deadline (`notice`) or their SLO (`alert`)",
            ["pipeline", "stage"],
            registry=r,
        )
        self.state = _StateCollector()
        r.register(self.state)

    def page_opened(self, pipeline: str, severity: str) -> None:
        self.pages.labels(pipeline=pipeline, severity=severity).inc()

    def rung_fired(self, pipeline: str) -> None:
        self.rungs.labels(pipeline=pipeline).inc()

    def acked(self, seconds: float) -> None:
        self.time_to_ack.observe(max(0.0, seconds))

    def timer_late(self, seconds: float) -> None:
        self.lateness.observe(max(0.0, seconds))

    def alert_suppressed(self, pipeline: str) -> None:
        self.suppressed.labels(pipeline=pipeline).inc()

    def slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method=method, error=error).inc()

    def redis_error(self, where: str) -> None:
        self.redis_errors.labels(where=where).inc()

    def deadline_missed(self, pipeline: str, stage: str) -> None:
        self.deadline_misses.labels(pipeline=pipeline, stage=stage).inc()

    async def refresh(self, outbox: Outbox, incidents: IncidentStore) -> None:
        """Read the gauges from Redis; on failure they are left out (oncall_redis_up 0)."""
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT):
                values = [
                    await outbox.pending(),
                    await outbox.dead_count(),
                    await outbox.dead_total(),
                    len(await incidents.open_ids()),
                ]
        except Exception as exc:
            log.warning("metrics: could not read Redis (%s)", type(exc).__name__)
            self.state.values = None
            return
        self.state.values = dict(zip(GAUGES, map(float, values), strict=True))

    async def scrape(self, outbox: Outbox, incidents: IncidentStore) -> bytes:
        await self.refresh(outbox, incidents)
        return generate_latest(self.registry)
