"""Writers of the operational tables the health measurements read: ingestion runs, check results, DAG outcomes.

Each writer replaces what it wrote before for the same key (a MERGE), so a retried task, a callback that runs
twice or a rerun of a day's checks never duplicates a row. Rows reach the SQL templates as literals made here by
:func:`sql_literal` (text quoted by the one quoting helper, ``sql_string``), in the column order of the table's
``metadata.yaml``, which is checked: a writer that misses or invents a column fails before the warehouse sees it.
No Airflow import: the DAG callbacks and tasks call these with a client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from game_analytics.config import Settings
from game_analytics.warehouse.sql_templates import render_sql, sql_string

if TYPE_CHECKING:
    from game_analytics.daily.quality import CheckResult
    from game_analytics.ingest.run import IngestionReport

DAG_RUN_STATES = ("success", "failed")
# How far back the MERGEs of ingestion_runs and dag_run_outcomes look for the row they replace (their partition
# bound): a retried ingestion try finishes within a day of its run's start (30-minute timeout, minutes of retry
# delay); an outcome recorded again (a cleared run) within a week replaces the first, a later one adds a row.
RUN_REPLACE_HORIZON = timedelta(days=1)
OUTCOME_REPLACE_HORIZON = timedelta(days=7)


def sql_literal(value: object) -> str:
    """``value`` as a GoogleSQL literal: NULL, a number, ``DATE '...'``, ``TIMESTAMP '...'`` (UTC) or a string."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no timezone (pass UTC)")
        return "TIMESTAMP " + sql_string(value.astimezone(UTC).isoformat())
    if isinstance(value, date):
        return "DATE " + sql_string(value.isoformat())
    return sql_string(str(value))


def literal_rows(settings: Settings, table: str, rows: Sequence[Mapping[str, object]]) -> list[dict[str, str]]:
    """``rows`` as SQL literals in ``table``'s column order; a row whose columns are not the table's is an error."""
    from game_analytics.catalogue import load_catalogue

    columns = list(load_catalogue(settings)[table].columns)
    literal = []
    for row in rows:
        if set(row) != set(columns):
            raise ValueError(f"a row of {table} needs exactly the columns {columns}, got {sorted(row)}")
        literal.append({column: sql_literal(row[column]) for column in columns})
    return literal


def write_rows(client, settings: Settings, template: str, table: str, rows: Sequence[Mapping], **variables) -> None:
    """Run ``template`` (a MERGE of ``rows`` into ``table``) and wait for it; nothing to write is a no-op."""
    if rows:
        sql = render_sql(template, settings, rows=literal_rows(settings, table, rows), **variables)
        client.query(sql).result()


def record_ingestion_run(client, settings: Settings, report: IngestionReport) -> None:
    """One successful ingestion run's row of ``ingestion_runs`` per shard (MERGE on (run_id, shard): a retry
    replaces it)."""
    row = {
        "run_id": report.run_id,
        "consumer_group": report.consumer_group,
        "started_at": datetime.fromisoformat(report.started_at),
        "finished_at": datetime.fromisoformat(report.finished_at),
        "consumed": report.consumed,
        "loaded": report.loaded,
        "duplicates": report.already_stored,
        "dead_lettered": report.dead_lettered,
        "already_dead_lettered": report.already_dead_lettered,
        "dead_lettered_by_reason": json.dumps(dict(sorted(report.dead_lettered_by_reason.items()))),
        "seconds": float(report.seconds),
        "events_per_second": float(report.events_per_second),
        "consumer_lag": report.consumer_lag,
        "stopped_because": report.stopped_because,
        "shard": report.shard,
    }
    # Every earlier try of this run finished after the run started; a day before this try's start bounds them.
    since = datetime.fromisoformat(report.started_at) - RUN_REPLACE_HORIZON
    write_rows(client, settings, "ingestion_runs/merge.sql", "ingestion_runs", [row], since=since.isoformat())


def check_status(result: CheckResult) -> str:
    """pass, or the check's severity (warn / fail) when it found offending rows."""
    return "pass" if result.passed else result.check.severity


def record_check_results(
    client,
    settings: Settings,
    table: str,
    day: str,
    results: Sequence[CheckResult],
    dag_run_id: str | None,
    checked_at: datetime,
) -> None:
    """Replace the ``check_results`` rows of (``day``, ``table``) by ``results``, in one statement."""
    from game_analytics.daily.quality import SHOWN_ROWS

    rows = [
        {
            "day": date.fromisoformat(day),
            "table_name": table,
            "check_name": r.check.name,
            "severity": r.check.severity,
            "status": check_status(r),
            "message": None if r.passed else r.message(),
            "offending_rows": len(r.offending),
            # Dates, decimals and timestamps as their text.
            "offending_values": json.dumps(r.offending[:SHOWN_ROWS], default=str),
            "dag_run_id": dag_run_id,
            "checked_at": checked_at,
        }
        for r in results
    ]
    write_rows(client, settings, "check_results/replace.sql", "check_results", rows, day=day, table_name=table)


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
