"""`GET /metrics` through the real app (issue #11 item 8): counters fed by paging, the
scrape-time gauges read from Redis, one registry per app."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.devtools.harness import Harness
from bot.metrics import PromMetrics
from bot.slack import ids
from tests.e2e.paging_helpers import IDS, advance, press


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_page_and_its_ack_show_in_metrics(harness: Harness) -> None:
    resp = await harness.command("/page", "growth-agg sev1 DAU table is 2 h late", IDS["AM"])
    assert "INC-1 opened" in resp.json["text"]
    await harness.run_jobs()
    await advance(harness, 11)  # past the first rung (10 min): Backup paged
    await press(harness, "PR", ids.ACTION_PAGE_ACK, "INC-1")

    resp = await harness.get("/metrics")
    assert resp.status == 200
    text = resp.text
    assert 'oncall_pages_total{pipeline="growth-agg",severity="sev1"} 1.0' in text
    got = samples(text)
    assert got[("oncall_time_to_ack_seconds_count", ())] == 1.0
    assert got[("oncall_time_to_ack_seconds_sum", ())] == 11 * 60
    assert got[("oncall_rungs_total", (("pipeline", "growth-agg"),))] == 1.0
    assert got[("oncall_timer_lateness_seconds_count", ())] >= 1.0
    assert ("oncall_outbox_depth", ()) in got
    assert got[("oncall_open_incidents", ())] == 1.0
    assert got[("oncall_dead_letters", ())] == 0.0
    assert got[("oncall_dead_letters_total", ())] == 0.0
    assert got[("oncall_redis_up", ())] == 1.0


async def test_each_app_counts_only_its_own(harness: Harness) -> None:
    # The harness's app has its own registry: pages of other tests (and apps) never show.
    text = (await harness.get("/metrics")).text
    assert "oncall_pages_total{" not in text
    a, b = PromMetrics(), PromMetrics()
    a.page_opened("growth-agg", "sev1")
    assert a.pages.labels(pipeline="growth-agg", severity="sev1")._value.get() == 1.0
    assert b.pages.labels(pipeline="growth-agg", severity="sev1")._value.get() == 0.0
