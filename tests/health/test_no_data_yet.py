"""An empty stack is not an incident (issue 18, item 4): before ingestion has ever succeeded, ``data_freshness``
and ``ingestion_stalled`` have "no data yet" (a measurement without a value), which the page shows as such (grey,
not red) and no rule notifies; once an ingestion run has succeeded (its ``ingestion_watermarks`` rows), the same
empty windows measure as long as the window and both alerts fire as before.

Real emulator, a fresh dataset per test; notifications are collected by the ``deliver`` callable (no channel
needed); the instant is fixed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from game_analytics.health.rules import load_rules
from game_analytics.health.run import run_health_check
from game_analytics.health.snapshot import read_snapshot
from game_analytics.health_ui.page import render_page
from game_analytics.health_ui.tiles import NO_DATA_YET, RED, build_tiles
from game_analytics.warehouse.watermarks import Watermark, record_watermarks
from tests.health.conftest import FIXED
from tests.health.rows import ingested_event
from tests.sql.rows import SESSION_START, Warehouse

pytestmark = pytest.mark.stack
WATCHED = {"freshness_seconds": "data_freshness", "seconds_since_successful_ingestion": "ingestion_stalled"}


def _run(warehouse, settings, now):
    sent: list[dict] = []
    report = run_health_check(warehouse, settings, now, None, sent.append)
    return report, sent


def test_an_empty_stack_has_no_data_yet_and_alerts_after_the_first_success(warehouse, settings):
    rules = {rule.name: rule for rule in load_rules(settings, environ={})}
    report, sent = _run(warehouse, settings, FIXED)
    assert not {f for f in report.firing if f in WATCHED.values()}, report.firing
    assert not [n for n in sent if n["rule"] in WATCHED.values()]

    snapshot = read_snapshot(warehouse, settings, FIXED)
    for metric in WATCHED:
        assert snapshot.values(metric) == {"": None}  # measured: "no data yet", not missing
    tiles = {t.key: t for t in build_tiles(snapshot, rules)}
    for key in ("freshness_seconds", "events_per_second"):  # events/s takes ingestion_stalled's colour
        assert (tiles[key].status, tiles[key].text) == (NO_DATA_YET, "no data yet"), key
    html = render_page(snapshot, rules, "/pipeline-health")
    assert 'data-tile="freshness_seconds" data-status="waiting"' in html and "no data yet" in html

    # The first ingestion run succeeds (its watermark row), then nothing arrives for longer than both thresholds.
    later = FIXED + timedelta(days=3)
    record_watermarks(warehouse, settings, [Watermark(settings.raw_topic, 0, FIXED, None, 0)])
    report, sent = _run(warehouse, settings, later)
    assert set(WATCHED.values()) <= set(report.firing), report.firing
    assert sorted(n["rule"] for n in sent if n["rule"] in WATCHED.values()) == sorted(WATCHED.values())
    tiles = {t.key: t for t in build_tiles(read_snapshot(warehouse, settings, later), rules)}
    assert tiles["freshness_seconds"].status == RED and tiles["events_per_second"].status == RED


def test_an_event_in_the_window_is_data_even_without_a_watermark(warehouse, settings):
    """Rows in the measured windows count as data whatever wrote them: the values are real, not "no data yet"."""
    Warehouse(warehouse, settings).insert_events([ingested_event(SESSION_START, FIXED - timedelta(minutes=10))])
    report, _ = _run(warehouse, settings, FIXED)
    snapshot = read_snapshot(warehouse, settings, FIXED)
    assert snapshot.value("freshness_seconds") == 600
    assert snapshot.values("seconds_since_successful_ingestion") == {"": None}  # no run has succeeded yet
    assert "ingestion_stalled" not in report.firing
