"""``daily_metrics_late`` at the deadline itself: the callback of the daily DAG's Airflow Deadline Alert.

The baseline is the ``pipeline_health`` DAG's ``daily_metrics_late_seconds{day}`` measurement (every 5 minutes,
also when no run of D exists at all). This callback adds Airflow 3's own Deadline Alert: the daily DAG declares
``deadline=daily_deadline_alert()``, i.e. ``DeadlineAlert(reference=DAGRUN_LOGICAL_DATE, interval=1 day + the
rule's threshold (30 h), callback=SyncCallback(daily_metrics_late))``; the logical date is the start of D, so the
deadline is D+1 06:00 UTC. The scheduler deletes the deadline when the run succeeds before it; otherwise, at the
deadline, it runs this callback on an executor with ``context = {"dag_run": {...}, "deadline": {"id",
"deadline_time"}}`` (tried on Airflow 3.3.2 with a scheduler, an executor and a triggerer).

The callback goes through the same lifecycle as every alert: it measures D's lateness and evaluates the one rule
for the one day (a partial evaluation: nothing else resolves), so the health DAG's later measurement of the same
(rule, day) finds it already firing and sends nothing more; it resolves through the health DAG.

Airflow creates a run's deadline when it creates the run, from its logical date: a backfill or manual run of an
old day is past its deadline at birth and the scheduler calls back at once. Such a run was not late, it is a
re-run; the callback skips every run created after its deadline (the health DAG still reports a day that really
has no successful run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

log = logging.getLogger(__name__)

RULE = "daily_metrics_late"
CALLBACK_PATH = "game_analytics.health.deadline.daily_metrics_late"


@dataclass(frozen=True)
class Lateness:
    """A measurement (duck-typed like health/measure.py's): daily_metrics_late_seconds of one day."""

    metric: str
    subject: str
    value: float


def daily_deadline_alert(settings=None):
    """The daily DAG's ``deadline=``: D's run must succeed by D's end + the rule's threshold (D+1 06:00 UTC).

    Airflow layer (imports airflow.sdk when called, at DAG parse). The interval follows the rule's threshold, so
    GA_ALERT_DAILY_METRICS_LATE_THRESHOLD moves the deadline and the health DAG's rule together.
    """
    from airflow.sdk import DeadlineAlert, DeadlineReference, SyncCallback

    from game_analytics.health.rules import load_rules

    (rule,) = [r for r in load_rules(settings) if r.name == RULE]
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,  # the start of D (DayAfterTimetable)
        interval=timedelta(days=1, seconds=rule.threshold),
        callback=SyncCallback(CALLBACK_PATH),
        name=RULE,
    )


def _instant(value) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC)


def lateness(context: dict, now: datetime) -> Lateness | None:
    """D's lateness from a deadline callback's context, or None when the run was created after its deadline."""
    dag_run = context.get("dag_run") or {}
    deadline_time = _instant(context["deadline"]["deadline_time"])
    created = _instant(dag_run.get("queued_at") or dag_run.get("run_after") or now)
    if created >= deadline_time:
        log.info(
            "run %s was created after its deadline %s: a re-run, not late", dag_run.get("dag_run_id"), deadline_time
        )
        return None
    day = _instant(dag_run["logical_date"]).date()
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    return Lateness("daily_metrics_late_seconds", day.isoformat(), (now - end_of_day).total_seconds())


def daily_metrics_late(
    context: dict | None = None, now: datetime | None = None, settings=None, client=None, **_kwargs
) -> str:
    """The SyncCallback of the daily DAG's deadline: fire ``daily_metrics_late`` for D through the lifecycle.

    Airflow passes ``context`` only; ``now``, ``settings`` and ``client`` default to the clock, the environment's
    settings and the task-side BigQuery client (tests pass theirs)."""
    from game_analytics.config import load_settings
    from game_analytics.health.alert_store import evaluate_alerts
    from game_analytics.notify.notifier import deliver
    from game_analytics.warehouse.client import airflow_bigquery_client

    now = now or datetime.now(UTC)
    late = lateness(context or {}, now)
    if late is None:
        return "skipped: the run was created after its deadline"
    settings = settings or load_settings()
    report = evaluate_alerts(
        client or airflow_bigquery_client(settings),
        settings,
        now,
        [late],
        lambda body: deliver(body, settings),
        only_rules={RULE},
    )
    log.info(
        "daily_metrics_late for %s: %.0f s late, %d notification(s) sent", late.subject, late.value, report.delivered
    )
    return f"{late.subject}: {report.created} created, {report.delivered} delivered"
