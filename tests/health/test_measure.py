"""Each warehouse-side health measurement against the real emulator, at explicit instants (``now`` is an input):
a plain afternoon, and just after midnight on a Monday, on the 1st of a month, on Feb 29 and the day after it.

Rows are seeded relative to ``now``, including rows just outside each window and rows after ``now`` (a
measurement of an instant ignores what happened later), so every bound is exercised.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.dag_defaults import DAILY_DAG, HEALTH_DAG, INGEST_DAG
from game_analytics.events.reasons import Reason
from game_analytics.health.measure import Measurement, measure, refresh_event_volume
from game_analytics.health.records import record_dag_run_outcome
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.watermarks import Watermark, record_watermarks
from tests.health.conftest import FIXED, INSTANT_IDS, INSTANTS
from tests.health.rows import by_subject, ingested_event, naive, run_row, single
from tests.sql.rows import LEVEL_START, PURCHASE, SESSION_START, Warehouse

pytestmark = pytest.mark.stack
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("now", INSTANTS[:3], ids=INSTANT_IDS[:3])
def test_ingestion_measurements(warehouse, settings, now):
    settings = dataclasses.replace(settings, health_dlq_rate_runs=3)  # whatever the environment says
    wh = Warehouse(warehouse, settings)
    wh.insert(
        "ingestion_runs",
        [
            run_row(now - 25 * HOUR, 100, {"malformed_json": 50}),  # a DLQ-rate run, but not of the last 24 h
            run_row(now - 20 * MINUTE, 0),  # consumed nothing: not one of the DLQ rate's runs
            run_row(now - 15 * MINUTE, 200, {"invalid_price": 2}),
            run_row(now - 10 * MINUTE, 100, {"malformed_json": 1}),
            run_row(now - 5 * MINUTE, 300, eps=42.5),
            run_row(now + MINUTE, 1000, {"malformed_json": 1000}, eps=999.0),  # after now: not seen
            run_row(now - 3 * DAY, 10, {"oversize": 10}),  # outside the 2-day window
        ],
    )
    wh.insert_events(
        [
            ingested_event(SESSION_START, now - 12 * MINUTE, now - 10 * MINUTE),  # the newest stored by now
            ingested_event(SESSION_START, now - 30 * MINUTE, now + MINUTE),  # stored after now
            ingested_event(SESSION_START, now - 5 * DAY, now - MINUTE),  # an event day outside the window
        ]
    )
    measured = measure(warehouse, settings, now)

    assert single(measured, "freshness_seconds") == 600
    assert single(measured, "seconds_since_successful_ingestion") == 300
    assert single(measured, "events_per_second") == 42.5
    assert single(measured, "dlq_rate") == pytest.approx((0 + 1 + 2) / (300 + 100 + 200))  # the last 3 runs
    dead = by_subject(measured, "dead_lettered_24h")
    assert set(dead) == {r.value for r in Reason}  # every reason, 0 when none
    assert {r: v for r, v in dead.items() if v} == {"malformed_json": 1, "invalid_price": 2}


def test_nothing_seen_is_as_bad_as_the_window_and_rates_are_zero(warehouse, settings):
    # Ingestion succeeded once, long ago (its watermark row): from then on nothing seen is an incident.
    record_watermarks(warehouse, settings, [Watermark(settings.raw_topic, 0, FIXED - 30 * DAY, None, 5)])
    measured = measure(warehouse, settings, FIXED)
    assert single(measured, "seconds_since_successful_ingestion") == 2 * 86400  # no run in the 2-day window
    # No event: at least since the start of the day 2 days back.
    assert single(measured, "freshness_seconds") == (FIXED - midnight(FIXED - 2 * DAY)).total_seconds()
    assert single(measured, "dlq_rate") == 0 and single(measured, "events_per_second") == 0
    assert set(by_subject(measured, "events_24h").values()) == {0}
    assert by_subject(measured, "dag_run_failed") == {INGEST_DAG: 0, HEALTH_DAG: 0}  # the daily DAG: per day run
    assert not by_subject(measured, "daily_metrics_late_seconds") and not by_subject(measured, "failed_checks")


@pytest.mark.parametrize("now", INSTANTS[:3], ids=INSTANT_IDS[:3])
def test_event_volume_per_hour_and_group(warehouse, settings, now):
    wh = Warehouse(warehouse, settings)
    wh.insert_events(
        [
            ingested_event(LEVEL_START, now - 10 * MINUTE),  # the current hour
            ingested_event(LEVEL_START, now - 10 * MINUTE),
            ingested_event(PURCHASE, now - 23 * HOUR),  # 23 buckets back: the oldest counted
            ingested_event(SESSION_START, now - 24 * HOUR - 40 * MINUTE),  # 25 buckets back: not counted
            ingested_event(SESSION_START, now + 5 * MINUTE),  # after now
        ]
    )
    refresh_event_volume(warehouse, settings, now)
    first = query_rows(warehouse, f"SELECT * FROM {settings.table('event_volume_hourly')} WHERE hour > '2000-01-01'")
    refresh_event_volume(warehouse, settings, now)  # a re-run changes nothing
    again = query_rows(warehouse, f"SELECT * FROM {settings.table('event_volume_hourly')} WHERE hour > '2000-01-01'")
    assert sorted(first, key=str) == sorted(again, key=str)
    assert {(r["hour"], r["event_group"], r["events"]) for r in first} == {
        (hour_of(now - 10 * MINUTE), "level", 2),
        (hour_of(now - 23 * HOUR), "purchase", 1),
    }
    assert {r["measured_at"] for r in first} == {now}
    assert by_subject(measure(warehouse, settings, now), "events_24h") == {"level": 2, "purchase": 1, "session": 0}

    wh.insert_events([ingested_event(PURCHASE, now - 2 * HOUR)])  # a late event: its hour is updated
    refresh_event_volume(warehouse, settings, now + MINUTE)
    assert by_subject(measure(warehouse, settings, now + MINUTE), "events_24h")["purchase"] == 2


def live_counts(day: datetime) -> dict:
    """A live_event_counts row of ``day``: the days with events beyond the last 3 come from there."""
    return {"window_start": naive(day), "event_date": day.date(), "event_type": SESSION_START, "platform": "ios",
            "events": 1, "purchases": 0, "revenue_usd": 0.0, "added_at": naive(day)}  # fmt: skip


@pytest.mark.parametrize("now", INSTANTS, ids=INSTANT_IDS)
def test_daily_metrics_late_per_day(warehouse, settings, now):
    today = midnight(now)
    wh = Warehouse(warehouse, settings)
    wh.insert_events([ingested_event(SESSION_START, today - n * DAY + HOUR, now - HOUR) for n in range(0, 5)])
    finished = today - DAY + HOUR  # the runs of D-2 and D-3 ended on D-1 (before now)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d2", (today - 2 * DAY).date(), "success", "", finished)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d3", (today - 3 * DAY).date(), "failed", "x", finished)
    # A success of D-1 that ends after now is not seen by a measurement of now.
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d1", (today - DAY).date(), "success", "", now + MINUTE)
    # Another DAG's success says nothing about D-3.
    record_dag_run_outcome(warehouse, settings, INGEST_DAG, "i", (today - 3 * DAY).date(), "success", "", finished)

    late = by_subject(measure(warehouse, settings, now), "daily_metrics_late_seconds")
    # D-1 ended at today's midnight, D-3 at D-2's; today has not ended; D-4 is before the first day the daily DAG
    # ran (D-3): the pipeline's history starts there.
    assert late == {
        (today - DAY).date().isoformat(): (now - today).total_seconds(),
        (today - 3 * DAY).date().isoformat(): (now - (today - 2 * DAY)).total_seconds(),
    }


@pytest.mark.parametrize("now", INSTANTS, ids=INSTANT_IDS)
def test_a_late_day_stays_late_until_its_metrics_are_complete_within_the_horizon(warehouse, settings, now):
    """Issue 18: a day whose metrics are missing fires however old, up to the horizon (30 days), not only 3 days."""
    today = midnight(now)
    wh = Warehouse(warehouse, settings)
    wh.insert("live_event_counts", [live_counts(today - n * DAY + HOUR) for n in (8, 10, 12, 30, 31)])
    done = today - 11 * DAY
    for n in (12, 11):  # the daily DAG ran from D-12 on; D-11 too; D-10 and D-8 never succeeded
        record_dag_run_outcome(warehouse, settings, DAILY_DAG, f"d{n}", (today - n * DAY).date(), "success", "", done)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d10", (today - 10 * DAY).date(), "failed", "x", done)
    late = by_subject(measure(warehouse, settings, now), "daily_metrics_late_seconds")
    # D-30 and D-31: before the first day the daily DAG ran (D-30 is in the horizon, D-31 not even that).
    assert late == {(today - n * DAY).date().isoformat(): (now - (today - (n - 1) * DAY)).total_seconds()
                    for n in (8, 10)}  # fmt: skip
    # Its metrics complete (a later successful run of D-10): no longer late.
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d10b", (today - 10 * DAY).date(), "success", "", now)
    assert set(by_subject(measure(warehouse, settings, now), "daily_metrics_late_seconds")) == {
        (today - 8 * DAY).date().isoformat()
    }


@pytest.mark.parametrize("now", INSTANTS, ids=INSTANT_IDS)
def test_failed_and_warned_checks_and_failed_dags(warehouse, settings, now):
    today = midnight(now).date()
    wh = Warehouse(warehouse, settings)

    def check(day_offset: int, name: str, status: str, rows: int) -> dict:
        severity = "warn" if status == "warn" else "fail"
        return {"day": today - timedelta(days=day_offset), "table_name": "level_metrics", "check_name": name,
                "severity": severity, "status": status, "offending_rows": rows, "checked_at": naive(now)}  # fmt: skip

    wh.insert(
        "check_results",
        [
            check(1, "rates_in_unit_interval", "fail", 3),
            check(1, "key_unique_not_null", "pass", 0),
            check(2, "volume", "warn", 5),
            check(8, "rates_in_unit_interval", "fail", 9),  # 8 days old and still failing: fires (issue 18)
            check(30, "volume", "warn", 1),  # the horizon's first day: still measured
            check(31, "rates_in_unit_interval", "fail", 4),  # older than the 30-day horizon
        ],
    )
    at = lambda d: f"level_metrics.{{}}@{today - timedelta(days=d)}"  # noqa: E731
    daily = lambda d: f"{DAILY_DAG}@{today - timedelta(days=d)}"  # noqa: E731
    for dag, run, day, state, finished in (
        (INGEST_DAG, "i1", None, "failed", now - HOUR),
        (INGEST_DAG, "i2", None, "success", now - 10 * MINUTE),  # the latest: recovered
        (DAILY_DAG, "d2", 2, "failed", now - 2 * HOUR),  # D-2 failed ...
        (DAILY_DAG, "d1", 1, "success", now - HOUR),  # ... D-1's success, later, does not fix D-2
        (DAILY_DAG, "d3", 3, "failed", now - 2 * DAY),
        (DAILY_DAG, "d3b", 3, "success", now - DAY),  # D-3 failed, then a re-run of D-3 succeeded
        (DAILY_DAG, "d20", 20, "failed", now - 19 * DAY),  # 20 days old, never fixed: fires
        (DAILY_DAG, "d4", 4, "success", now + MINUTE),  # after now
    ):
        run_day = None if day is None else today - timedelta(days=day)
        failed_task = "t" if state == "failed" else ""
        record_dag_run_outcome(warehouse, settings, dag, run, run_day, state, failed_task, finished)

    measured = measure(warehouse, settings, now)
    assert by_subject(measured, "failed_checks") == {
        at(1).format("rates_in_unit_interval"): 3,
        at(8).format("rates_in_unit_interval"): 9,
    }
    assert by_subject(measured, "warned_checks") == {at(2).format("volume"): 5, at(30).format("volume"): 1}
    assert by_subject(measured, "dag_run_failed") == {
        INGEST_DAG: 0, HEALTH_DAG: 0, daily(1): 0, daily(2): 1, daily(3): 0, daily(20): 1,
    }  # fmt: skip
    assert all(isinstance(m, Measurement) for m in measured)


def test_now_must_be_aware(warehouse, settings):
    with pytest.raises(ValueError, match="timezone"):
        measure(warehouse, settings, datetime(2026, 3, 10, 12, 0))
    assert measure(warehouse, settings, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize("now", INSTANTS[:3], ids=INSTANT_IDS[:3])
def test_the_first_expected_day_does_not_move_while_the_days_after_it_are_watched(warehouse, settings, now):
    """The daily DAG ran D-30 (its run ended on D-29) and D-26; D-29 .. D-27 had events and no run. A day later D-30
    is older than the horizon: the late days after it must stay late (not resolve because the first day moved)."""
    today = midnight(now)
    Warehouse(warehouse, settings).insert(
        "live_event_counts", [live_counts(today - n * DAY + HOUR) for n in (29, 28, 27)]
    )
    for n in (30, 26):
        record_dag_run_outcome(warehouse, settings, DAILY_DAG, f"d{n}", (today - n * DAY).date(), "success", "",
                               today - (n - 1) * DAY + HOUR)  # fmt: skip
    late = lambda at: set(by_subject(measure(warehouse, settings, at), "daily_metrics_late_seconds"))  # noqa: E731
    expected = {(today - n * DAY).date().isoformat() for n in (29, 28, 27)}
    assert late(now) == expected
    assert late(now + DAY) == expected


@pytest.mark.parametrize("now", INSTANTS[:3], ids=INSTANT_IDS[:3])
def test_a_daily_run_without_a_day_fires_for_the_dag_until_a_later_daily_run_succeeds(warehouse, settings, now):
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "manual", None, "failed", "wait_for_events", now - HOUR)
    failed = by_subject(measure(warehouse, settings, now), "dag_run_failed")
    assert failed[DAILY_DAG] == 1
    day = (midnight(now) - DAY).date()
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "d1", day, "success", "", now - MINUTE)
    failed = by_subject(measure(warehouse, settings, now), "dag_run_failed")
    assert failed[DAILY_DAG] == 0 and failed[f"{DAILY_DAG}@{day}"] == 0
