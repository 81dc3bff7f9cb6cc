"""A re-run recomputes: through the real scheduler, a day re-run after late events were loaded gets them.

Day D is built once by a backfill; then late events of D arrive (Kafka, then a run of `game_events_ingest`, as in
production), and D is re-run the three ways a user re-runs it: `airflow tasks clear`, `airflow backfill create
--reprocess-behavior completed`, and a task that dies after its work and is retried by the scheduler. Every way
must rebuild D's tables from the events as they are now and pass every check, and a retry must leave exactly
what a clean run leaves. Before `durable=False` (daily/tasks.py), every later try returned the first try's
BigQuery job and the tables kept the old rows.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.days import last_completable_day
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.demo import backfill, ingest_now, stream_events
from game_analytics.warehouse.client import bigquery_client, query_rows
from tests.conftest import CRASH_AT_FILE
from tests.e2e.driving import airflow_cli, metric_rows, wait_for_no_backfill

pytestmark = pytest.mark.airflow_e2e

# A day no other test of the suite builds or snapshots (test_daily_dag.py uses the last completable Sunday and
# the four days before it; the demo race test, days further back): recent enough for ingestion (30 days) at any
# hour, and complete-able now (daily/days.py), so nothing waits for the clock.
DAY: date = last_completable_day(datetime.now(UTC), load_settings().completeness_grace) - timedelta(days=20)
CHECKED_TABLE = "level_metrics"
CLEAN_RUN: dict[str, dict] = {}  # D's tables after the last clean run of this module, while no data changed


@pytest.fixture(scope="module")
def api(airflow_stack) -> AirflowApi:
    return AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))


def load_events(api: AirflowApi, seed: int, players: int) -> int:
    """Events of D for ``players`` new players (disjoint ids per seed) through Kafka and a run of the ingestion."""
    sent = stream_events(dict(os.environ), load_settings(), DAY, 1, players=players, seed=seed)
    report = ingest_now(api, datetime.now(UTC) - timedelta(seconds=1))
    assert report["loaded"] + report["dead_lettered"] >= sent, report
    return sent


def run_of_day(api: AirflowApi) -> dict:
    return api.runs_by_day(DAILY_DAG, [DAY.isoformat()])[DAY.isoformat()]


def wait_for_day(api: AirflowApi) -> dict:
    run = api.wait_for_run(DAILY_DAG, run_of_day(api)["dag_run_id"], timeout=600)
    assert run["state"] == "success", failed_tasks(api, run)
    return run


def failed_tasks(api: AirflowApi, run: dict) -> dict:
    return {
        t["task_id"]: t["state"] for t in api.task_instances(DAILY_DAG, run["dag_run_id"]) if t["state"] != "success"
    }


def tries(api: AirflowApi, run: dict) -> dict[str, int]:
    return {t["task_id"]: t["try_number"] for t in api.task_instances(DAILY_DAG, run["dag_run_id"])}


def tables(settings) -> dict[str, list]:
    """D's rows of every metric table and its check results (status per check), order-free."""
    found = metric_rows(settings, DAY)
    checks = f"SELECT table_name, check_name, status FROM {settings.table('check_results')} WHERE day = '{DAY}'"
    found["check_results"] = sorted(
        json.dumps(r, sort_keys=True) for r in query_rows(bigquery_client(settings), checks)
    )
    return found


def players_in_tables_and_events(settings) -> tuple[int, int]:
    client = bigquery_client(settings)
    built = f"SELECT COUNT(*) AS n FROM {settings.table('user_daily_metrics')} WHERE `date` = '{DAY}'"
    stored = f"SELECT COUNT(DISTINCT user_id) AS n FROM {settings.table('events')} WHERE event_date = '{DAY}'"
    return query_rows(client, built)[0]["n"], query_rows(client, stored)[0]["n"]


def clear_day() -> None:
    airflow_cli("tasks", "clear", DAILY_DAG, "-s", DAY.isoformat(), "-e", DAY.isoformat(), "-y")


@pytest.fixture(scope="module")
def built_once(api):
    """D loaded and built once by a backfill, as the demo does; what its tables held then."""
    settings = load_settings()
    load_events(api, seed=21, players=40)
    wait_for_no_backfill(api)
    backfill(os.environ.copy(), DAY, DAY)
    wait_for_day(api)
    built, stored = players_in_tables_and_events(settings)
    assert built == stored > 0
    return settings


def test_clearing_a_day_rebuilds_it_with_its_late_events(api, built_once):
    before = players_in_tables_and_events(built_once)[0]
    load_events(api, seed=22, players=12)  # late events of D, after D was built
    assert players_in_tables_and_events(built_once)[1] > before
    clear_day()
    wait_for_day(api)  # every check passed, reconcile_with_events included
    built, stored = players_in_tables_and_events(built_once)
    assert built == stored > before, "the cleared run kept the old rows instead of recomputing D"


def test_a_reprocessing_backfill_rebuilds_it_with_its_late_events(api, built_once):
    before = players_in_tables_and_events(built_once)[0]
    load_events(api, seed=23, players=12)
    wait_for_no_backfill(api)
    backfill(os.environ.copy(), DAY, DAY)  # --reprocess-behavior completed: D's successful run is run again
    wait_for_day(api)
    wait_for_no_backfill(api)
    built, stored = players_in_tables_and_events(built_once)
    assert built == stored > before, "the backfill kept the old rows instead of recomputing D"
    CLEAN_RUN["tables"] = tables(built_once)  # a whole run of D on the data as it is now, no try lost


def clean_run_tables(api, settings) -> dict[str, list]:
    """D's tables after a clean run on the current data: the reprocessing backfill's, when this module ran it
    (no data changed since), else those of a run of D cleared for the purpose (the test run on its own)."""
    if "tables" not in CLEAN_RUN:
        clear_day()
        wait_for_day(api)
        CLEAN_RUN["tables"] = tables(settings)
    return CLEAN_RUN["tables"]


def test_a_try_killed_after_its_work_is_retried_to_the_tables_of_a_clean_run(api, built_once):
    """The checks of level_metrics die after recording their results (SIGKILL, as a lost worker); the scheduler
    retries the task; D's tables and check results are those of a clean run, nothing doubled."""
    clean = clean_run_tables(api, built_once)
    CRASH_AT_FILE.write_text(f"checks_recorded.{CHECKED_TABLE}")
    try:
        clear_day()
        run = wait_for_day(api)
        assert not CRASH_AT_FILE.exists(), "no try reached the crash point"
    finally:  # never left armed for the later tests, which share this Airflow
        CRASH_AT_FILE.unlink(missing_ok=True)
    attempts = tries(api, run)
    assert attempts[f"checks_{CHECKED_TABLE}"] == attempts[CHECKED_TABLE] + 1, attempts
    assert tables(built_once) == clean
