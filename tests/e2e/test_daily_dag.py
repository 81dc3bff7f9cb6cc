"""`game_analytics_daily` end to end on the local stack, driven the way its users drive it.

Events go through Kafka and a run of `game_events_ingest` (triggered through the REST API), as in production.
`airflow dags test` for a day (twice: identical tables), then `airflow backfill create` over three days with the
scheduler running, checked through the REST API; the Sunday run trains a model and writes its metrics.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG, HEALTH_DAG
from game_analytics.daily.days import last_completable_day, last_sunday_on_or_before
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.demo import (
    HISTORY_DAYS,
    backfill,
    cancel_stale_backfills,
    ingest_now,
    stream_events,
)
from game_analytics.storage import local_path
from game_analytics.warehouse.client import bigquery_client, query_rows
from tests.conftest import CRASH_AT_FILE
from tests.e2e.driving import METRIC_TABLES, airflow_cli, metric_rows, wait_for_no_backfill

pytestmark = pytest.mark.airflow_e2e


def pick_days(now: datetime) -> tuple[date, list[date]]:
    """(the `dags test` day, the three backfill days Fri, Sat, Sun) for a suite started at ``now``.

    Recent (ingestion rejects events older than 30 days) and all of them complete-able at ``now`` (daily/days.py),
    so no run waits for the clock at any hour: the last Sunday that can be processed, and the days before it.
    """
    sunday = last_sunday_on_or_before(last_completable_day(now, load_settings().completeness_grace))
    return sunday - timedelta(days=3), [sunday - timedelta(days=2), sunday - timedelta(days=1), sunday]


DAGS_TEST_DAY, BACKFILL_DAYS = pick_days(datetime.now(UTC))  # the suite's one read of the clock
_SUNDAY = BACKFILL_DAYS[-1]


@pytest.fixture(scope="module")
def loaded(airflow_stack):
    """Events for the test days the way they arrive in production: Kafka, then a run of game_events_ingest."""
    settings = load_settings()
    first = DAGS_TEST_DAY - timedelta(days=HISTORY_DAYS)
    since = datetime.now(UTC) - timedelta(seconds=1)  # other modules' ingestion runs are not this one's
    sent = stream_events(dict(os.environ), settings, first, (BACKFILL_DAYS[-1] - first).days + 1, players=120, seed=11)
    report = ingest_now(AirflowApi(int(os.environ["AIRFLOW__API__PORT"])), since)
    assert report["consumed"] == sent and report["loaded"] + report["dead_lettered"] == sent, report
    return settings


def snapshot(settings, day: date) -> dict[str, list]:
    tables = metric_rows(settings, day)
    features = local_path(settings.features_uri(day.isoformat()))
    tables["exported_files"] = sorted(p.name for p in features.glob("*.parquet"))
    return tables


def dags_test(day: date) -> subprocess.CompletedProcess:
    return airflow_cli("dags", "test", DAILY_DAG, day.isoformat(), check=False)


def train_sunday_again(model_dir) -> dict:
    """Sunday's training alone, after every day's run finished (as day-by-day runs would leave it): the task's local
    training, called in this process into ``model_dir`` (an `airflow tasks test` of it costs a CLI start and a DAG
    parse, and would add a model to the history)."""
    from game_analytics.ml.train_local import train

    settings = load_settings()
    return train(local_path(settings.features_root), model_dir, _SUNDAY, settings.training_lookback_days)


@pytest.fixture
def daily_paused(loaded):
    """`airflow dags test` runs tasks in-process; a running scheduler must not pick up the same run's tasks too."""
    api = AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))
    api.set_paused(DAILY_DAG, True)
    yield
    api.set_paused(DAILY_DAG, False)


def test_dags_test_is_green_and_a_rerun_gives_identical_tables(loaded, daily_paused):
    first = dags_test(DAGS_TEST_DAY)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    before = snapshot(loaded, DAGS_TEST_DAY)
    assert all(before[t] for t in METRIC_TABLES), {t: len(before[t]) for t in METRIC_TABLES}
    assert before["exported_files"], "no features exported"
    again = dags_test(DAGS_TEST_DAY)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert snapshot(loaded, DAGS_TEST_DAY) == before


