"""The finished runs Airflow knows, asked through the Task SDK (Airflow layer): the input of health/reconcile.py.

A task may not read Airflow's metadata database; the Task SDK's execution API answers instead, inside the running
task: for the daily DAG the run of each day of the alert horizon (the latest run before D + 1 day, kept when it is
D's), for the other DAGs their latest failed and latest successful run. ``GetPreviousDagRun`` is what
``RuntimeTaskInstance.get_previous_dagrun`` sends for its own DAG; the execution API serves it for any DAG id.
One request per day and two per other DAG: about 35 small requests per health run with the default horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.health.reconcile import AirflowRun

FINISHED = ("success", "failed")


def _sdk_previous_run(dag_id: str, before: datetime, state: str | None):
    """The latest run of ``dag_id`` whose logical date is before ``before`` (of ``state``), or None."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import GetPreviousDagRun

    return task_runner.SUPERVISOR_COMMS.send(GetPreviousDagRun(dag_id=dag_id, logical_date=before, state=state)).dag_run


def _run(dag_id: str, run, day: date | None, now: datetime) -> AirflowRun | None:
    state = str(getattr(run.state, "value", run.state))
    if state not in FINISHED:
        return None
    return AirflowRun(dag_id, run.run_id, day, state, run.end_date or now)


def known_runs(
    dag_ids: Sequence[str],
    first_day: date,
    now: datetime,
    previous_run: Callable = _sdk_previous_run,
) -> list[AirflowRun]:
    """The finished runs of ``dag_ids`` the measurements at ``now`` depend on: each daily run of a day from
    ``first_day`` to now's day, and the latest failed and successful run of every other DAG."""
    now = now.astimezone(UTC)
    runs = []
    for dag_id in dag_ids:
        if dag_id == DAILY_DAG:
            for n in range((now.date() - first_day).days + 1):
                day = first_day + timedelta(days=n)
                run = previous_run(dag_id, datetime.combine(day + timedelta(days=1), time(), UTC), None)
                if run is not None and run.logical_date is not None and run.logical_date.astimezone(UTC).date() == day:
                    runs.append(_run(dag_id, run, day, now))
        else:
            runs += [_run(dag_id, run, None, now) for s in FINISHED if (run := previous_run(dag_id, now, s))]
    return [r for r in runs if r is not None]
