"""The tasks of ``game_analytics_daily`` and their order, derived from the table catalogue (``sql/*/metadata.yaml``).

- ``create_tables`` then ``wait_for_events`` (day D of ``events`` complete, then de-duplicated: each event_id of D
  once; the ingestion appends each Kafka message once, an event sent twice is de-duplicated there, per day);
- one task per table the catalogue says this DAG builds: ``<table>`` replaces partition D from its ``query.sql``
  after the tables it ``depends_on`` (or after the sensor when it reads only ``events``); a table built from its own
  previous day (``builds_on_previous_day``: the player state) first waits for D-1 (``previous_day.py``); a feature
  table is exported by ``export_<table>`` from its ``export.sql``;
- ``checks_<table>`` for every table with checks, right after the task that builds that table, or after the sensor
  for a table another DAG builds (``events``, ``events_dlq``): a check waits only for what it checks;
- an export waits for the checks of every table it reads, directly or not; ``wait_for_training_days`` for the
  exports and for the runs of the training lookback's earlier days; then ``trigger_ml_training``.

Each building task declares the tables it reads as inlets and its own as an outlet, so the asset graph shows the
lineage. A new table folder appears here with no Python edit.
"""

from __future__ import annotations

from airflow.sdk import chain

from game_analytics.assets import model_asset, table_asset
from game_analytics.catalogue import Catalogue
from game_analytics.config import Settings
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily import tasks
from game_analytics.daily.completeness import DayCompleteSensor
from game_analytics.daily.previous_day import BuildOnPreviousDay
from game_analytics.warehouse.setup_task import create_tables


def build_daily_tasks(catalogue: Catalogue, settings: Settings) -> None:
    """Create the DAG's tasks (inside ``with DAG(...)``) and wire them."""
    # No Assets on the sensor: Airflow refuses to start a task whose assets no scheduler has activated yet, and
    # `airflow dags test` of a day must get as far as the sensor's own verdict even on a fresh metadata database.
    sensor = DayCompleteSensor(task_id="wait_for_events")  # D complete and de-duplicated: every reader waits for it
    chain(create_tables(), sensor)
    builders = {}
    for table in catalogue:
        if table.built_by != DAILY_DAG:
            continue
        lineage = {
            "inlets": [table_asset(settings, catalogue[d]) for d in table.depends_on],
            "outlets": [table_asset(settings, table)],
        }
        if table.export_sql:
            builders[table.name] = tasks.export_table(table, settings, **lineage)
        elif table.query_sql and table.builds_on_previous_day:  # player state: D after D-1, whatever the order
            builders[table.name] = BuildOnPreviousDay(table=table.name, **lineage)
        elif table.query_sql:
            builders[table.name] = tasks.build_partition(table, settings, **lineage)
    checks = {
        t.name: tasks.check_table.override(task_id=f"checks_{t.name}")(t.name) for t in catalogue if t.check_files
    }
    for name, task in builders.items():
        table = catalogue[name]
        if table.export_sql:  # exports only what passed its checks
            needed = [checks.get(n) or builders.get(n) for n in catalogue.upstream(name)]
        else:
            needed = [builders[n] for n in table.depends_on if n in builders]
        chain([t for t in needed if t is not None] or [sensor], task)
    for name, check in checks.items():
        chain(builders.get(name, sensor), check)
    exports = [builders[n] for n in builders if catalogue[n].export_sql]
    if exports:
        training = tasks.trigger_ml_training.override(outlets=[model_asset(settings)])()
        chain(exports, tasks.WaitForTrainingDays(), training)
