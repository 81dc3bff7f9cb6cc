"""What the e2e modules share to drive the suite's one Airflow and read what a day's run left.

The `airflow` CLI of this venv, with the suite's environment; a wait for a DAG's backfills (Airflow runs one
backfill of a DAG at a time); a day's rows of every metric table, order-free, to compare two runs of the day.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from game_analytics.catalogue import load_catalogue
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.localstack.airflow_api import POLL_SECONDS, AirflowApi
from game_analytics.warehouse.client import bigquery_client, query_rows
from tests.sql.rows import DAY_TABLES

AIRFLOW = str(Path(sys.executable).parent / "airflow")
METRIC_TABLES = load_catalogue().names(kind="metric")


def airflow_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``airflow <args>``; with ``check``, a failure fails the test with the end of its output."""
    done = subprocess.run([AIRFLOW, *args], env=os.environ, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def wait_for_no_backfill(api: AirflowApi, dag_id: str = DAILY_DAG, timeout: float = 120) -> None:
    """Until no backfill of ``dag_id`` is unfinished: the scheduler completes one within ~30 s of its last run,
    and Airflow refuses a new backfill of a DAG while one is running (an earlier test's, say)."""
    deadline = time.monotonic() + timeout
    while unfinished := api.unfinished_backfills(dag_id):
        assert time.monotonic() < deadline, f"backfills of {dag_id} still unfinished after {timeout} s: {unfinished}"
        time.sleep(POLL_SECONDS)


def metric_rows(settings, day: date) -> dict[str, list[dict]]:
    """Day ``day``'s rows of every table the daily DAG builds, each table's in a fixed order (its rows' JSON)."""
    client = bigquery_client(settings)
    return {
        t: sorted(
            query_rows(client, f"SELECT * FROM {settings.table(t)} WHERE `date` = '{day}'"),
            key=lambda row: json.dumps(row, sort_keys=True, default=str),
        )
        for t in DAY_TABLES
    }
