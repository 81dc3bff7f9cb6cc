"""The health domain's own record: how each DAG run ended (``dag_run_outcomes``, written by the DAG callbacks).

The other operational tables are written by the domain that produces them (``check_results`` by daily/quality.py,
``ingestion_runs`` by ingest/attempts.py), through the shared row writer of warehouse/rows.py: health/ reads them
and imports nothing from daily/ or ingest/ (tests/test_layers.py holds that). The writer replaces what it wrote
before for the same key (a MERGE), so a callback that runs twice never duplicates a row. No Airflow import: the DAG
callbacks call it with a client. ``sql_literal`` and ``write_rows`` are re-exported for the health modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from game_analytics.config import Settings
from game_analytics.warehouse.rows import literal_rows, sql_literal, write_rows

__all__ = ["DAG_RUN_STATES", "literal_rows", "record_dag_run_outcome", "sql_literal", "write_rows"]

DAG_RUN_STATES = ("success", "failed")
# How far back the MERGE of dag_run_outcomes looks for the row it replaces (its partition bound): an outcome
# recorded again (a cleared run) within a week replaces the first, a later one adds a row.
OUTCOME_REPLACE_HORIZON = timedelta(days=7)


def record_dag_run_outcome(
    client,
    settings: Settings,
    dag_id: str,
    run_id: str,
    day: date | None,
    state: str,
    failed_tasks: str | Sequence[str],
    finished_at: datetime,
) -> None:
    """How a run of ``dag_id`` ended (``state``: success or failed), MERGEd on (dag_id, run_id)."""
    if state not in DAG_RUN_STATES:
        raise ValueError(f"state must be one of {DAG_RUN_STATES}, got {state!r}")
    failed = failed_tasks if isinstance(failed_tasks, str) else ",".join(failed_tasks)
    row = {
        "dag_id": dag_id,
        "run_id": run_id,
        "day": day,
        "state": state,
        "failed_tasks": failed or None,
        "finished_at": finished_at,
    }
    since = finished_at - OUTCOME_REPLACE_HORIZON
    write_rows(client, settings, "dag_run_outcomes/merge.sql", "dag_run_outcomes", [row], since=since.isoformat())
