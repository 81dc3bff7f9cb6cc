"""The daily DAG's tasks and order come from the catalogue's depends_on, and every task declares its Assets."""

from __future__ import annotations

import pytest

from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG, INGEST_DAG


def upstream(dag, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).upstream_task_ids)


def test_a_check_waits_only_for_what_it_checks(dagbag):
    dag = dagbag.dags[DAILY_DAG]
    # events and events_dlq are built by the ingestion: their checks need the day complete (and de-duplicated, which
    # the sensor does once D is complete), not the metric tables; nothing reads D's events before.
    assert upstream(dag, "checks_events") == upstream(dag, "checks_events_dlq") == {"wait_for_events"}
    for metric in ("level_metrics", "user_daily_metrics", "revenue_daily_metrics"):
        assert upstream(dag, metric) == {"wait_for_events"}
        assert upstream(dag, f"checks_{metric}") == {metric}
    # The export reads level_metrics (which reads events): it waits for those checks, and only those.
    assert upstream(dag, "export_level_features") == {"checks_events", "checks_level_metrics"}
    assert upstream(dag, "wait_for_training_days") == {"export_level_features"}
    assert upstream(dag, "trigger_ml_training") == {"wait_for_training_days"}
    sensor = dag.get_task("wait_for_training_days")
    assert sensor.mode == "reschedule", "waiting for other days' runs must not hold a worker slot"


def test_lineage_raw_topic_to_events_to_metrics_to_features_to_model(dagbag):
    s = load_settings()
    bq = f"bigquery://{s.bq_project}/{s.bq_dataset}"
    ingest = dagbag.dags[INGEST_DAG].get_task("ingest")
    assert [a.uri for a in ingest.inlets] == [f"kafka://{s.kafka_cluster}/{s.raw_topic}"]
    assert {a.uri for a in ingest.outlets} == {
        f"{bq}/{t}"
        for t in (
            "events", "events_dlq", "live_event_counts", "ingestion_offsets", "ingestion_watermarks", "ingestion_runs",
        )
    }  # fmt: skip
    daily = dagbag.dags[DAILY_DAG]
    assert [a.uri for a in daily.get_task("level_metrics").inlets] == [f"{bq}/events"]
    assert [a.uri for a in daily.get_task("level_metrics").outlets] == [f"{bq}/level_metrics"]
    assert [a.uri for a in daily.get_task("export_level_features").inlets] == [f"{bq}/level_metrics"]
    assert [a.uri for a in daily.get_task("export_level_features").outlets] == [
        f"gs://{s.features_bucket}/level_features"
    ]
    assert [a.uri for a in daily.get_task("trigger_ml_training").outlets] == [s.model_root]


@pytest.mark.parametrize(("setting", "interval"), [("10", 10), ("300", 30)])
def test_waiting_for_the_training_days_looks_as_often_as_the_other_sensors_at_most_every_30_s(
    monkeypatch, setting, interval
):
    """A backfill's Sunday waits for its other days; they finish within minutes, so it looks every 30 s, or as often
    as the other sensors (``GA_SENSOR_POKE_SECONDS``) when that is shorter (10 s on the local stack)."""
    from game_analytics.daily.tasks import WaitForTrainingDays

    monkeypatch.setenv("GA_SENSOR_POKE_SECONDS", setting)
    assert WaitForTrainingDays().poke_interval == interval
