"""
### pipeline_health

Every 5 minutes, one run at a time: is the pipeline healthy? One task, `check_health`
(`game_analytics.health.run`):

0. reconciles the recorded outcomes of the DAG runs with the runs Airflow knows (a lost callback's write);
1. measures: Kafka lag per raw-topic partition (messages, seconds), freshness of `events`, the last ingestion
   runs (events/s, DLQ rate, dead letters by reason), events per hour by group, late daily runs, failed and warned
   checks, failed DAG runs (the daily DAG per day);
2. keeps them in `health_measurements` / `event_volume_hourly` (history for the page, Grafana, Prometheus);
3. evaluates `alerts.yaml`: a rule notifies once when it starts firing, reminds at most every
   `GA_ALERT_REMINDER_HOURS`, and notifies once when it resolves. State and notifications are in the warehouse
   before anything is sent, so a retried or killed run neither repeats nor loses a notification.

The numbers are on the "Pipeline health" page of this UI (navigation bar) and at `/pipeline-health/metrics`.
What to do when an alert fires: `docs/runbooks.md`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from game_analytics.dag_defaults import DEFAULT_ARGS, HEALTH_DAG
from game_analytics.health.dag_callbacks import outcome_callbacks


@task(multiple_outputs=False, retries=1, retry_delay=timedelta(seconds=30), execution_timeout=timedelta(minutes=4))
def check_health(**context) -> dict:
    """Measure, record, evaluate alerts and notify for this run's instant: when it was due (``run_after``), which a
    retry keeps and a manual trigger without a logical date has too."""
    from airflow.providers.apache.kafka.hooks.base import KafkaBaseHook

    from game_analytics.config import load_settings
    from game_analytics.health.airflow_runs import known_runs_or_none
    from game_analytics.health.measure import WATCHED_DAGS
    from game_analytics.health.metrics import horizon_start
    from game_analytics.health.run import run_health_check
    from game_analytics.notify.notifier import deliver
    from game_analytics.warehouse.client import airflow_bigquery_client

    settings = load_settings()
    kafka_config = KafkaBaseHook(kafka_config_id=settings.kafka_conn_id)._build_config()
    now = context["dag_run"].run_after
    runs = known_runs_or_none(WATCHED_DAGS, horizon_start(now, settings.alert_horizon_days), now)  # Task SDK
    report = run_health_check(airflow_bigquery_client(settings), settings, now, kafka_config, deliver, runs)
    return report.to_dict()


with DAG(
    dag_id=HEALTH_DAG,
    schedule=timedelta(minutes=5),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=10),
    default_args=DEFAULT_ARGS,
    # outcomes into dag_run_outcomes; a failure fires airflow_dag_failed once, the next good run resolves it
    **outcome_callbacks(),
    tags=["game-analytics", "operations"],
    doc_md=__doc__,
):
    check_health()
