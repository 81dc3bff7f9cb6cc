"""DAG-level callbacks of the pipeline DAGs (Airflow layer): each finished run's outcome, and failure notices.

Airflow runs DAG callbacks in the dag-processor once a run has finished. The success and failure callbacks of
every DAG (``game_events_ingest``, ``game_analytics_daily``, ``pipeline_health``) record the outcome in
``dag_run_outcomes``: the health page shows the daily runs per day D from it, and the ``airflow_dag_failed`` and
``daily_metrics_late`` rules read it. The failure callback then fires ``airflow_dag_failed`` at once
(:class:`DagFailureNotifier`: once, until a good run of the same subject resolves it; the subject is the DAG, or
``<dag>@<day>`` for the daily DAG, whose days fail and recover each on its own).
A callback that cannot reach the warehouse is logged by Airflow and does not change the run's state; the dag-
processor runs callbacks best effort, so the health run also reconciles the outcomes with the runs Airflow knows
(health/reconcile.py): a lost callback neither hides a failure nor makes a day look late.

Test hook: ``GA_CRASH_AT_FILE`` naming ``skip:dag_run_outcome.<dag_id>.<state>`` drops one outcome write of that
DAG (crash_points.py), as a callback the dag-processor lost would.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from airflow.sdk import BaseNotifier

from game_analytics.config import Settings, load_settings
from game_analytics.crash_points import skip_point
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.notify.notifier import send

log = logging.getLogger(__name__)

DAG_FAILURE_RULE = "airflow_dag_failed"  # the alerts.yaml rule whose severity, summary and runbook it borrows


def _run_day(context) -> date | None:
    dag_run = context.get("dag_run")
    logical = getattr(dag_run, "logical_date", None)
    return logical.astimezone(UTC).date() if logical is not None and context["dag"].dag_id == DAILY_DAG else None


def failure_subject(dag_id: str, day: date | None) -> str:
    """The subject of ``airflow_dag_failed``: ``<dag>@<day>`` for a daily run of a day, else the DAG (measure.sql
    builds the same)."""
    return f"{dag_id}@{day.isoformat()}" if dag_id == DAILY_DAG and day is not None else dag_id


def _record(context, state: str) -> None:
    from game_analytics.health.records import record_dag_run_outcome
    from game_analytics.warehouse.client import airflow_bigquery_client

    if skip_point(f"dag_run_outcome.{context['dag'].dag_id}.{state}"):
        return
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
    _resolve_a_day_beyond_the_horizon(context)


def _resolve_a_day_beyond_the_horizon(
    context, settings: Settings | None = None, client=None, now: datetime | None = None
) -> None:
    """A successful run of a day older than the alert horizon (a backfill) fixes that day's failure, which no health
    run measures any more: its expired (or firing) ``airflow_dag_failed`` resolves here. Best effort, logged."""
    from game_analytics.health.metrics import horizon_start
    from game_analytics.health.run import measured_instant

    settings, day = settings or load_settings(), _run_day(context)
    now = measured_instant(now or datetime.now(UTC))
    if day is None or day >= horizon_start(now, settings.alert_horizon_days):
        return  # no day, or one the health runs measure (and resolve) themselves
    subject = failure_subject(context["dag"].dag_id, day)
    try:
        _evaluate_dag_failed(settings, client, now, subject, 0.0)
    except Exception:  # noqa: BLE001 - a callback is best effort; the alert stays listed as expired
        log.exception("could not resolve %s after its successful run", subject)


def _evaluate_dag_failed(settings: Settings, client, now: datetime, subject: str, value: float) -> None:
    """``airflow_dag_failed`` alone, for one subject measured at ``value`` (1: failed, 0: a good run), through the
    lifecycle (a partial evaluation: nothing else resolves), delivered through the notifier's channels."""
    from game_analytics.health.alert_store import evaluate_alerts
    from game_analytics.health.measure import Measurement
    from game_analytics.warehouse.client import airflow_bigquery_client

    evaluate_alerts(
        client or airflow_bigquery_client(settings),
        settings,
        now,
        [Measurement("dag_run_failed", subject, value)],
        lambda body: send(settings, body),
        only_rules={DAG_FAILURE_RULE},
    )


def record_failure(context) -> None:
    _record(context, "failed")


def dag_failure_payload(context, settings: Settings, now: datetime | None = None) -> dict:
    """The payload of a DAG run's failure, from a DAG callback's context (id: the run, so a repeat is spotted)."""
    from game_analytics.health.rules import load_rules

    rule = next(r for r in load_rules(settings) if r.name == DAG_FAILURE_RULE)
    dag_id = context["dag"].dag_id
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "")
    reason = context.get("reason") or "a task failed"
    ti = context.get("ti")
    failed_task = f"; task {ti.task_id}" if getattr(ti, "task_id", None) else ""
    created = now or datetime.now(UTC)
    return {
        "notification_id": f"{DAG_FAILURE_RULE}|{dag_id}|{run_id}|dag_run_failed",
        "rule": DAG_FAILURE_RULE,
        "subject": failure_subject(dag_id, _run_day(context)),
        "kind": "firing",
        "severity": rule.severity,
        "summary": rule.summary,
        "message": f"run {run_id} of DAG {dag_id} failed ({reason}{failed_task})",
        "runbook_url": rule.runbook_url(settings),
        "created_at": created.isoformat(),
    }


def fire_dag_failed(context, settings: Settings, client=None, now: datetime | None = None) -> None:
    """A DAG run failed: ``airflow_dag_failed`` fires for its subject at once, through the alert lifecycle, so it
    notifies once (nothing while that subject's alert is already firing) and the health DAG resolves it after a
    successful run of the same subject. The alert state lives in the warehouse: when that cannot be reached, which
    is also when the health DAG fails, the failure is sent directly instead (one notification per failed run)."""
    from game_analytics.health.run import measured_instant

    now = measured_instant(now or datetime.now(UTC))
    subject = failure_subject(context["dag"].dag_id, _run_day(context))
    try:
        _evaluate_dag_failed(settings, client, now, subject, 1.0)
    except Exception:  # noqa: BLE001 - no alert state without the warehouse: never stay silent on a failure
        log.exception("alert state unavailable; sending the failure of %s directly", subject)
        send(settings, dag_failure_payload(context, settings, now))


class DagFailureNotifier(BaseNotifier):
    """The ``on_failure_callback`` notifier of every pipeline DAG: the failed run fires ``airflow_dag_failed``
    (:func:`fire_dag_failed`) through the same channels as every alert (Airflow 3.3 calls ``notifier(context)``)."""

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings

    def notify(self, context) -> None:
        fire_dag_failed(context, self.settings or load_settings())


def outcome_callbacks() -> dict:
    """``DAG(**outcome_callbacks())`` for a pipeline DAG: outcomes recorded, failures notified."""
    return {"on_success_callback": record_success, "on_failure_callback": [record_failure, DagFailureNotifier()]}
