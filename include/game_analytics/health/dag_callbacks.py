"""DAG-level callbacks of the pipeline DAGs (Airflow layer): each finished run's outcome, and failure notices.

Airflow runs DAG callbacks in the dag-processor once a run has finished. The success and failure callbacks of
every DAG (``game_events_ingest``, ``game_analytics_daily``, ``pipeline_health``) record the outcome in
``dag_run_outcomes``: the health page shows the daily runs per day D from it, and the ``airflow_dag_failed`` and
``daily_metrics_late`` rules read it. The failure callback then fires ``airflow_dag_failed`` at once through the
notifier of every alert and its lifecycle (notify/notifier.py: once, until a good run resolves it).
A callback that cannot reach the warehouse is logged by Airflow and does not change the run's state.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from game_analytics.dag_defaults import DAILY_DAG


def _run_day(context) -> date | None:
    dag_run = context.get("dag_run")
    logical = getattr(dag_run, "logical_date", None)
    return logical.astimezone(UTC).date() if logical is not None and context["dag"].dag_id == DAILY_DAG else None


def _record(context, state: str) -> None:
    from game_analytics.config import load_settings
    from game_analytics.health.records import record_dag_run_outcome
    from game_analytics.warehouse.client import airflow_bigquery_client

    settings = load_settings()
    ti, dag_run = context.get("ti"), context.get("dag_run")
    failed = getattr(ti, "task_id", "") if state == "failed" and ti is not None else ""
    record_dag_run_outcome(
        airflow_bigquery_client(settings),
        settings,
        dag_id=context["dag"].dag_id,
        run_id=context["run_id"],
        day=_run_day(context),
        state=state,
        failed_tasks=failed,
        finished_at=getattr(dag_run, "end_date", None) or datetime.now(UTC),
    )


def record_success(context) -> None:
    _record(context, "success")


def record_failure(context) -> None:
    _record(context, "failed")


def outcome_callbacks() -> dict:
    """``DAG(**outcome_callbacks())`` for a pipeline DAG: outcomes recorded, failures notified."""
    from game_analytics.notify.notifier import dag_failure_notifier

    return {"on_success_callback": record_success, "on_failure_callback": [record_failure, dag_failure_notifier()]}