def test_backfill_three_days_succeeds_and_sunday_trains(loaded, tmp_path):
    backfill(os.environ.copy(), BACKFILL_DAYS[0], BACKFILL_DAYS[-1])
    names = [d.isoformat() for d in BACKFILL_DAYS]
    api = AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))
    runs = api.wait_for_runs(DAILY_DAG, names, timeout=900)
    assert {d: r["state"] for d, r in runs.items()} == dict.fromkeys(names, "success")
    assert all(r["run_type"] == "backfill" for r in runs.values())
    client = bigquery_client(loaded)
    # The training is in the model history (ml/registry.py) with its decision, which the task returns.
    model = api.xcom(DAILY_DAG, runs[_SUNDAY.isoformat()]["dag_run_id"], "trigger_ml_training")
    history = f"SELECT decision FROM {loaded.table('model_runs')} WHERE training_date = '{_SUNDAY}'"
    assert query_rows(client, f"{history} AND model_id = '{model['model_id']}'") == [{"decision": model["decision"]}]
    metrics = json.loads((local_path(model["model_uri"]) / "metrics.json").read_text())
    assert metrics["rows"] > 0 and metrics["features"] and "mae" in metrics
    # The days ran in parallel; Sunday's training waited for the others (wait_for_training_days) and read them all,
    # so it is the model that training Sunday after the days were run one by one gives.
    assert set(names) <= set(metrics["feature_days"]), metrics["feature_days"]
    assert train_sunday_again(tmp_path) == metrics
    saturday = BACKFILL_DAYS[1].isoformat()
    assert not local_path(loaded.model_uri(saturday)).exists(), "Saturday must not train"
    # The health page's history: each run's outcome (recorded by the DAG's success callback, which the
    # dag-processor runs after the run ended) and every check's result per day.
    outcomes = f"SELECT run_id, day, state FROM {loaded.table('dag_run_outcomes')} WHERE dag_id = '{DAILY_DAG}'"
    deadline, recorded = time.monotonic() + 120, {}
    while time.monotonic() < deadline and not {r["dag_run_id"] for r in runs.values()} <= recorded.keys():
        recorded = {row["run_id"]: row for row in query_rows(client, outcomes)}
        time.sleep(0.5)
    for day, run in runs.items():
        assert (str(recorded[run["dag_run_id"]]["day"]), recorded[run["dag_run_id"]]["state"]) == (day, "success")
    table = loaded.table("check_results")
    results = f"SELECT DISTINCT CAST(day AS STRING) AS day FROM {table} WHERE day >= '{names[0]}'"
    checked = query_rows(client, results)
    assert set(names) <= {row["day"] for row in checked}


def _health_run(api: AirflowApi) -> dict:
    """A run of pipeline_health through the scheduler (its task asks Airflow's runs through the Task SDK)."""
    run = api.run_now(HEALTH_DAG, timeout=300)
    assert run["state"] == "success", run
    return api.xcom(HEALTH_DAG, run["dag_run_id"], "check_health")


