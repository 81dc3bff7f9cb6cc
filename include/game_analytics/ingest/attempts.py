"""Every ingestion attempt's row of ``ingestion_runs``: the ingestion domain records itself, including a failed try.

An attempt is one try of one shard of a run, keyed by (run_id, try_number, shard). Its row is written twice over:

- by each batch's warehouse script (:func:`batch_row_sql`, appended to ``sql/ingest_batch.sql`` after the
  offsets), with the counts so far plus what that batch appended (the script's ``batch_*`` variables): the row
  moves with the data it describes, in the same script (one transaction in production; the whole script
  on the server once sent otherwise), so a SIGKILL at any point can't leave a committed batch uncounted;
- by the attempt as it ends (:func:`record_attempt`): ``success``, or ``failed`` with the error, and the exact
  dead letters per reason (the script knows them only when a batch added all of its dead letters or none).

A killed attempt's row stays ``running`` with what it committed. A retry (the next try) has its own row, so the
DLQ rate and events/s (sql/health_measurements/measure.sql) count what every attempt of a run committed. The SQL
is ``sql/ingestion_runs/merge.sql``; rows go through the shared writer of warehouse/rows.py. No Airflow import.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from game_analytics.config import Settings
from game_analytics.ingest.report import IngestionReport
from game_analytics.warehouse.rows import literal_rows, sql_literal, write_rows
from game_analytics.warehouse.sql_templates import render_sql

if TYPE_CHECKING:
    from game_analytics.ingest.batch import PreparedBatch

log = logging.getLogger(__name__)

ATTEMPT_STATES = ("running", "failed", "success")
# How far back the MERGE looks for the row it replaces (its partition bound): an attempt's earlier writes, and an
# earlier start under the same key, finished within a day of this start (30-minute timeout, minutes of retries).
RUN_REPLACE_HORIZON = timedelta(days=1)


def mark_progress(report: IngestionReport, started: float) -> None:
    """The report's seconds, events/s and finished_at as of now (``started``: the run's ``time.monotonic()``)."""
    report.seconds = round(time.monotonic() - started, 3)
    report.events_per_second = round(report.consumed / report.seconds, 1) if report.seconds else 0.0
    report.finished_at = datetime.now(UTC).isoformat()


def attempt_row(report: IngestionReport, state: str, error: BaseException | None = None) -> dict:
    """The attempt's ``ingestion_runs`` row from ``report``; a failed attempt's stopped_because names its error."""
    if state not in ATTEMPT_STATES:
        raise ValueError(f"state must be one of {ATTEMPT_STATES}, got {state!r}")
    stopped = f"error: {type(error).__name__}: {error}"[:500] if error is not None else report.stopped_because
    return {
        "run_id": report.run_id,
        "consumer_group": report.consumer_group,
        "started_at": datetime.fromisoformat(report.started_at),
        "finished_at": datetime.fromisoformat(report.finished_at),
        "consumed": report.consumed,
        "loaded": report.loaded,
        "duplicates": report.already_stored,
        "dead_lettered": report.dead_lettered,
        "already_dead_lettered": report.already_dead_lettered,
        "dead_lettered_by_reason": _by_reason(report.dead_lettered_by_reason),
        "seconds": float(report.seconds),
        "events_per_second": float(report.events_per_second),
        "consumer_lag": report.consumer_lag,
        "stopped_because": stopped or None,
        "shard": report.shard,
        "try_number": report.try_number,
        "state": state,
    }


def _by_reason(counts) -> str:
    return json.dumps(dict(sorted(counts.items())))


def _since(report: IngestionReport) -> str:
    return (datetime.fromisoformat(report.started_at) - RUN_REPLACE_HORIZON).isoformat()


def record_attempt(client, settings: Settings, report: IngestionReport, state: str, error=None) -> None:
    """MERGE the attempt's row as it ends (``success`` or ``failed``); the report's timing must be set."""
    row = attempt_row(report, state, error)
    write_rows(client, settings, "ingestion_runs/merge.sql", "ingestion_runs", [row], since=_since(report))


def record_failure(client, settings: Settings, report: IngestionReport, error: BaseException) -> None:
    """Mark the attempt failed (its batches' scripts counted what it committed); a failing write only logs: the
    attempt's own error is the one to raise."""
    try:
        record_attempt(client, settings, report, "failed", error)
    except Exception as write_error:
        log.error("could not mark ingestion attempt %s failed: %r", report.run_id, write_error)


def batch_row_sql(settings: Settings, report: IngestionReport, batch: PreparedBatch, started: float) -> str:
    """The MERGE of the attempt's row that ``batch``'s script runs after its offsets: ``report`` (the batches
    before, all acknowledged) plus this batch, whose appended counts are the script's variables ``batch_loaded``
    and ``batch_dead_lettered``. ``report`` is not changed."""
    so_far = replace(report, consumed=report.consumed + batch.consumed, stopped_because="")
    mark_progress(so_far, started)
    (row,) = literal_rows(settings, "ingestion_runs", [attempt_row(so_far, "running")])
    dead = len(batch.dead_letters)
    row["loaded"] = f"{report.loaded} + batch_loaded"
    row["duplicates"] = f"{report.already_stored + batch.valid} - batch_loaded"
    row["dead_lettered"] = f"{report.dead_lettered} + batch_dead_lettered"
    row["already_dead_lettered"] = f"{report.already_dead_lettered + dead} - batch_dead_lettered"
    if dead:
        every = _by_reason(Counter(report.dead_lettered_by_reason) + Counter(d.reason for d in batch.dead_letters))
        row["dead_lettered_by_reason"] = (
            f"IF(batch_dead_lettered = {dead}, {sql_literal(every)}, {row['dead_lettered_by_reason']})"
        )
    return render_sql("ingestion_runs/merge.sql", settings, rows=[row], since=_since(report))
