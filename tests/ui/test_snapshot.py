"""health/snapshot.py against the BigQuery emulator: each read returns its window's rows and nothing else.

The instants are chosen where windows cross boundaries (a Monday 00:30 UTC, the 1st of a month, Feb 29 late in the
day): the 24 h chart spans two dates, the 7 days span a month or a leap day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.health.snapshot import read_metrics_snapshot, read_snapshot
from tests.sql.rows import Warehouse
from tests.ui import seed as seeding

pytestmark = pytest.mark.stack

NOWS = [
    datetime(2026, 3, 2, 0, 30, tzinfo=UTC),  # a Monday, 00:30
    datetime(2026, 6, 1, 0, 5, 0, 123456, tzinfo=UTC),  # the 1st of a month (and a fraction of a second)
    datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC),  # a leap day, its last second
]


@pytest.fixture(params=NOWS, ids=lambda now: now.strftime("%Y-%m-%dT%H:%M"))
def seeded(request, warehouse, settings):
    seed = seeding.build(request.param)
    seeding.plant(Warehouse(warehouse, settings), seed)
    return seed


def test_the_snapshot_reads_each_window(seeded, warehouse, settings):
    now = seeded.now
    snapshot = read_snapshot(warehouse, settings, now)

    assert snapshot.measured_at == seeded.measured_at  # the newest run, not the older one
    assert snapshot.value("events_per_second") == 812.5
    assert snapshot.values("kafka_lag_messages") == seeding.LAGS  # partition 9 was only in the older run
    assert snapshot.value("no_such_metric") is None

    assert len(snapshot.volume) == 25 * 3 and max(v.events for v in snapshot.volume) < 99_999
    assert {v.hour for v in snapshot.volume} == set(snapshot.volume_hours) == set(seeded.hours)

    today = now.date()
    assert snapshot.run_days == [today - timedelta(days=n) for n in range(1, 8)]
    states = {day: run.state for day, run in snapshot.runs.items()}
    # Seeded: D-2 failed, D-4 failed then its re-run succeeded, D-5 has no run; a run finishes at D+1 02:00, so
    # at 00:30 yesterday's has not finished yet.
    expected = {today - timedelta(days=n): "success" for n in (1, 3, 4, 6, 7)}
    expected[today - timedelta(days=2)] = "failed"
    if now.hour < 2:
        del expected[today - timedelta(days=1)]
    assert states == expected
    assert snapshot.runs[today - timedelta(days=4)].run_id.endswith("-rerun")
    assert snapshot.runs[today - timedelta(days=2)].failed_tasks == "checks_events"

    assert len(snapshot.checks) == 7 * 2
    assert {c.day for c in snapshot.checks} == set(snapshot.run_days)
    problems = {(c.name, c.day): c for c in snapshot.checks if c.status != "pass"}
    failed = problems[(f"{seeding.CHECK_TABLE}.not_null", today - timedelta(days=2))]
    assert (failed.status, failed.offending_rows, failed.message) == ("fail", 2, "2 row(s) with a NULL level_id")
    assert failed.offending_values == [{"user_id": "u0", "level_id": None}, {"user_id": "u1", "level_id": None}]
    assert problems[(f"{seeding.CHECK_TABLE}.volume_drop", today - timedelta(days=3))].status == "warn"
    assert len(problems) == 2

    assert [(a.rule, a.subject, a.value) for a in snapshot.alerts] == [("high_kafka_lag", "3", 123_456.0)]


def test_the_metrics_snapshot_reads_only_measurements_and_alerts(seeded, warehouse, settings):
    snapshot = read_metrics_snapshot(warehouse, settings, seeded.now)
    assert snapshot.value("dlq_rate") == 0.0042 and len(snapshot.alerts) == 1
    assert snapshot.volume == [] and snapshot.checks == []


def test_measurements_after_now_or_too_old_are_not_shown(seeded, warehouse, settings):
    # Read as of before the seeded runs: nothing measured yet, and nothing from the future.
    before = read_snapshot(warehouse, settings, seeded.older_measured_at - timedelta(seconds=1))
    assert before.measured_at is None and before.measurements == {}
    # Three days later the newest run is older than the lookback: no measurement rather than a stale one.
    later = read_snapshot(warehouse, settings, seeded.now + timedelta(days=3))
    assert later.measured_at is None


def test_an_empty_warehouse_gives_an_empty_snapshot(warehouse, settings):
    snapshot = read_snapshot(warehouse, settings, NOWS[0])
    assert snapshot.measured_at is None and snapshot.volume == [] and snapshot.runs == {} and snapshot.alerts == []
    assert len(snapshot.run_days) == 7 and snapshot.run_days[0] == date(2026, 3, 1)
    assert DAILY_DAG not in snapshot.values("dag_run_failed")
