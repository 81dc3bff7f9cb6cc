"""
### game_analytics_daily

Every day at 02:00 UTC, for the previous UTC day D (the run's data interval, `ds`). The tasks come from the table
catalogue, one folder per table under `sql/` (`metadata.yaml`: kind, depends_on, built_by; see
`game_analytics/daily/graph.py`):

1. `create_tables` - idempotent set-up of the dataset and every table with a `schema.sql`.
2. `wait_for_events` - D's `events` partition exists and ingestion has caught up past the end of D plus a grace
   period (`ingestion_watermarks`). Reschedule mode: it holds no worker slot while it waits.
3. one task per table this DAG builds (`level_metrics`, `user_daily_metrics`, `revenue_daily_metrics`, ...) -
   each replaces partition D from its `sql/<table>/query.sql`, in one transaction, after the tables it reads.
4. `checks_<table>` - the SQL checks in `sql/<table>/checks/`, right after the table is built. `fail` checks stop
   the run naming the check, table, day and offending values; `warn` checks are logged and returned as XCom.
5. `export_level_features` - `level_features` for D as Parquet to `gs://<features bucket>/level_features/dt=D/`,
   once the tables it reads passed their checks.
6. `trigger_ml_training` - Sundays only (skipped otherwise): a Vertex AI pipeline when `GA_VERTEX_PROJECT` is
   set, a local scikit-learn training otherwise.

Backfill: `airflow backfill create --dag-id game_analytics_daily --from-date "$(date -u -d '5 days ago' +%F)"
--to-date "$(date -u -d '3 days ago' +%F)" --reprocess-behavior completed`. A backfill run is due as soon as its
day has ended (the scheduled run waits until 02:00); `wait_for_events` still waits until the day is complete.
A manual run processes the UTC day of its logical date (set it in the trigger form; the default, now, is today).
"""

from __future__ import annotations

# Named here so the dag-processor imports them once, before it forks a parser for this file (Airflow pre-imports
# the airflow modules a DAG file names: [dag_processor] parsing_pre_import_modules), not in every parse: the
# tasks' BigQuery operator (with pandas and gRPC) and the assets' URI handlers are 3.3 of the 3.7 s of CPU a
# parse of this file took (tests/dags/test_dag_integrity.py).
import airflow.providers.google.assets.bigquery  # noqa: F401
import airflow.providers.google.assets.gcs  # noqa: F401
import airflow.providers.google.cloud.operators.bigquery  # noqa: F401
import pendulum
from airflow.sdk import DAG

from game_analytics.catalogue import load_catalogue
from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG, DEFAULT_ARGS
from game_analytics.daily.graph import build_daily_tasks
from game_analytics.health.dag_callbacks import outcome_callbacks
from game_analytics.health.deadline import daily_deadline_alert
from game_analytics.timetables import DayAfterTimetable
from game_analytics.warehouse.sql_templates import SQL_DIR, sql_context

settings = load_settings()

with DAG(
    dag_id=DAILY_DAG,
    schedule=DayAfterTimetable(delay_minutes=120),
    # Early enough for any day someone backfills: `airflow backfill create` or `dags test` of a day before the
    # start date runs no task at all, and says so only in a log line. catchup=False: no old runs are scheduled.
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=3,
    default_args=DEFAULT_ARGS,
    # outcomes into dag_run_outcomes (health page, alerts); failures notified at once
    **outcome_callbacks(),
    # D's metrics complete by D+1 06:00 UTC, or `daily_metrics_late` fires at that instant (health/deadline.py).
    # Off by default: on Airflow 3.3.2 a DAG with a deadline fails `airflow dags test` when its run succeeds.
    deadline=daily_deadline_alert() if settings.daily_deadline_alert else None,
    tags=["game-analytics", "bigquery", "daily"],
    doc_md=__doc__,
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros=sql_context(settings),
):
    build_daily_tasks(load_catalogue(settings), settings)
