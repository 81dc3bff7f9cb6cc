"""Outcomes from Airflow's run states: the recorded ``dag_run_outcomes`` reconciled with the runs Airflow knows.

Why: the outcomes are written by the DAGs' callbacks, which the dag-processor runs best effort. A lost success made
``daily_metrics_late`` fire for a day that succeeded; a lost failure hid a failed run from ``airflow_dag_failed``.
Airflow's metadata database is the source of truth for what ran, so every health run first asks Airflow (the DAG
layer does, through the Task SDK: dags/pipeline_health.py, health/airflow_runs.py; no task reads the metadata
database) for the finished runs the measurements depend on, and records each one whose outcome is missing or says
another state. A callback that writes later writes the same row again (MERGE on dag_id, run_id).

No Airflow import: the runs arrive as plain :class:`AirflowRun` values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from game_analytics.config import Settings
from game_analytics.health.records import DAG_RUN_STATES, OUTCOME_REPLACE_HORIZON, write_rows
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AirflowRun:
    """A finished DAG run as Airflow knows it."""

    dag_id: str
    run_id: str
    day: date | None  # the day D of a daily run, else None
    state: str  # success or failed
    end_date: datetime


def to_record(runs: Iterable[AirflowRun], recorded: Mapping[tuple[str, str], str]) -> list[AirflowRun]:
    """The finished runs whose outcome is not recorded, or recorded with another state, in the given order."""
    return [run for run in runs if run.state in DAG_RUN_STATES and recorded.get((run.dag_id, run.run_id)) != run.state]


def read_recorded(client, settings: Settings, dag_ids: Sequence[str], since: datetime, now: datetime) -> dict:
    """(dag_id, run_id) -> state of the outcomes recorded for ``dag_ids`` that finished in (since, now]."""
    sql = render_sql(
        "dag_run_outcomes/recorded.sql",
        settings,
        dag_ids=list(dag_ids),
        since=since.astimezone(UTC).isoformat(),
        now=now.astimezone(UTC).isoformat(),
    )
    return {(row["dag_id"], row["run_id"]): row["state"] for row in query_rows(client, sql)}


def reconcile_outcomes(client, settings: Settings, now: datetime, runs: Sequence[AirflowRun]) -> list[AirflowRun]:
    """Record the outcome of every run of ``runs`` (finished by ``now``) that is missing or differs; returns them."""
    runs = [r for r in runs if r.end_date <= now]
    if not runs:
        return []
    since = min(r.end_date for r in runs) - OUTCOME_REPLACE_HORIZON  # the partitions the MERGE may replace in
    missing = to_record(runs, read_recorded(client, settings, sorted({r.dag_id for r in runs}), since, now))
    rows = [
        {
            "dag_id": r.dag_id,
            "run_id": r.run_id,
            "day": r.day,
            "state": r.state,
            "failed_tasks": None,  # Airflow's run state does not say which task failed; the callback's row does
            "finished_at": r.end_date,
        }
        for r in missing
    ]
    write_rows(client, settings, "dag_run_outcomes/merge.sql", "dag_run_outcomes", rows, since=since.isoformat())
    for r in missing:  # info: a run that just ended may simply be ahead of its callback (which writes the same row)
        log.info("outcome of %s %s (%s) was not recorded as %s: recorded from Airflow", r.dag_id, r.run_id,
                 r.day or "-", r.state)  # fmt: skip
    return missing
