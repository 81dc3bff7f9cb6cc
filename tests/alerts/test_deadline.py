"""The daily DAG's deadline callback (health/deadline.py) with the context Airflow 3.3.2 gives it (its shape was
recorded from a real scheduler: {"dag_run": {...DAGRunResponse...}, "deadline": {"id", "deadline_time"}}): it
fires daily_metrics_late for D once, through the same lifecycle and outbox as the health DAG, and skips re-runs
created after their deadline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.health.alert_store import evaluate_alerts
from game_analytics.health.deadline import daily_metrics_late, lateness

DAY_START = datetime(2024, 2, 29, tzinfo=UTC)  # D = Feb 29; its deadline is Mar 1 06:00 UTC
DEADLINE = DAY_START + timedelta(hours=30)


def context(queued_at: datetime) -> dict:
    return {
        "dag_run": {
            "dag_id": "game_analytics_daily",
            "dag_run_id": "scheduled__2024-02-29T00:00:00+00:00",
            "logical_date": "2024-02-29T00:00:00Z",
            "queued_at": queued_at.isoformat().replace("+00:00", "Z"),
            "run_type": "scheduled",
            "state": "running",
        },
        "deadline": {"id": "01a22ad8", "deadline_time": str(DEADLINE)},  # str() as Airflow sends it
    }


def test_lateness_is_seconds_after_the_day_and_a_run_created_late_is_not_late():
    late = lateness(context(DAY_START + timedelta(hours=26)), DEADLINE + timedelta(seconds=2))
    assert (late.metric, late.subject, late.value) == ("daily_metrics_late_seconds", "2024-02-29", 21602.0)
    assert lateness(context(DEADLINE + timedelta(days=3)), DEADLINE + timedelta(days=3)) is None  # a backfill


@pytest.mark.stack
def test_the_callback_fires_once_and_the_health_dag_then_adds_nothing(warehouse, alert_settings, receiver):
    settings = dataclasses.replace(alert_settings, alert_reminder_hours=0)
    ctx = context(DAY_START + timedelta(hours=26))
    stale = type("M", (), {"metric": "freshness_seconds", "subject": "", "value": 9999.0})()

    def health_run(now):  # what the health DAG evaluates: every rule, D's lateness among the measurements
        return evaluate_alerts(warehouse, settings, now, [lateness(ctx, now), stale], lambda body: None, {})

    assert [s.rule for s in health_run(DEADLINE - timedelta(minutes=5)).firing] == ["data_freshness"]
    fired_at = DEADLINE + timedelta(seconds=2)
    done = daily_metrics_late(ctx, now=fired_at, settings=settings, client=warehouse)
    assert done == "2024-02-29: 1 created, 1 delivered"
    (body,) = receiver.received()
    assert (body["rule"], body["subject"], body["kind"]) == ("daily_metrics_late", "2024-02-29", "firing")
    # A second call (Airflow retrying the callback) adds nothing; the partial evaluation resolved nothing else.
    again = daily_metrics_late(ctx, now=fired_at + timedelta(seconds=1), settings=settings, client=warehouse)
    assert again == "2024-02-29: 0 created, 0 delivered"
    report = health_run(fired_at + timedelta(minutes=5))
    assert report.created == 0
    assert {(s.rule, s.subject) for s in report.firing} == {
        ("daily_metrics_late", "2024-02-29"),
        ("data_freshness", ""),
    }
    assert [b["rule"] for b in receiver.received()] == ["daily_metrics_late"]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_daily_dag_declares_the_deadline_only_when_configured(monkeypatch, enabled):
    """GA_DAILY_DEADLINE_ALERT: off by default, as on Airflow 3.3.2 `airflow dags test` of a DAG with a deadline
    crashes when its run succeeds (found by tests/e2e/test_daily_dag.py)."""
    from airflow.dag_processing.dagbag import DagBag

    from game_analytics.dag_defaults import DAILY_DAG
    from tests.conftest import DAGS_DIR

    monkeypatch.setenv("GA_DAILY_DEADLINE_ALERT", str(enabled).lower())
    dag = DagBag(str(DAGS_DIR / "game_analytics_daily.py")).dags[DAILY_DAG]
    if enabled:
        (alert,) = dag.deadline
        assert alert.interval == timedelta(days=1, hours=6)
    else:
        assert not dag.deadline
