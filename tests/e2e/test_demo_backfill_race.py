"""The demo's backfill re-runs every day of its window, even a day whose run is in flight when it starts.

`make run` failed 3 times in 7 starts: the scheduler creates the scheduled run of the newest day as it starts
(catchup=False), and Airflow's `backfill create` records a day whose run is queued or running as skipped ("in
flight") instead of re-running it. ``demo.recompute_days`` waits for such runs first and then follows the
backfill's own runs. Here the competing run is made on purpose (the suite's scheduler creates no scheduled runs):
a run of the window's last day triggered through the REST API just before the demo's backfill step.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.days import last_completable_day
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.demo import (
    HISTORY_DAYS,
    UNFINISHED,
    ingest_now,
    newest_backfill,
    recompute_days,
    stream_events,
)
from tests.e2e.driving import wait_for_no_backfill
from tests.e2e.test_daily_dag import pick_days
from tests.test_any_day_any_hour import INSTANTS, assert_can_run_now


def pick_race_days(now: datetime) -> list[date]:
    """Two consecutive days, neither a Sunday (no training, so the runs stay short), ending 21 to 23 days before
    the last complete-able day: complete-able at ``now``, recent enough for ingestion (30 days), and before every
    day the other e2e modules load or run (test_daily_dag.py: 19 days back at most; test_rerun_recomputes.py: 20).
    """
    end = last_completable_day(now, load_settings().completeness_grace) - timedelta(days=21)
    end -= timedelta(days={6: 1, 0: 2}.get(end.weekday(), 0))  # a Sunday -> the Saturday; a Monday -> Saturday
    return [end - timedelta(days=1), end]


RACE_DAYS = pick_race_days(datetime.now(UTC))  # this module's one read of the clock


@pytest.mark.parametrize("now", INSTANTS, ids=lambda d: d.strftime("%a-%Y-%m-%dT%H:%M"))
def test_race_days_run_at_once_and_collide_with_no_other_e2e_day(now):
    days = pick_race_days(now)
    assert_can_run_now(now, days, days[0])
    assert days[1] - days[0] == timedelta(days=1) and 6 not in {d.weekday() for d in days}, days
    dags_test_day, _ = pick_days(now)
    first_used = dags_test_day - timedelta(days=HISTORY_DAYS + 3)  # test_daily_dag.py's "day without events"
    last_completable = last_completable_day(now, load_settings().completeness_grace)
    assert days[-1] < min(first_used, last_completable - timedelta(days=20)), (now, days, first_used)


@pytest.fixture(scope="module")
def race_days_loaded(airflow_stack):
    since = datetime.now(UTC)
    sent = stream_events(dict(os.environ), load_settings(), RACE_DAYS[0], len(RACE_DAYS), players=40, seed=23)
    report = ingest_now(AirflowApi(int(os.environ["AIRFLOW__API__PORT"])), since)
    assert report["loaded"] + report["dead_lettered"] == sent, report


@pytest.mark.airflow_e2e
def test_a_run_in_flight_is_waited_for_then_every_day_is_rerun_by_the_backfill(race_days_loaded):
    api = AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))
    wait_for_no_backfill(api)  # an earlier test's
    names = [d.isoformat() for d in RACE_DAYS]
    day = RACE_DAYS[-1]
    logical_date = datetime.combine(day, datetime.min.time(), tzinfo=UTC).isoformat()
    competing = api.post(f"/api/v2/dags/{DAILY_DAG}/dagRuns", {"logical_date": logical_date})
    assert competing["state"] in UNFINISHED, competing

    said: list[str] = []
    runs = recompute_days(os.environ.copy(), api, RACE_DAYS[0], RACE_DAYS[-1], timeout=600, say=said.append)

    # The demo saw the competing run in flight and waited for it, rather than letting the backfill skip its day.
    assert any(competing["dag_run_id"] in line and line.startswith("waiting for") for line in said), said
    assert {d: (r["state"], r["run_type"]) for d, r in runs.items()} == dict.fromkeys(names, ("success", "backfill"))
    # Airflow keeps one run per logical date: the backfill re-queued the competing run as its own and ran it again.
    assert runs[day.isoformat()]["dag_run_id"] == competing["dag_run_id"]
    backfill = newest_backfill(api)
    assert backfill["completed_at"] is not None, backfill
    created = datetime.fromisoformat(backfill["created_at"].replace("Z", "+00:00"))
    assert all(datetime.fromisoformat(r["queued_at"].replace("Z", "+00:00")) >= created for r in runs.values())
    assert not api.unfinished_backfills(DAILY_DAG)