def test_lost_callback_writes_are_recorded_from_airflow_run_states(loaded):
    """Issue 18, item 2, through the real scheduler and dag-processor. Saturday's success callback's write is
    dropped (skip point; its first row deleted, then the run re-finished by clearing one task): no outcome of it.
    Friday's run is marked failed through the REST API, which runs no callback on 3.3: a failure nobody recorded.
    The next health run asks Airflow (Task SDK): Saturday is recorded as succeeded (no false daily_metrics_late),
    Friday as failed (airflow_dag_failed fires for Friday alone: the subject is the DAG and the day). Friday
    marked succeeded again: recorded, and resolved."""
    api = AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))
    friday, saturday = (d.isoformat() for d in BACKFILL_DAYS[:2])
    runs = api.runs_by_day(DAILY_DAG, [friday, saturday])
    assert {d: r["state"] for d, r in runs.items()} == {friday: "success", saturday: "success"}
    client, outcomes = bigquery_client(loaded), loaded.table("dag_run_outcomes")
    recorded = f"SELECT run_id, state FROM {outcomes} WHERE dag_id = '{DAILY_DAG}' "
    recorded += f"AND day IN ('{friday}', '{saturday}')"
    friday_path = f"/api/v2/dags/{DAILY_DAG}/dagRuns/{urllib.parse.quote(runs[friday]['dag_run_id'], safe='')}"
    try:
        client.query(f"DELETE FROM {outcomes} WHERE run_id = '{runs[saturday]['dag_run_id']}'").result()
        CRASH_AT_FILE.write_text(f"skip:dag_run_outcome.{DAILY_DAG}.success")
        cleared = api.post(
            f"/api/v2/dags/{DAILY_DAG}/clearTaskInstances",
            {"dry_run": False, "only_failed": False, "dag_run_id": runs[saturday]["dag_run_id"],
             "task_ids": ["trigger_ml_training"]},
        )  # fmt: skip
        assert [ti["task_id"] for ti in cleared["task_instances"]] == ["trigger_ml_training"], cleared
        assert api.wait_for_run(DAILY_DAG, runs[saturday]["dag_run_id"], timeout=300)["state"] == "success"
        deadline = time.monotonic() + 120
        while CRASH_AT_FILE.exists() and time.monotonic() < deadline:  # the dag-processor runs the callback
            time.sleep(0.5)
        assert not CRASH_AT_FILE.exists(), "the success callback never ran, so nothing was dropped"
        api.patch(friday_path, {"state": "failed"})
        report = _health_run(api)
        states = {row["run_id"]: row["state"] for row in query_rows(client, recorded)}
        assert states == {runs[saturday]["dag_run_id"]: "success", runs[friday]["dag_run_id"]: "failed"}, states
        assert report["reconciled_with_airflow"], report
        assert f"airflow_dag_failed[{DAILY_DAG}@{friday}]" in report["firing"], report
        assert f"airflow_dag_failed[{DAILY_DAG}@{saturday}]" not in report["firing"]
        assert f"daily_metrics_late[{saturday}]" not in report["firing"], report
        api.patch(friday_path, {"state": "success"})
        report = _health_run(api)
        assert not [f for f in report["firing"] if f.startswith(f"airflow_dag_failed[{DAILY_DAG}@")], report
        states = {row["run_id"]: row["state"] for row in query_rows(client, recorded)}
        assert states[runs[friday]["dag_run_id"]] == "success"
    finally:
        CRASH_AT_FILE.unlink(missing_ok=True)
        api.patch(friday_path, {"state": "success"})


def test_an_unfinished_backfill_of_an_earlier_start_does_not_block_a_new_one(loaded):
    """`make run` after a `make run ONCE=1` that stopped on an error: that start's backfill is still "running"."""
    api = AirflowApi(int(os.environ["AIRFLOW__API__PORT"]))

    def unfinished_backfills() -> list[int]:
        return [b["id"] for b in api.unfinished_backfills(DAILY_DAG)]

    wait_for_no_backfill(api)  # the previous test's, if any, first
    empty_day = DAGS_TEST_DAY - timedelta(days=HISTORY_DAYS + 3)  # no events: its run waits at wait_for_events
    backfill(os.environ.copy(), empty_day, empty_day)
    unfinished = unfinished_backfills()
    assert unfinished, "the backfill of a day without events should still be running"
    with pytest.raises(RuntimeError, match="AlreadyRunningBackfill"):
        backfill(os.environ.copy(), empty_day, empty_day)  # what the next start met, for 180 s, then died

    next_start = datetime.now(UTC)  # everything created before is an earlier start's
    assert cancel_stale_backfills(api, DAILY_DAG, next_start) == unfinished
    try:
        backfill(os.environ.copy(), empty_day, empty_day)
    finally:  # leave nothing running for the other tests
        cancel_stale_backfills(api, DAILY_DAG, datetime.now(UTC))
        for run in api.runs_by_day(DAILY_DAG, [empty_day.isoformat()]).values():
            if run["state"] not in ("success", "failed"):
                quoted = urllib.parse.quote(run["dag_run_id"], safe="")
                api.patch(f"/api/v2/dags/{DAILY_DAG}/dagRuns/{quoted}", {"state": "failed"})
