"""Outcomes from Airflow's run states (issue 18, item 2): a DAG callback's lost write neither raises a false
``daily_metrics_late`` nor hides a failure, because the health run first records the outcome of every finished run
Airflow knows that is missing or says another state (health/reconcile.py).

Real emulator, a fresh dataset per test; the runs Airflow knows are given as values here (the Task SDK side,
health/airflow_runs.py, is run through a real Airflow in tests/e2e/test_daily_dag.py); instants are fixed: a Monday
00:30 UTC, the 1st of a month, Feb 29. Each test first shows the alarm (or the silence) the lost write causes
without the reconciliation, so it can fail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from game_analytics.dag_defaults import DAILY_DAG, HEALTH_DAG, INGEST_DAG
from game_analytics.health.airflow_runs import known_runs, known_runs_or_none
from game_analytics.health.reconcile import AirflowRun, reconcile_outcomes, to_record
from game_analytics.health.records import record_dag_run_outcome
from game_analytics.health.run import run_health_check
from game_analytics.warehouse.client import query_rows
from tests.health.conftest import INSTANT_IDS, INSTANTS
from tests.health.test_measure import live_counts, midnight
from tests.sql.rows import Warehouse

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
NOW = [INSTANTS[1], INSTANTS[2], INSTANTS[3]]
NOW_IDS = [INSTANT_IDS[1], INSTANT_IDS[2], INSTANT_IDS[3]]


def _check(warehouse, settings, now, runs=None) -> list[str]:
    return run_health_check(warehouse, settings, now, None, lambda body: None, runs).firing


def _days_with_events(warehouse, settings, today: datetime, *days: int) -> None:
    Warehouse(warehouse, settings).insert("live_event_counts", [live_counts(today - n * DAY + HOUR) for n in days])


@pytest.mark.stack
@pytest.mark.parametrize("now", NOW, ids=NOW_IDS)
def test_a_lost_success_does_not_make_its_day_late(warehouse, settings, now):
    today = midnight(now)
    d2, d3 = (today - 2 * DAY).date(), (today - 3 * DAY).date()
    _days_with_events(warehouse, settings, today, 2, 3)
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "r3", d3, "success", "", today - 2 * DAY + HOUR)
    # D-2's run succeeded, but its success callback's write was lost: without Airflow's states, a false alarm.
    assert f"daily_metrics_late[{d2}]" in _check(warehouse, settings, now)
    ran = AirflowRun(DAILY_DAG, "r2", d2, "success", today - DAY + HOUR)
    firing = _check(warehouse, settings, now + timedelta(minutes=5), [ran])
    assert f"daily_metrics_late[{d2}]" not in firing, firing
    rows = query_rows(warehouse, f"SELECT run_id, day, state, failed_tasks FROM {settings.table('dag_run_outcomes')}")
    assert {"run_id": "r2", "day": d2, "state": "success", "failed_tasks": None} in rows


@pytest.mark.stack
@pytest.mark.parametrize("now", NOW, ids=NOW_IDS)
def test_a_lost_failure_is_not_hidden(warehouse, settings, now):
    today = midnight(now)
    d2 = (today - 2 * DAY).date()
    _days_with_events(warehouse, settings, today, 2)
    # D-2 succeeded once; a re-run of it failed and its failure callback's write was lost: nothing fires.
    record_dag_run_outcome(warehouse, settings, DAILY_DAG, "first", d2, "success", "", today - DAY)
    record_dag_run_outcome(warehouse, settings, INGEST_DAG, "i1", None, "success", "", now - HOUR)
    assert not [f for f in _check(warehouse, settings, now) if f.startswith("airflow_dag_failed")]
    runs = [
        AirflowRun(DAILY_DAG, "rerun", d2, "failed", now - 2 * HOUR),
        AirflowRun(INGEST_DAG, "i2", None, "failed", now - HOUR / 2),  # the ingestion's latest run failed, unrecorded
        AirflowRun(INGEST_DAG, "i1", None, "success", now - HOUR),  # recorded already: not written again
    ]
    firing = _check(warehouse, settings, now + timedelta(minutes=5), runs)
    assert f"airflow_dag_failed[{DAILY_DAG}@{d2}]" in firing and f"airflow_dag_failed[{INGEST_DAG}]" in firing
    # Reconciling the same runs again writes nothing (each is recorded with Airflow's state now).
    assert reconcile_outcomes(warehouse, settings, now + timedelta(minutes=10), runs) == []


def test_only_runs_missing_or_recorded_with_another_state_are_written():
    end = datetime(2028, 2, 29, 0, 30, tzinfo=UTC)
    runs = [
        AirflowRun(DAILY_DAG, "a", date(2028, 2, 28), "success", end),
        AirflowRun(DAILY_DAG, "b", date(2028, 2, 27), "failed", end),
        AirflowRun(DAILY_DAG, "c", date(2028, 2, 26), "success", end),
        AirflowRun(HEALTH_DAG, "a", None, "success", end),  # same run id, another DAG
    ]
    recorded = {(DAILY_DAG, "a"): "success", (DAILY_DAG, "b"): "success"}
    assert [(r.dag_id, r.run_id) for r in to_record(runs, recorded)] == [
        (DAILY_DAG, "b"), (DAILY_DAG, "c"), (HEALTH_DAG, "a"),
    ]  # fmt: skip


def test_the_runs_asked_of_airflow_are_each_horizon_day_of_the_daily_dag_and_the_latest_of_the_others():
    """known_runs with a stand-in for the Task SDK's GetPreviousDagRun (the execution API: the latest run of the DAG
    whose logical date is before the given one), at Feb 29 00:30 UTC, horizon from Feb 26."""
    now = datetime(2028, 2, 29, 0, 30, tzinfo=UTC)
    midnight_of = lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC)  # noqa: E731
    daily = [  # (logical date, run id, state, end date) of every daily run
        (midnight_of(date(2028, 2, 25)), "r25", "failed", now - 4 * DAY),  # before the horizon's first day
        (midnight_of(date(2028, 2, 26)), "r26", "success", now - 2 * DAY),
        (midnight_of(date(2028, 2, 27)), "r27", "failed", now - DAY),
        (midnight_of(date(2028, 2, 27)) + 12 * HOUR, "m27", "success", now - HOUR),  # a manual run of Feb 27 too
        (midnight_of(date(2028, 2, 28)), "r28", "running", None),
        (midnight_of(date(2028, 2, 28)) + HOUR, "m28", "failed", None),  # marked failed, never ended: left out
    ]
    asked = []

    def previous_run(dag_id, before, state):
        asked.append((dag_id, before, state))
        if dag_id == DAILY_DAG:
            found = [r for r in daily if r[0] < before]
            if not found:
                return None
            logical, run_id, run_state, end = max(found)
            return SimpleNamespace(run_id=run_id, logical_date=logical, state=run_state, end_date=end)
        if dag_id == INGEST_DAG and state == "failed":
            return SimpleNamespace(run_id="i-failed", logical_date=now - HOUR, state="failed", end_date=now - HOUR)
        if dag_id == INGEST_DAG and state == "success":  # ended before the horizon: nothing reads it
            return SimpleNamespace(run_id="i-old", logical_date=now - 9 * DAY, state="success", end_date=now - 9 * DAY)
        return None

    runs = known_runs([INGEST_DAG, DAILY_DAG], date(2028, 2, 26), now, previous_run)
    assert sorted((r.dag_id, r.run_id, r.day, r.state) for r in runs) == [
        (DAILY_DAG, "m27", date(2028, 2, 27), "success"),
        (DAILY_DAG, "r26", date(2028, 2, 26), "success"),
        (DAILY_DAG, "r27", date(2028, 2, 27), "failed"),
        (INGEST_DAG, "i-failed", None, "failed"),
    ]
    days_asked = [b for d, b, _ in asked if d == DAILY_DAG]
    assert midnight_of(date(2028, 3, 1)) in days_asked and midnight_of(date(2028, 2, 26)) in days_asked
    assert {s for d, _, s in asked if d == INGEST_DAG} == {"failed", "success"}


def test_when_airflow_does_not_answer_the_health_run_measures_without_reconciling():
    def unreachable(*args):
        raise ConnectionError("execution API down")

    now = datetime(2028, 2, 29, tzinfo=UTC)
    assert known_runs_or_none([INGEST_DAG], date(2028, 2, 26), now, unreachable) is None


@pytest.mark.stack
def test_a_health_run_without_airflow_runs_says_so(warehouse, settings):
    report = run_health_check(warehouse, settings, INSTANTS[1], None, lambda body: None, None)
    assert report.reconciled_with_airflow is False and report.outcomes_reconciled == []
    report = run_health_check(warehouse, settings, INSTANTS[1], None, lambda body: None, [])
    assert report.reconciled_with_airflow is True
