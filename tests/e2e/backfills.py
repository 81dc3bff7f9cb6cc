"""What the e2e modules share about backfills: the suite's one Airflow runs one backfill of a DAG at a time."""

from __future__ import annotations

import time

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.localstack.airflow_api import AirflowApi


def wait_for_no_backfill(api: AirflowApi, dag_id: str = DAILY_DAG, timeout: float = 120) -> None:
    """Until no backfill of ``dag_id`` is unfinished: the scheduler completes one within ~30 s of its last run,
    and Airflow refuses a new backfill of a DAG while one is running (an earlier test's, say)."""
    deadline = time.monotonic() + timeout
    while unfinished := api.unfinished_backfills(dag_id):
        assert time.monotonic() < deadline, f"backfills of {dag_id} still unfinished after {timeout} s: {unfinished}"
        time.sleep(2)
