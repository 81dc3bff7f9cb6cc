"""
### game_analytics_daily

Every day at 02:00 UTC, for the previous UTC day D (the run's data interval, `ds`):

1. `create_tables` - idempotent set-up of the dataset and tables.
2. `wait_for_events` - D's `events` partition exists and ingestion has caught up past the end of D plus a grace
   period (`ingestion_watermarks`). Reschedule mode: it holds no worker slot while it waits.
3. `level_metrics`, `user_daily_metrics`, `revenue_daily_metrics` - each replaces partition D from its
   `sql/<table>/query.sql`, in one transaction, so reruns and backfills never duplicate.
4. `checks_<table>` - the SQL checks in `sql/<table>/checks/`. `fail` checks stop the run naming the check,
   table, day and offending values; `warn` checks are logged and returned as the task's XCom.
5. `export_features` - `level_features` for D as Parquet to `gs://<features bucket>/level_features/dt=D/`.
6. `trigger_ml_training` - Sundays only (skipped otherwise): a Vertex AI pipeline when `GA_VERTEX_PROJECT` is
   set, a local scikit-learn training otherwise.

Backfill: `airflow backfill create --dag-id game_analytics_daily --from-date 2026-11-01 --to-date 2026-11-03`.
A manual run processes the UTC day of its logical date (set it in the trigger form; the default, now, is today).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, chain, cross_downstream

from game_analytics.config import load_settings
from game_analytics.dag_defaults import DEFAULT_ARGS
from game_analytics.daily import tasks
from game_analytics.daily.completeness import DayCompleteSensor
from game_analytics.daily.quality import tables_with_checks
from game_analytics.timetables import DayAfterTimetable
from game_analytics.warehouse.setup_task import create_tables
from game_analytics.warehouse.sql_templates import SQL_DIR, sql_context

settings = load_settings()

with DAG(
    dag_id="game_analytics_daily",
    schedule=DayAfterTimetable(delay_minutes=120),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=3,
    default_args=DEFAULT_ARGS,
    tags=["game-analytics", "bigquery", "daily"],
    doc_md=__doc__,
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros=sql_context(settings),
):
    metrics = [tasks.metric_table(table, settings) for table in tasks.METRIC_TABLES]
    checks = [tasks.run_checks.override(task_id=f"checks_{t}")(t) for t in tables_with_checks()]
    chain(create_tables(), DayCompleteSensor(task_id="wait_for_events"), metrics)
    cross_downstream(metrics, checks)
    chain(checks, tasks.export_features(settings), tasks.trigger_ml_training())
