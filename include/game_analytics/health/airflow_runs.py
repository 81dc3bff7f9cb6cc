"""The finished runs Airflow knows, asked through the Task SDK (Airflow layer): the input of health/reconcile.py.

A task may not read Airflow's metadata database; the Task SDK's execution API answers instead, inside the running
task: for the daily DAG every run of each day of the alert horizon (the latest run before D + 1 day, then the one
before it while it is still D's: a manual run at D 12:34 processes D too), for the other DAGs their latest failed
and latest successful run, when it ended within the horizon. ``GetPreviousDagRun`` is what
``RuntimeTaskInstance.get_previous_dagrun`` sends for its own DAG; the execution API serves it for any DAG id.
About one request per day and two per other DAG: ~35 small requests per health run with the default horizon.
A run without an end date (marked failed while it never ended) is left out: its outcome cannot be ordered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.health.reconcile import AirflowRun

log = logging.getLogger(__name__)

FINISHED = ("success", "failed")


def _sdk_previous_run(dag_id: str, before: datetime, state: str | None):
    """The latest run of ``dag_id`` whose logical date is before ``before`` (of ``state``), or None."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import GetPreviousDagRun

    return task_runner.SUPERVISOR_COMMS.send(GetPreviousDagRun(dag_id=dag_id, logical_date=before, state=state)).dag_run


def _run(dag_id: str, run, day: date | None, since: datetime) -> AirflowRun | None:
    state = str(getattr(run.state, "value", run.state))
    if state not in FINISHED or run.end_date is None or run.end_date <= since:
        return None
    return AirflowRun(dag_id, run.run_id, day, state, run.end_date)


def _runs_of_day(dag_id: str, day: date, previous_run: Callable) -> list:
    """Every run of ``dag_id`` whose logical date falls on ``day`` (UTC), newest logical date first."""
    runs, before = [], datetime.combine(day + timedelta(days=1), time(), UTC)
    while (run := previous_run(dag_id, before, None)) is not None and run.logical_date is not None:
        if run.logical_date.astimezone(UTC).date() != day:
            break
        runs.append(run)
        before = run.logical_date
    return runs


def known_runs(
    dag_ids: Sequence[str],
    first_day: date,
    now: datetime,
    previous_run: Callable = _sdk_previous_run,
) -> list[AirflowRun]:
    """The finished runs of ``dag_ids`` the measurements at ``now`` depend on: the daily runs of each day from
    ``first_day`` (the horizon's start) to now's day, and the latest failed and successful run of every other DAG
    that ended since ``first_day``."""
    now = now.astimezone(UTC)
    since = datetime.combine(first_day, time(), UTC)
    runs = []
    for dag_id in dag_ids:
        if dag_id == DAILY_DAG:
            for n in range((now.date() - first_day).days + 1):
                day = first_day + timedelta(days=n)
                runs += [_run(dag_id, run, day, since) for run in _runs_of_day(dag_id, day, previous_run)]
        else:
            runs += [_run(dag_id, run, None, since) for s in FINISHED if (run := previous_run(dag_id, now, s))]
    return [r for r in runs if r is not None]


def known_runs_or_none(
    dag_ids: Sequence[str], first_day: date, now: datetime, previous_run: Callable = _sdk_previous_run
) -> list[AirflowRun] | None:
    """:func:`known_runs` through the Task SDK, or None (logged) when Airflow does not answer: the health run then
    measures from the recorded outcomes alone rather than not at all."""
    try:
        return known_runs(dag_ids, first_day, now, previous_run)
    except Exception:  # noqa: BLE001 - the execution API's error must not stop the pipeline's health measurements
        log.exception("asking Airflow for its runs failed: outcomes are not reconciled in this health run")
        return None
